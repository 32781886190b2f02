package fly

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/emothe/emothe/provider/flyapi"
)

// SetSecrets writes the non-nil values in one request and unsets the nil
// ones one by one with DELETE: the spec has no null values (fly-go's way to
// unset). It returns the highest version Fly reported.
func (c *APIClient) SetSecrets(ctx context.Context, app string, values map[string]*string) (int, error) {
	set := map[string]string{}
	var unset []string
	for k, v := range values {
		if v == nil {
			unset = append(unset, k)
		} else {
			set[k] = *v
		}
	}
	var version int
	if len(set) > 0 || len(unset) == 0 {
		var resp flyapi.AppSecretsUpdateResp
		err := c.do(ctx, call{
			send: func(ctx context.Context) (*http.Response, error) {
				return c.api.SecretsUpdate(ctx, app, flyapi.AppSecretsUpdateRequest{Values: &set})
			},
			out: &resp,
		})
		if err != nil {
			// Fly might quote a rejected value back; it must not reach logs.
			var ae *APIError
			if errors.As(err, &ae) {
				ae.Message = redact(ae.Message, slices.Collect(maps.Values(set))...)
			}
			return 0, fmt.Errorf("setting secrets %v of app %s: %w", slices.Sorted(maps.Keys(set)), app, err)
		}
		version = secretsVersion(resp.Version)
	}
	slices.Sort(unset)
	for _, name := range unset {
		v, err := c.UnsetSecret(ctx, app, name)
		if err != nil {
			return 0, err
		}
		version = max(version, v)
	}
	return version, nil
}

// UnsetSecret returns 0 when Fly answers 404: the key, or the whole app, is
// gone already, and Fly then reports no version.
func (c *APIClient) UnsetSecret(ctx context.Context, app, name string) (int, error) {
	var resp flyapi.DeleteAppSecretResponse
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.SecretDelete(ctx, app, name) },
		out:  &resp,
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("unsetting secret %s of app %s: %w", name, app, err)
	}
	return secretsVersion(resp.Version), nil
}

func (c *APIClient) ListSecrets(ctx context.Context, app string) ([]flyapi.AppSecret, error) {
	var resp flyapi.AppSecrets
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.SecretsList(ctx, app, nil) },
		out:  &resp,
	})
	if err != nil || resp.Secrets == nil {
		return nil, err
	}
	return *resp.Secrets, nil
}

func secretsVersion(v *int) int {
	if v == nil {
		return 0
	}
	return max(*v, 0)
}
