package flyfake

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// secretKey is an app's named key. The fake keeps the bytes it was given
// and derives no public key; encrypt, sign and the rest stay unmodelled.
type secretKey struct {
	name, kind string
	value      []int
	createdAt  time.Time
	updatedAt  time.Time
}

func (k *secretKey) view() api.SecretKey {
	return api.SecretKey{Name: new(k.name), Type: new(k.kind), CreatedAt: new(timestamp(k.createdAt)), UpdatedAt: new(timestamp(k.updatedAt))}
}

// SecretkeySet stores a key. Writing one bumps the app's secrets version,
// the counter machines name as min_secrets_version. fly-go sends the value
// as base64, which the fake reads as Fly does (lenient.go).
func (h handlers) SecretkeySet(_ context.Context, req api.SecretkeySetRequestObject) (api.SecretkeySetResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	if err := checkSecretName(req.SecretName); err != nil {
		return nil, err
	}
	if deref(req.Body.Type) == "" || req.Body.Value == nil {
		return nil, errorf(http.StatusBadRequest, `type and value are required: send {"type": "...", "value": <bytes>}`)
	}
	k := a.secretKeys[req.SecretName]
	if k == nil {
		k = &secretKey{name: req.SecretName, createdAt: now}
		if a.secretKeys == nil {
			a.secretKeys = map[string]*secretKey{}
		}
		a.secretKeys[k.name] = k
	}
	k.kind, k.value, k.updatedAt = *req.Body.Type, slices.Clone(*req.Body.Value), now
	a.secretsVersion++
	v := k.view()
	return api.SecretkeySet201JSONResponse{
		Name: v.Name, Type: v.Type, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Version: a.secretsVersionView(),
	}, nil
}

func (h handlers) SecretkeyGet(_ context.Context, req api.SecretkeyGetRequestObject) (api.SecretkeyGetResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	k := a.secretKeys[req.SecretName]
	if k == nil {
		return nil, errorf(http.StatusNotFound, "secret key not found: %s", req.SecretName)
	}
	return api.SecretkeyGet200JSONResponse(k.view()), nil
}

// SecretkeysList lists the app's keys by name, only those of the given
// types when types is set.
func (h handlers) SecretkeysList(_ context.Context, req api.SecretkeysListRequestObject) (api.SecretkeysListResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	var types []string
	if t := deref(req.Params.Types); t != "" {
		types = strings.Split(t, ",")
	}
	out := []api.SecretKey{}
	for _, k := range a.secretKeys {
		if types == nil || slices.Contains(types, k.kind) {
			out = append(out, k.view())
		}
	}
	slices.SortFunc(out, func(x, y api.SecretKey) int { return strings.Compare(*x.Name, *y.Name) })
	return api.SecretkeysList200JSONResponse{SecretKeys: &out}, nil
}

func (h handlers) SecretkeyDelete(_ context.Context, req api.SecretkeyDeleteRequestObject) (api.SecretkeyDeleteResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	delete(a.secretKeys, req.SecretName)
	a.secretsVersion++
	return api.SecretkeyDelete200JSONResponse{Version: a.secretsVersionView()}, nil
}
