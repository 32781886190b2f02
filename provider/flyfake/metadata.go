package flyfake

import (
	"context"
	"maps"
	"net/http"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// Metadata lives in the machine's config.metadata. Writing it makes no new
// machine version, and leases do not guard it (Fly's observed behaviour).

func (h handlers) MachinesShowMetadata(_ context.Context, req api.MachinesShowMetadataRequestObject) (api.MachinesShowMetadataResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(deref(m.config.Metadata))
	if out == nil {
		out = map[string]string{}
	}
	return api.MachinesShowMetadata200JSONResponse(out), nil
}

func (h handlers) MachinesUpdateMetadata(_ context.Context, req api.MachinesUpdateMetadataRequestObject) (api.MachinesUpdateMetadataResponseObject, error) {
	if err := h.writeMetadata(req.AppName, req.MachineId, *req.Body, true); err != nil {
		return nil, err
	}
	return api.MachinesUpdateMetadata204Response{}, nil
}

func (h handlers) MachinesPatchMetadata(_ context.Context, req api.MachinesPatchMetadataRequestObject) (api.MachinesPatchMetadataResponseObject, error) {
	if err := h.writeMetadata(req.AppName, req.MachineId, *req.Body, false); err != nil {
		return nil, err
	}
	return api.MachinesPatchMetadata204Response{}, nil
}

// writeMetadata replaces (PUT) or merges (PATCH) a machine's metadata;
// machine_version, when sent, must be the machine's current version.
func (h handlers) writeMetadata(appName, id string, body api.UpdateMetadataRequest, replace bool) error {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(appName, id)
	if err != nil {
		return err
	}
	if v := deref(body.MachineVersion); v != "" && v != m.version {
		return errorf(http.StatusPreconditionFailed, "machine_version %s is not machine %s's version %s: read the metadata again", v, m.id, m.version)
	}
	md := deref(m.config.Metadata)
	if replace || md == nil {
		md = map[string]string{}
	}
	maps.Copy(md, deref(body.Metadata))
	m.config.Metadata = &md
	return nil
}

func (h handlers) MachinesGetMetadataKey(_ context.Context, req api.MachinesGetMetadataKeyRequestObject) (api.MachinesGetMetadataKeyResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	v, ok := deref(m.config.Metadata)[req.Key]
	if !ok {
		return nil, errorf(http.StatusNotFound, "metadata key %q not found on machine %s", req.Key, m.id)
	}
	return api.MachinesGetMetadataKey200JSONResponse{Value: new(v)}, nil
}

func (h handlers) MachinesUpsertMetadata(_ context.Context, req api.MachinesUpsertMetadataRequestObject) (api.MachinesUpsertMetadataResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	if req.Body.Value == nil {
		return nil, errorf(http.StatusBadRequest, "value is required: send {\"value\": \"...\"}")
	}
	md := deref(m.config.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	md[req.Key] = *req.Body.Value
	m.config.Metadata = &md
	return api.MachinesUpsertMetadata204Response{}, nil
}

func (h handlers) MachinesDeleteMetadata(_ context.Context, req api.MachinesDeleteMetadataRequestObject) (api.MachinesDeleteMetadataResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, m, err := h.liveMachine(req.AppName, req.MachineId)
	if err != nil {
		return nil, err
	}
	if md := deref(m.config.Metadata); md != nil {
		delete(md, req.Key)
	}
	return api.MachinesDeleteMetadata204Response{}, nil
}
