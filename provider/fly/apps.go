package fly

import (
	"context"
	"errors"
	"net/http"

	"github.com/emothe/emothe/provider/flyapi"
)

func (c *APIClient) CreateApp(ctx context.Context, req flyapi.CreateAppRequest) (flyapi.App, error) {
	name := str(req.Name)
	if name == "" {
		return flyapi.App{}, errors.New("fly: CreateApp needs an app name")
	}
	var app flyapi.App
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.AppsCreate(ctx, req) },
		out:  &app,
		// App names are one global namespace, so the name finds the result.
		recover: foundBy(&app, func(ctx context.Context) (flyapi.App, error) { return c.GetApp(ctx, name) }),
	})
	if err != nil || app.Name != nil {
		return app, err
	}
	// The spec's 201 has no body, and a new app can take a moment to appear.
	err = c.do(ctx, call{
		send:    func(ctx context.Context) (*http.Response, error) { return c.api.AppsShow(ctx, name) },
		out:     &app,
		retryOn: []int{http.StatusNotFound},
	})
	return app, err
}

func (c *APIClient) GetApp(ctx context.Context, app string) (flyapi.App, error) {
	var out flyapi.App
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.AppsShow(ctx, app) },
		out:  &out,
	})
	return out, err
}

func (c *APIClient) DeleteApp(ctx context.Context, app string) error {
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.AppsDelete(ctx, app) },
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
