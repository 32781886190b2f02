package flyfake

import (
	"context"
	"net/http"
	"regexp"
	"slices"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// appName is what Fly accepts as an app name.
var appName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// appCreated answers an app create with 201 and the App, as the API does
// (fly-go decodes it); the spec documents the 201 without a body.
type appCreated api.App

func (r appCreated) VisitAppsCreateResponse(w http.ResponseWriter) error {
	writeJSON(w, http.StatusCreated, api.App(r))
	return nil
}

func (h handlers) AppsCreate(_ context.Context, req api.AppsCreateRequestObject) (api.AppsCreateResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	name, org := deref(req.Body.Name), deref(req.Body.OrgSlug)
	switch {
	case !appName.MatchString(name):
		return nil, errorf(http.StatusBadRequest, "name %q is not a valid app name: use lowercase letters, digits and dashes", name)
	case org == "":
		return nil, errorf(http.StatusBadRequest, "org_slug is required: name the organization (or \"personal\")")
	}
	if _, err := h.findApp(name); err == nil {
		// App names are one global namespace.
		return nil, &apiError{code: http.StatusUnprocessableEntity, msg: "Name has already been taken", status: "name_taken"}
	}
	h.serial++
	a := &app{
		id:        h.randString(12, lowerAlnum),
		numericID: h.serial,
		name:      name,
		org:       org,
		network:   deref(req.Body.Network),
		secrets:   map[string]*secret{},
	}
	h.apps = append(h.apps, a)
	return appCreated(a.view()), nil
}

func (h handlers) AppsShow(_ context.Context, req api.AppsShowRequestObject) (api.AppsShowResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	return api.AppsShow200JSONResponse(a.view()), nil
}

func (h handlers) AppsList(_ context.Context, req api.AppsListRequestObject) (api.AppsListResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	apps := []api.App{}
	for _, a := range h.apps {
		if a.org == req.Params.OrgSlug {
			apps = append(apps, a.view())
		}
	}
	return api.AppsList200JSONResponse{Apps: &apps, TotalApps: new(len(apps))}, nil
}

// AppsDelete removes the app with everything in it: machines, volumes, IPs,
// certificates, secrets and its Postgres attachments.
func (h handlers) AppsDelete(_ context.Context, req api.AppsDeleteRequestObject) (api.AppsDeleteResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	for _, m := range a.machines {
		if m.state != stateDestroyed {
			h.destroy(a, m, now)
		}
	}
	h.apps = slices.DeleteFunc(h.apps, func(x *app) bool { return x == a })
	for _, c := range h.postgres {
		delete(c.attachments, a.name)
	}
	h.notify()
	return api.AppsDelete202Response{}, nil
}

// AppCreateDeployToken hands out the fake's own token, which is the only
// one it accepts.
func (h handlers) AppCreateDeployToken(_ context.Context, req api.AppCreateDeployTokenRequestObject) (api.AppCreateDeployTokenResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	if _, err := h.findApp(req.AppName); err != nil {
		return nil, err
	}
	return api.AppCreateDeployToken200JSONResponse{Token: new("FlyV1 " + h.token)}, nil
}
