// Package volume is the flyio:index:Volume resource: a Fly volume, a slice of
// NVMe disk on one host that a single machine can mount.
package volume

import (
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// Volume is the controller of the Volume resource.
type Volume struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// Args are the Volume inputs.
type Args struct {
	App               string `pulumi:"app"`
	Name              string `pulumi:"name"`
	Region            string `pulumi:"region"`
	SizeGB            int    `pulumi:"sizeGb"`
	Encrypted         *bool  `pulumi:"encrypted,optional"`
	SnapshotRetention int    `pulumi:"snapshotRetention,optional"`
	AutoBackupEnabled *bool  `pulumi:"autoBackupEnabled,optional"`
	RequireUniqueZone *bool  `pulumi:"requireUniqueZone,optional"`
}

// State is what a Volume records in Pulumi state.
type State struct {
	Args
	VolumeID          string `pulumi:"volumeId"`
	Zone              string `pulumi:"zone"`
	State             string `pulumi:"state"`
	AttachedMachineID string `pulumi:"attachedMachineId"`
	NeedsRestart      bool   `pulumi:"needsRestart"`
}

// Annotate documents the resource.
func (v *Volume) Annotate(a infer.Annotator) {
	a.Describe(&v, "A Fly volume. Its resource ID is the volume ID (`vol_…`), ready for a machine's mount; "+
		"import with `<app>/<volume ID>` (`pulumi import flyio:index:Volume data my-app/vol_123`).\n\n"+
		"Growing `sizeGb` extends the volume in place (attached machines may need a restart: see `needsRestart`); "+
		"volumes never shrink, so a smaller size is an error. Changing `app`, `name`, `region` or `encrypted` "+
		"creates a new, empty volume: protect volumes holding data.")
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.App, "Name of the app the volume belongs to.")
	an.Describe(&a.Name, "Volume name (letters, digits and `_`, up to 30 characters). Machines mount volumes by ID, "+
		"but names group volumes, e.g. one per machine of a process group.")
	an.Describe(&a.Region, "Region to create the volume in, e.g. `ams`.")
	an.Describe(&a.SizeGB, "Size in GB. Increases extend the volume in place; it can never shrink.")
	an.Describe(&a.Encrypted, "Encrypt the volume at rest.")
	an.SetDefault(&a.Encrypted, true)
	an.Describe(&a.SnapshotRetention, "Days to keep snapshots (1-60).")
	an.SetDefault(&a.SnapshotRetention, 5)
	an.Describe(&a.AutoBackupEnabled, "Take daily snapshots.")
	an.SetDefault(&a.AutoBackupEnabled, true)
	an.Describe(&a.RequireUniqueZone, "Place the volume on hardware (a zone) that holds no other volume of the same "+
		"name, so machines sharing a name survive a host failure; creation fails when no such zone has room. "+
		"Only used at creation: changing it later has no effect on an existing volume.")
	an.SetDefault(&a.RequireUniqueZone, true)
}

// Annotate documents the outputs.
func (s *State) Annotate(a infer.Annotator) {
	a.Describe(&s.VolumeID, "Fly's volume ID (`vol_…`), the same as the resource ID.")
	a.Describe(&s.Zone, "Hardware zone the volume lives in; a machine mounting it runs there.")
	a.Describe(&s.State, "Volume state as Fly reports it, e.g. `created`.")
	a.Describe(&s.AttachedMachineID, "ID of the machine the volume is mounted on, if any.")
	a.Describe(&s.NeedsRestart, "Whether the last extension needs the attached machine to restart before the "+
		"file system sees the new size.")
}
