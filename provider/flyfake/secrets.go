package flyfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// secretName is what Fly accepts: an environment variable name.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

type secret struct {
	name      string
	value     string
	digest    string
	createdAt time.Time
	updatedAt time.Time
}

// digest is what the API shows instead of a value, so clients can detect
// drift without reading secrets back.
func digest(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:8])
}

func (s *secret) view(withValue bool) api.AppSecret {
	v := api.AppSecret{
		Name:      new(s.name),
		Digest:    new(s.digest),
		CreatedAt: new(timestamp(s.createdAt)),
		UpdatedAt: new(timestamp(s.updatedAt)),
	}
	if withValue {
		v.Value = new(s.value)
	}
	return v
}

func checkSecretName(name string) error {
	if !secretName.MatchString(name) {
		return errorf(http.StatusBadRequest, "secret name %q is invalid: use letters, digits and underscores, not starting with a digit", name)
	}
	return nil
}

// setSecret writes one value; the caller bumps the version once per write.
func (a *app) setSecret(name, value string, now time.Time) (*secret, error) {
	if err := checkSecretName(name); err != nil {
		return nil, err
	}
	s := a.secrets[name]
	if s == nil {
		s = &secret{name: name, createdAt: now}
		a.secrets[name] = s
	}
	s.value, s.digest, s.updatedAt = value, digest(value), now
	return s, nil
}

func (a *app) secretViews(withValues bool) []api.AppSecret {
	out := []api.AppSecret{}
	for _, s := range a.secrets {
		out = append(out, s.view(withValues))
	}
	slices.SortFunc(out, func(x, y api.AppSecret) int {
		switch {
		case *x.Name < *y.Name:
			return -1
		case *x.Name > *y.Name:
			return 1
		}
		return 0
	})
	return out
}

// secretsVersion is the counter Fly bumps on every secrets write; machines
// name it as min_secrets_version. The API's field is a plain integer.
func (a *app) secretsVersionView() *int { return new(int(a.secretsVersion)) }

func (h handlers) SecretsList(_ context.Context, req api.SecretsListRequestObject) (api.SecretsListResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	return api.SecretsList200JSONResponse{Secrets: new(a.secretViews(deref(req.Params.ShowSecrets)))}, nil
}

// SecretsUpdate sets every value given as one write: one version bump. A
// value sent as null unsets its name, as Fly does ("or nil to unset" in the
// spec's description), though the spec's schema has no null values.
func (h handlers) SecretsUpdate(ctx context.Context, req api.SecretsUpdateRequestObject) (api.SecretsUpdateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	if req.Body.Values == nil {
		return nil, errorf(http.StatusBadRequest, "values is required: send {\"values\": {\"NAME\": \"value\"}}")
	}
	unset := nullSecrets(ctx)
	for _, name := range slices.Concat(slices.Collect(maps.Keys(*req.Body.Values)), unset) {
		if err := checkSecretName(name); err != nil {
			return nil, err
		}
	}
	for name, value := range *req.Body.Values {
		if _, err := a.setSecret(name, value, now); err != nil {
			return nil, err
		}
	}
	for _, name := range unset {
		delete(a.secrets, name)
	}
	a.secretsVersion++
	return api.SecretsUpdate200JSONResponse{Secrets: new(a.secretViews(false)), Version: a.secretsVersionView()}, nil
}

// nullSecrets are the names the Secrets_update request in ctx sent as null.
func nullSecrets(ctx context.Context) []string {
	rt, _ := ctx.Value(routeKey{}).(*route)
	if rt == nil {
		return nil
	}
	return rt.unset
}

func (h handlers) SecretGet(_ context.Context, req api.SecretGetRequestObject) (api.SecretGetResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	s := a.secrets[req.SecretName]
	if s == nil {
		return nil, errorf(http.StatusNotFound, "secret not found: %s", req.SecretName)
	}
	return api.SecretGet200JSONResponse(s.view(deref(req.Params.ShowSecrets))), nil
}

func (h handlers) SecretCreate(_ context.Context, req api.SecretCreateRequestObject) (api.SecretCreateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	if req.Body.Value == nil {
		return nil, errorf(http.StatusBadRequest, "value is required: send {\"value\": \"...\"}")
	}
	s, err := a.setSecret(req.SecretName, *req.Body.Value, now)
	if err != nil {
		return nil, err
	}
	a.secretsVersion++
	v := s.view(false)
	return api.SecretCreate201JSONResponse{
		Name: v.Name, Digest: v.Digest, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Version: a.secretsVersionView(),
	}, nil
}

// SecretDelete bumps the version even for a name that is not set: flyctl
// reads the current version by unsetting a name that does not exist.
func (h handlers) SecretDelete(_ context.Context, req api.SecretDeleteRequestObject) (api.SecretDeleteResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	delete(a.secrets, req.SecretName)
	a.secretsVersion++
	return api.SecretDelete200JSONResponse{Version: a.secretsVersionView()}, nil
}
