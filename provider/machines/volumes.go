package machines

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/internal/opt"
)

// volumes hands out the app's unattached volumes of one name to the machines
// a rollout creates, one each, as flyctl does with a fly.toml mount's
// source. The app's volumes are listed once, on the first claim.
type volumes struct {
	client fly.Client
	app    string
	name   string

	mu     sync.Mutex
	free   map[string][]string // region → volume IDs
	loaded bool
}

// claim returns the ID of a free volume in region, never the same twice.
func (v *volumes) claim(ctx context.Context, region string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded {
		all, err := v.client.ListVolumes(ctx, v.app)
		if err != nil {
			return "", fmt.Errorf("listing the volumes of app %s to mount %q: %w", v.app, v.name, err)
		}
		v.free = map[string][]string{}
		for _, vol := range all {
			if opt.Val(vol.Name) == v.name && opt.Val(vol.AttachedMachineId) == "" &&
				!strings.Contains(opt.Val(vol.State), "destroy") {
				r := opt.Val(vol.Region)
				v.free[r] = append(v.free[r], opt.Val(vol.Id))
			}
		}
		v.loaded = true
	}
	ids := v.free[region]
	if len(ids) == 0 {
		return "", fmt.Errorf("config.mounts[0].volume %q: app %s has no unattached volume of that name in region %s: "+
			"create one Volume named %q in %s for every machine there", v.name, v.app, region, v.name, region)
	}
	v.free[region] = ids[1:]
	return ids[0], nil
}
