// Package importflow runs docs/adopting.md against the Fly fake: an app laid
// out the way flyctl deploys one (app, machines, a Postgres app with its
// volume, IPs, a certificate, secrets), created directly through the
// Machines API, is adopted by a stack with `preview --import-file` and
// `pulumi import`. Nothing is created, deleted or replaced on the way; after
// the first up, which writes the secrets and rolls the machines in place,
// the next preview shows no changes.
package importflow

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/fly"
	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
	"github.com/emothe/emothe/tests/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

const (
	app    = "legacy"
	dbApp  = "legacy-db"
	domain = "catalogue.example.org"
	image  = "registry.fly.io/legacy@sha256:5151515151515151515151515151515151515151515151515151515151515151"
)

// legacy is what flyctl left in Fly, by the IDs Fly gave it.
type legacy struct {
	appMachines, dbMachines []string
	volume                  string
	ips                     map[string]string // type → address
}

// deployWithFlyctl creates, through the Machines API alone, an app like
// `fly launch` + `fly deploy` make: two machines of process group `app` in
// mad with flyctl's release metadata, a shared IPv4 and an IPv6, a
// certificate, secrets; and a Postgres on an app of its own with a volume.
func deployWithFlyctl(t *testing.T, c fly.Client, dbPassword string) legacy {
	t.Helper()
	ctx := context.Background()
	l := legacy{ips: map[string]string{}}
	meta := func(version string) *map[string]string {
		return &map[string]string{
			fly.MetaPlatformVersion: fly.PlatformVersionV2, fly.MetaProcessGroup: "app",
			fly.MetaReleaseVersion: version, "fly_release_id": "rel_flyctl" + version, "fly_flyctl_version": "0.3.200",
		}
	}
	for _, name := range []string{app, dbApp} {
		_, err := c.CreateApp(ctx, flyapi.CreateAppRequest{Name: new(name), OrgSlug: new("personal")})
		require.NoError(t, err)
	}
	_, err := c.SetSecrets(ctx, app, map[string]*string{
		"SECRET_KEY_BASE": new(strings.Repeat("k", 64)), "DATABASE_URL": new("postgres://emothe:old@legacy-db.internal:5432/emothe"),
	})
	require.NoError(t, err)
	for range 2 {
		m, err := c.CreateMachine(ctx, app, flyapi.CreateMachineRequest{Region: new("mad"), Config: &flyapi.FlyMachineConfig{
			Image:    new(image),
			Env:      &map[string]string{"PORT": "8080", "PRIMARY_REGION": "mad", "FLY_PROCESS_GROUP": "app"},
			Guest:    &flyapi.FlyMachineGuest{CpuKind: new("shared"), Cpus: new(1), MemoryMb: new(256)},
			Metadata: meta("3"),
			Services: &[]flyapi.FlyMachineService{{
				Protocol: new("tcp"), InternalPort: new(8080),
				Ports: &[]flyapi.FlyMachinePort{
					{Port: new(80), Handlers: &[]string{"http"}, ForceHttps: new(true)},
					{Port: new(443), Handlers: &[]string{"tls", "http"}},
				},
			}},
		}}, "")
		require.NoError(t, err)
		l.appMachines = append(l.appMachines, *m.Id)
	}
	for _, typ := range []string{"shared_v4", "v6"} {
		ip, err := c.AssignIP(ctx, app, flyapi.AssignIPRequest{Type: new(typ)})
		require.NoError(t, err)
		l.ips[typ] = *ip.Ip
	}
	_, err = c.CreateACMECertificate(ctx, app, domain)
	require.NoError(t, err)

	_, err = c.SetSecrets(ctx, dbApp, map[string]*string{"POSTGRES_PASSWORD": new(dbPassword)})
	require.NoError(t, err)
	vol, err := c.CreateVolume(ctx, dbApp, flyapi.CreateVolumeRequest{
		Name: new("pg_data"), Region: new("mad"), SizeGb: new(1), Encrypted: new(true),
	})
	require.NoError(t, err)
	l.volume = *vol.Id
	m, err := c.CreateMachine(ctx, dbApp, flyapi.CreateMachineRequest{Region: new("mad"), Config: &flyapi.FlyMachineConfig{
		Image:    new("postgres:17"),
		Env:      &map[string]string{"PGDATA": "/data/pgdata", "POSTGRES_USER": "emothe", "POSTGRES_DB": "emothe"},
		Guest:    &flyapi.FlyMachineGuest{CpuKind: new("shared"), Cpus: new(1), MemoryMb: new(256)},
		Metadata: meta("1"),
		Mounts:   &[]flyapi.FlyMachineMount{{Volume: new(l.volume), Name: new("pg_data"), Path: new("/data")}},
	}}, "")
	require.NoError(t, err)
	l.dbMachines = append(l.dbMachines, *m.Id)
	return l
}

// importFile is the part of `pulumi preview --import-file`'s output the
// adoption fills in.
type importFile struct {
	NameTable map[string]string `json:"nameTable,omitempty"`
	Resources []map[string]any  `json:"resources"`
}

// fill gives every resource of the import file the ID of what flyctl
// created, by the rules of docs/adopting.md. A type the rules do not know
// fails the test: the runbook would not know it either.
func fill(t *testing.T, f *importFile, l legacy) {
	t.Helper()
	for _, r := range f.Resources {
		if r["component"] == true {
			continue
		}
		// The name of the resource in the program: the file renames
		// resources whose names clash (the component and the app are both
		// named after the app) and keeps the real one as logicalName.
		typ, name := r["type"].(string), r["name"].(string)
		if ln, ok := r["logicalName"].(string); ok && ln != "" {
			name = ln
		}
		var id string
		switch typ {
		case "flyio:index:App":
			id = name
		case "flyio:index:AppSecrets":
			id = strings.TrimSuffix(name, "-secrets")
		case "flyio:index:MachineGroup":
			id = strings.TrimSuffix(name, "-machines") + "/app"
		case "flyio:index:IPAddress":
			addr := l.ips["shared_v4"]
			if strings.HasSuffix(name, "-v6") {
				addr = l.ips["v6"]
			}
			id = name[:strings.Index(name, "-ip-")] + "/" + addr
		case "flyio:index:Certificate":
			id = strings.TrimSuffix(name, "-cert") + "/" + domain
		case "flyio:index:Volume":
			id = strings.TrimSuffix(name, "-data") + "/" + l.volume
		default:
			t.Fatalf("the import file has a %s (%s) that docs/adopting.md does not say how to fill", typ, name)
		}
		r["id"] = id
	}
}

func TestAdoptAnAppDeployedWithFlyctl(t *testing.T) {
	if testing.Short() {
		t.Skip("imports into a stack through the Pulumi CLI and the Fly fake")
	}
	env := harness.New(t, flyfake.Options{BootDelay: 50 * time.Millisecond, HealthDelay: 100 * time.Millisecond})
	client, err := fly.New(fly.Config{Token: env.Fake.Token(), BaseURL: env.APIURL})
	require.NoError(t, err)
	const dbPassword = "legacy-db-password-0123456789"
	l := deployWithFlyctl(t, client, dbPassword)
	before := env.Fake.State()

	// docs/adopting.md step 2: the stack describes what runs. It is worked
	// on in the repository's root, where the CLI runs the real Go language
	// host, as the runbook's commands do.
	s := env.RootStack(t, "dev", map[string]string{
		"emothe:appName": app, "emothe:domain": domain, "emothe:machinesPerRegion": "2",
		"emothe:database": "machine", "emothe:postgresDiskGb": "1", "emothe:image": image,
	}, map[string]string{
		"emothe:secretKeyBase": strings.Repeat("k", 64), "emothe:databasePassword": dbPassword,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Transcript())
		}
	})

	// Step 3: the import file from a preview, IDs filled in.
	file := filepath.Join(t.TempDir(), "adopt.json")
	s.CLI(t, "preview", "--import-file", file)
	var f importFile
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &f))
	fill(t, &f, l)
	b, err = json.Marshal(f)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, b, 0o600))
	var types []string
	for _, r := range f.Resources {
		types = append(types, r["type"].(string))
	}
	for _, want := range []string{"flyio:index:App", "flyio:index:MachineGroup", "flyio:index:Volume", "flyio:index:IPAddress", "flyio:index:Certificate"} {
		assert.Contains(t, types, want)
	}

	// Step 4: import.
	s.CLI(t, "import", "--file", file, "--protect=false", "--generate-code=false", "--yes")
	assert.Equal(t, fingerprint(before), fingerprint(env.Fake.State()), "an import only reads")

	// Step 5: nothing created, deleted or replaced; the imported app,
	// addresses, certificate and volume unchanged; only the secrets (not
	// readable from Fly) and the machines (new secrets version, release
	// command) to update.
	p := s.Preview(t)
	for name, st := range p.Steps {
		switch st.Type {
		case "flyio:index:AppSecrets", "flyio:index:MachineGroup":
			assert.Contains(t, []apitype.OpType{apitype.OpSame, apitype.OpUpdate}, st.Op, "%s: %v", name, st.Diff)
		default:
			assert.Equal(t, apitype.OpSame, st.Op, "%s (%s) after the import: %v", name, st.Type, st.Diff)
		}
	}

	s.Up(t)
	after := env.Fake.State()
	assert.Equal(t, l.appMachines, liveIDs(t, after, app), "the app's machines were updated in place")
	assert.Equal(t, l.dbMachines, liveIDs(t, after, dbApp), "the database machine was updated in place")
	for _, a := range after.Apps {
		switch a.Name {
		case app:
			var addrs []string
			for _, ip := range a.IPs {
				addrs = append(addrs, ip.IP)
			}
			assert.ElementsMatch(t, []string{l.ips["shared_v4"], l.ips["v6"]}, addrs)
			require.Len(t, a.Certificates, 1)
			assert.Equal(t, domain, a.Certificates[0].Hostname)
			for _, m := range a.Machines {
				if m.State != "destroyed" && (*m.Config.Metadata)[fly.MetaProcessGroup] == "app" {
					assert.Equal(t, int(a.Secrets.Version), m.MinSecretsVersion, "machine %s boots with Pulumi's secrets", m.ID)
				}
			}
		case dbApp:
			require.Len(t, a.Volumes, 1)
			assert.Equal(t, l.volume, *a.Volumes[0].Id, "the data stays on its volume")
		}
	}
	assert.Empty(t, s.Preview(t).Changed(), "after the first up, the stack is the app")
}

// liveIDs are the IDs of the app's machines of process group app, sorted.
func liveIDs(t *testing.T, st flyfake.State, name string) []string {
	t.Helper()
	var ids []string
	for _, a := range st.Apps {
		if a.Name != name {
			continue
		}
		for _, m := range a.Machines {
			if m.State != "destroyed" && (*m.Config.Metadata)[fly.MetaProcessGroup] == "app" {
				ids = append(ids, m.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// fingerprint is what a write would change: every machine's version, every
// app's secrets version, addresses, volumes and certificates.
func fingerprint(st flyfake.State) map[string][]string {
	out := map[string][]string{}
	for _, a := range st.Apps {
		f := []string{"secrets " + strconv.FormatUint(a.Secrets.Version, 10)}
		for _, m := range a.Machines {
			f = append(f, "machine "+m.ID+" "+m.Version)
		}
		for _, ip := range a.IPs {
			f = append(f, "ip "+ip.IP)
		}
		for _, v := range a.Volumes {
			f = append(f, "volume "+*v.Id)
		}
		for _, c := range a.Certificates {
			f = append(f, "certificate "+c.Hostname)
		}
		out[a.Name] = f
	}
	return out
}
