package fly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/emothe/emothe/provider/flyapi"
)

// goneVolumeStates are the states of a volume on its way out (fly-go's list).
var goneVolumeStates = []string{"scheduling_destroy", "fork_cleanup", "waiting_for_detach", "pending_destroy", "destroying", "destroyed"}

func volumeGone(v flyapi.Volume) bool { return slices.Contains(goneVolumeStates, str(v.State)) }

// CreateVolume recovers from an ambiguous failure by comparing the app's
// volumes before and after: names are not unique (a cluster's nodes all
// mount "pg_data"), so a name alone cannot identify the new one.
func (c *APIClient) CreateVolume(ctx context.Context, app string, req flyapi.CreateVolumeRequest) (flyapi.Volume, error) {
	before, err := c.ListVolumes(ctx, app)
	if err != nil {
		return flyapi.Volume{}, fmt.Errorf("listing volumes of app %s before creating one: %w", app, err)
	}
	var vol flyapi.Volume
	err = c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.VolumesCreate(ctx, app, req) },
		out:  &vol,
		recover: func(ctx context.Context) (bool, error) {
			after, err := c.ListVolumes(ctx, app)
			if err != nil {
				return false, err
			}
			got, found, err := createdSince(before, after,
				func(v flyapi.Volume) string { return str(v.Id) },
				func(v flyapi.Volume) bool {
					return str(v.Name) == str(req.Name) && (req.Region == nil || str(v.Region) == *req.Region)
				})
			vol = got
			return found, err
		},
	})
	return vol, err
}

func (c *APIClient) GetVolume(ctx context.Context, app, id string) (flyapi.Volume, error) {
	var vol flyapi.Volume
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.VolumesGetById(ctx, app, id) },
		out:  &vol,
	})
	if err == nil && volumeGone(vol) {
		return vol, fmt.Errorf("volume %s of app %s is %s: %w", id, app, str(vol.State), ErrNotFound)
	}
	return vol, err
}

// ListVolumes leaves out volumes that are being destroyed.
func (c *APIClient) ListVolumes(ctx context.Context, app string) ([]flyapi.Volume, error) {
	var vols []flyapi.Volume
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.VolumesList(ctx, app, nil) },
		out:  &vols,
	})
	return slices.DeleteFunc(vols, volumeGone), err
}

func (c *APIClient) UpdateVolume(ctx context.Context, app, id string, req flyapi.UpdateVolumeRequest) (flyapi.Volume, error) {
	var vol flyapi.Volume
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.VolumesUpdate(ctx, app, id, req) },
		out:  &vol,
	})
	return vol, err
}

func (c *APIClient) ExtendVolume(ctx context.Context, app, id string, sizeGB int) (flyapi.Volume, bool, error) {
	var resp flyapi.ExtendVolumeResponse
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) {
			return c.api.VolumesExtend(ctx, app, id, flyapi.ExtendVolumeRequest{SizeGb: &sizeGB})
		},
		out: &resp,
	})
	if err != nil {
		return flyapi.Volume{}, false, err
	}
	if resp.Volume == nil {
		return flyapi.Volume{}, false, fmt.Errorf("fly: extending volume %s of app %s: the answer holds no volume", id, app)
	}
	return *resp.Volume, resp.NeedsRestart != nil && *resp.NeedsRestart, nil
}

func (c *APIClient) DeleteVolume(ctx context.Context, app, id string) error {
	err := c.do(ctx, call{
		send: func(ctx context.Context) (*http.Response, error) { return c.api.VolumeDelete(ctx, app, id) },
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
