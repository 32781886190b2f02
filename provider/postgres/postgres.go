// Package postgres is the flyio:index:ManagedPostgres resource: a Fly
// Managed Postgres (MPG) cluster.
package postgres

import (
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/emothe/emothe/provider/config"
)

// ManagedPostgres is the controller of the ManagedPostgres resource.
type ManagedPostgres struct {
	// Fly builds the client of each operation (see config.Factory).
	Fly config.Factory
}

// Args are the ManagedPostgres inputs.
type Args struct {
	Name           string   `pulumi:"name"`
	Org            string   `pulumi:"org,optional"`
	Region         string   `pulumi:"region"`
	Plan           string   `pulumi:"plan"`
	DiskSizeGB     int      `pulumi:"diskSizeGb,optional"`
	PgMajorVersion string   `pulumi:"pgMajorVersion,optional"`
	PoolMode       string   `pulumi:"poolMode,optional"`
	AttachApps     []string `pulumi:"attachApps,optional"`
}

// State is what a ManagedPostgres records in Pulumi state. The connection
// URIs carry the password and are always secret.
type State struct {
	Args
	ClusterID     string `pulumi:"clusterId"`
	Status        string `pulumi:"status"`
	PoolerHost    string `pulumi:"poolerHost"`
	DirectHost    string `pulumi:"directHost"`
	User          string `pulumi:"user"`
	Database      string `pulumi:"database"`
	ConnectionURI string `pulumi:"connectionUri" provider:"secret"`
	DirectURI     string `pulumi:"directUri" provider:"secret"`
}

// Annotate documents the resource.
func (m *ManagedPostgres) Annotate(a infer.Annotator) {
	a.Describe(&m, "A Fly Managed Postgres cluster. Creation waits until the cluster is ready, reporting progress. "+
		"Its resource ID is the cluster ID; import with it (`pulumi import flyio:index:ManagedPostgres db <cluster id>`).\n\n"+
		"The API documents no updates, so changing anything but `attachApps` replaces the cluster, losing its data: "+
		"give the resource Pulumi's `protect` option, and `retainOnDelete` to keep the cluster when the resource "+
		"goes. Attaching records the app as a user of the cluster; it does not set the app's secrets: pass "+
		"`connectionUri` (and `directUri` for migrations) to an AppSecrets resource. The hosts resolve only on the "+
		"organization's private network.")
}

// Annotate documents the inputs.
func (a *Args) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "Cluster name, unique in the organization.")
	an.Describe(&a.Org, "Organization slug. Defaults to the provider's `org` setting.")
	an.Describe(&a.Region, "Region of the cluster, e.g. `ams`.")
	an.Describe(&a.Plan, "Plan: `basic`, `starter`, `launch`, `scale` or `performance` (any case).")
	an.Describe(&a.DiskSizeGB, "Disk size in GB.")
	an.SetDefault(&a.DiskSizeGB, 10)
	an.Describe(&a.PgMajorVersion, "Postgres major version: `16` or `17`.")
	an.SetDefault(&a.PgMajorVersion, "17")
	an.Describe(&a.PoolMode, "PgBouncer pool mode of the pooled endpoint: `session` or `transaction`. Unset "+
		"leaves Fly's default.")
	an.Describe(&a.AttachApps, "Names of apps to attach to the cluster (updated in place).")
}

// Annotate documents the outputs.
func (s *State) Annotate(a infer.Annotator) {
	a.Describe(&s.ClusterID, "Fly's cluster ID, the same as the resource ID.")
	a.Describe(&s.Status, "Cluster status, `ready` once usable.")
	a.Describe(&s.PoolerHost, "Host of the pooled (PgBouncer) endpoint, for applications.")
	a.Describe(&s.DirectHost, "Host of the direct endpoint, for migrations, advisory locks and LISTEN/NOTIFY.")
	a.Describe(&s.User, "Database user of the connection URIs.")
	a.Describe(&s.Database, "Database of the connection URIs.")
	a.Describe(&s.ConnectionURI, "Pooled connection URI with the password, for applications (e.g. DATABASE_URL).")
	a.Describe(&s.DirectURI, "Direct connection URI with the password, for migrations.")
}
