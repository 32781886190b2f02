package flyfake

import (
	"context"
	"net/http"
	"slices"

	"github.com/emothe/emothe/provider/flyfake/api"
)

// Volume sizes Fly accepts, in GB.
const (
	minVolumeGB = 1
	maxVolumeGB = 500
)

func (a *app) volume(id string) *api.Volume {
	for _, v := range a.volumes {
		if deref(v.Id) == id {
			return v
		}
	}
	return nil
}

func (h handlers) findVolume(appName, id string) (*app, *api.Volume, error) {
	a, err := h.findApp(appName)
	if err != nil {
		return nil, nil, err
	}
	v := a.volume(id)
	if v == nil {
		return nil, nil, errorf(http.StatusNotFound, "volume not found: %s", id)
	}
	return a, v, nil
}

func checkRetention(days *int) error {
	if days != nil && (*days < 1 || *days > 60) {
		return errorf(http.StatusBadRequest, "snapshot_retention %d is out of range: use 1 to 60 days", *days)
	}
	return nil
}

// VolumesCreate applies Fly's documented defaults: 3 GB, encrypted, ext4,
// snapshots kept 5 days, daily backups on.
func (h handlers) VolumesCreate(_ context.Context, req api.VolumesCreateRequestObject) (api.VolumesCreateResponseObject, error) {
	now := h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	b := req.Body
	if deref(b.Name) == "" {
		return nil, errorf(http.StatusBadRequest, "name is required: name the volume")
	}
	size := 3
	if b.SizeGb != nil {
		size = *b.SizeGb
	}
	if size < minVolumeGB || size > maxVolumeGB {
		return nil, errorf(http.StatusBadRequest, "size_gb %d is out of range: use %d to %d", size, minVolumeGB, maxVolumeGB)
	}
	if err := checkRetention(b.SnapshotRetention); err != nil {
		return nil, err
	}
	fstype := "ext4"
	if b.Fstype != nil {
		fstype = *b.Fstype
	}
	if fstype != "ext4" && fstype != "raw" {
		return nil, errorf(http.StatusBadRequest, "fstype %q is invalid: use ext4 or raw", fstype)
	}
	region := deref(b.Region)
	if region == "" {
		region = defaultRegion
	}
	v := &api.Volume{
		Id:                new("vol_" + h.randString(16, lowerAlnum)),
		Name:              b.Name,
		Region:            new(region),
		Zone:              new(h.randString(4, lowerHex)),
		State:             new("created"),
		SizeGb:            new(size),
		Encrypted:         new(b.Encrypted == nil || *b.Encrypted),
		Fstype:            new(fstype),
		SnapshotRetention: new(5),
		AutoBackupEnabled: new(b.AutoBackupEnabled == nil || *b.AutoBackupEnabled),
		CreatedAt:         new(timestamp(now)),
		HostStatus:        new(api.VolumeHostStatusOk),
		Type:              new(api.VolumeTypeLocal),
	}
	if b.SnapshotRetention != nil {
		v.SnapshotRetention = b.SnapshotRetention
	}
	a.volumes = append(a.volumes, v)
	return api.VolumesCreate200JSONResponse(*v), nil
}

func (h handlers) VolumesList(_ context.Context, req api.VolumesListRequestObject) (api.VolumesListResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, err := h.findApp(req.AppName)
	if err != nil {
		return nil, err
	}
	out := []api.Volume{}
	for _, v := range a.volumes {
		out = append(out, *v)
	}
	return api.VolumesList200JSONResponse(out), nil
}

func (h handlers) VolumesGetById(_ context.Context, req api.VolumesGetByIdRequestObject) (api.VolumesGetByIdResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, v, err := h.findVolume(req.AppName, req.VolumeId)
	if err != nil {
		return nil, err
	}
	return api.VolumesGetById200JSONResponse(*v), nil
}

func (h handlers) VolumesUpdate(_ context.Context, req api.VolumesUpdateRequestObject) (api.VolumesUpdateResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, v, err := h.findVolume(req.AppName, req.VolumeId)
	if err != nil {
		return nil, err
	}
	if err := checkRetention(req.Body.SnapshotRetention); err != nil {
		return nil, err
	}
	if req.Body.SnapshotRetention != nil {
		v.SnapshotRetention = new(*req.Body.SnapshotRetention)
	}
	if req.Body.AutoBackupEnabled != nil {
		v.AutoBackupEnabled = new(*req.Body.AutoBackupEnabled)
	}
	return api.VolumesUpdate200JSONResponse(*v), nil
}

// VolumesExtend grows a volume. Volumes never shrink; asking for the current
// size again is a no-op, so a retried extend succeeds.
func (h handlers) VolumesExtend(_ context.Context, req api.VolumesExtendRequestObject) (api.VolumesExtendResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	_, v, err := h.findVolume(req.AppName, req.VolumeId)
	if err != nil {
		return nil, err
	}
	size, current := deref(req.Body.SizeGb), deref(v.SizeGb)
	switch {
	case req.Body.SizeGb == nil:
		return nil, errorf(http.StatusBadRequest, "size_gb is required: send the new size in GB")
	case size < current:
		return nil, errorf(http.StatusBadRequest,
			"size_gb %d is smaller than volume %s's %d GB: volumes can only be extended, never shrunk", size, *v.Id, current)
	case size > maxVolumeGB:
		return nil, errorf(http.StatusBadRequest, "size_gb %d is out of range: use %d to %d", size, current, maxVolumeGB)
	}
	v.SizeGb = new(size)
	return api.VolumesExtend200JSONResponse{Volume: new(*v), NeedsRestart: new(false)}, nil
}

func (h handlers) VolumeDelete(_ context.Context, req api.VolumeDeleteRequestObject) (api.VolumeDeleteResponseObject, error) {
	h.lock()
	defer h.mu.Unlock()
	a, v, err := h.findVolume(req.AppName, req.VolumeId)
	if err != nil {
		return nil, err
	}
	if m := deref(v.AttachedMachineId); m != "" {
		return nil, errorf(http.StatusPreconditionFailed,
			"unable to delete volume %s: it is attached to machine %s; destroy the machine first", *v.Id, m)
	}
	a.volumes = slices.DeleteFunc(a.volumes, func(x *api.Volume) bool { return x == v })
	gone := *v
	gone.State = new("destroyed")
	return api.VolumeDelete200JSONResponse(gone), nil
}
