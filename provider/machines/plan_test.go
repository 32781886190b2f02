package machines

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func ids(ms []GroupMachine) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestPlanRollout(t *testing.T) {
	m := func(id, region, digest, state string) GroupMachine {
		return GroupMachine{ID: id, Region: region, ConfigDigest: digest, State: state}
	}
	ams1, ams2 := m("a1", "ams", "new", "started"), m("a2", "ams", "new", "started")
	cdg1 := m("c1", "cdg", "new", "started")
	tests := []struct {
		name     string
		machines []GroupMachine
		target   target
		create   []string
		update   []string
		replace  []string
		destroy  []string
		release  bool
	}{{
		name:     "count down destroys the extra only",
		machines: []GroupMachine{ams1, ams2, cdg1},
		target:   target{regions: []string{"ams", "cdg"}, count: 1, digest: "new"},
		destroy:  []string{"a2"},
	}, {
		name:     "unchanged group: nothing to do",
		machines: []GroupMachine{ams1, cdg1},
		target:   target{regions: []string{"ams", "cdg"}, count: 1, digest: "new"},
	}, {
		name:     "new config updates every machine in place",
		machines: []GroupMachine{m("a1", "ams", "old", "started"), m("c1", "cdg", "old", "stopped")},
		target:   target{regions: []string{"ams", "cdg"}, count: 1, digest: "new"},
		update:   []string{"a1", "c1"},
		release:  true,
	}, {
		name:     "removed region: only its machines go",
		machines: []GroupMachine{ams1, ams2, cdg1},
		target:   target{regions: []string{"ams"}, count: 2, digest: "new"},
		destroy:  []string{"c1"},
	}, {
		name:     "added region and count up: creates only",
		machines: []GroupMachine{ams1},
		target:   target{regions: []string{"ams", "cdg"}, count: 2, digest: "new"},
		create:   []string{"ams", "cdg", "cdg"},
	}, {
		name:    "first deploy is a release",
		target:  target{regions: []string{"ams"}, count: 1, digest: "new"},
		create:  []string{"ams"},
		release: true,
	}, {
		name:     "count down keeps the current machine, destroys the stale one",
		machines: []GroupMachine{m("a1", "ams", "old", "started"), m("a2", "ams", "new", "started")},
		target:   target{regions: []string{"ams"}, count: 1, digest: "new"},
		destroy:  []string{"a1"},
	}, {
		name:     "count down keeps running machines over stopped ones",
		machines: []GroupMachine{m("a1", "ams", "new", "stopped"), m("a2", "ams", "new", "started")},
		target:   target{regions: []string{"ams"}, count: 1, digest: "new"},
		destroy:  []string{"a1"},
	}, {
		name:     "new volume replaces, a path change alone updates",
		machines: []GroupMachine{{ID: "a1", Region: "ams", ConfigDigest: "old", VolumeName: "data"}, {ID: "a2", Region: "ams", ConfigDigest: "old", VolumeName: "other"}},
		target:   target{regions: []string{"ams"}, count: 2, digest: "new", volumeName: "data"},
		update:   []string{"a1"},
		replace:  []string{"a2"},
		release:  true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planRollout(tt.machines, tt.target)
			assert.ElementsMatch(t, tt.create, p.create, "create")
			assert.ElementsMatch(t, tt.update, ids(p.update), "update")
			assert.ElementsMatch(t, tt.replace, ids(p.replace), "replace")
			assert.ElementsMatch(t, tt.destroy, ids(p.destroy), "destroy")
			wantEmpty := len(tt.create)+len(tt.update)+len(tt.replace)+len(tt.destroy) == 0
			assert.Equal(t, wantEmpty, p.empty())
			assert.Equal(t, tt.release, p.newRelease(), "release")
		})
	}
}
