package machines

import (
	"cmp"
	"slices"
)

// target is what the group should run, as the planner compares it.
type target struct {
	regions    []string
	count      int    // machines per region
	digest     string // of the group config
	volumeName string // mounted volume name, "" for none
}

// plan is the per-machine work that brings a group to its target.
type plan struct {
	create  []string       // a region per machine to create
	update  []GroupMachine // config changed: updated in place
	replace []GroupMachine // mounted volume changed: destroyed, then created again in its region
	destroy []GroupMachine // in a removed region, or beyond the count
	current int            // machines kept as they are
}

// empty reports whether the group is already at its target.
func (p plan) empty() bool {
	return len(p.create)+len(p.update)+len(p.replace)+len(p.destroy) == 0
}

// newRelease reports whether the plan puts a config on machines that no
// machine runs yet: a release, which its release command must precede.
// Scaling out a config that is already deployed is not one.
func (p plan) newRelease() bool {
	return len(p.update)+len(p.replace) > 0 || (len(p.create) > 0 && p.current == 0)
}

// planRollout compares the group's machines with the target. Machines that
// already match are left alone; within a region, matching machines are kept
// first when the count goes down, then running ones, so scaling down never
// destroys a good machine to keep a stale one.
func planRollout(machines []GroupMachine, t target) plan {
	var p plan
	byRegion := map[string][]GroupMachine{}
	for _, m := range machines {
		byRegion[m.Region] = append(byRegion[m.Region], m)
	}
	current := func(m GroupMachine) bool { return m.ConfigDigest == t.digest && m.VolumeName == t.volumeName }
	for _, region := range t.regions {
		ms := byRegion[region]
		delete(byRegion, region)
		slices.SortFunc(ms, func(a, b GroupMachine) int {
			return cmp.Or(
				rank(!current(a))-rank(!current(b)),
				rank(a.State != "started")-rank(b.State != "started"),
				cmp.Compare(a.ID, b.ID),
			)
		})
		keep := ms[:min(len(ms), t.count)]
		p.destroy = append(p.destroy, ms[len(keep):]...)
		for range t.count - len(keep) {
			p.create = append(p.create, region)
		}
		for _, m := range keep {
			switch {
			case current(m):
				p.current++
			case m.VolumeName != t.volumeName:
				p.replace = append(p.replace, m)
			default:
				p.update = append(p.update, m)
			}
		}
	}
	for _, ms := range byRegion { // regions no longer wanted
		p.destroy = append(p.destroy, ms...)
	}
	byID := func(a, b GroupMachine) int { return cmp.Compare(a.ID, b.ID) }
	slices.SortFunc(p.update, byID)
	slices.SortFunc(p.replace, byID)
	slices.SortFunc(p.destroy, byID)
	return p
}

func rank(b bool) int {
	if b {
		return 1
	}
	return 0
}
