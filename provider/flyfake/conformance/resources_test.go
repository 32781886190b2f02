package conformance

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emothe/emothe/provider/flyfake"
)

// fly-go's volume create sends its unset options as null; Fly applies its
// defaults, and the volume mounts on a machine in its region.
func TestVolumeCreateWithFlyGoNulls(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	v := must[volume](t, "create volume")(e.CreateVolume(ctx(t), createVolumeRequest{Name: "pg_data", Region: "mad", SizeGb: new(1)}))
	if v.ID == "" || v.Region != "mad" || v.SizeGb != 1 || !v.Encrypted || !v.AutoBackupEnabled || v.SnapshotRetention != 5 {
		t.Errorf("volume = %+v, want 1 GB in mad with Fly's defaults (encrypted, backups on, 5 days)", v)
	}
	d := must[volume](t, "create with every option null")(e.CreateVolume(ctx(t), createVolumeRequest{Name: "scratch", Region: "mad"}))
	if d.SizeGb != 3 {
		t.Errorf("a volume with size_gb null is %d GB, want Fly's default 3", d.SizeGb)
	}
	cfg := web("postgres:17")
	cfg.Mounts = []machineMount{{Volume: v.ID, Path: "/data"}}
	m := must[machine](t, "launch with the volume")(e.Launch(ctx(t), launchMachineInput{Config: cfg, Region: "mad"}))
	for _, vol := range e.fake.State().Apps[0].Volumes {
		if *vol.Id == v.ID && (vol.AttachedMachineId == nil || *vol.AttachedMachineId != m.ID) {
			t.Errorf("volume %s is attached to %v, want machine %s", v.ID, vol.AttachedMachineId, m.ID)
		}
	}
	nulls := e.accepted()["Volumes_create"]
	if len(nulls) != 2 || !strings.Contains(nulls[0], "null at /auto_backup_enabled") || !strings.Contains(nulls[0], "null at /compute") {
		t.Errorf("recorded volume violations = %q, want the nulls of both creates", nulls)
	}
}

// Secrets are set and unset ({"K": null}) in one write each, every write a
// new version, which machines then ask for as min_secrets_version.
func TestSecretsVersionsAndUnsetByNull(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	set := must[appSecretsUpdateResp](t, "set")(e.UpdateAppSecrets(ctx(t), map[string]*string{"A": new("1"), "B": new("2")}))
	unset := must[appSecretsUpdateResp](t, "unset A")(e.UpdateAppSecrets(ctx(t), map[string]*string{"A": nil, "C": new("3")}))
	if unset.Version <= set.Version {
		t.Errorf("versions %d then %d, want them to go up", set.Version, unset.Version)
	}
	list := must[[]appSecret](t, "list")(e.ListAppSecrets(ctx(t)))
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"B", "C"}) {
		t.Errorf("secrets after unsetting A = %v, want B and C", names)
	}

	key := must[setSecretKeyResp](t, "set a secret key")(e.SetAppSecretKey(ctx(t), "SIGNING", "secret_aead256", bytes.Repeat([]byte{7}, 32)))
	if key.Name != "SIGNING" || key.Type != "secret_aead256" || key.Version <= unset.Version {
		t.Errorf("secret key answer = %+v, want SIGNING at a version after %d", key, unset.Version)
	}

	must[machine](t, "launch at the current version")(e.Launch(ctx(t), launchMachineInput{Config: web("img:1"), MinSecretsVersion: new(key.Version)}))
	_, err := e.Launch(ctx(t), launchMachineInput{Config: web("img:1"), MinSecretsVersion: new(key.Version + 1)})
	wantStatus(t, "launch asking for secrets not written yet", err, http.StatusBadRequest)
	if got := e.accepted(); len(got["Secrets_update"]) != 1 || len(got["Secretkey_set"]) != 1 {
		t.Errorf("recorded violations = %q, want the null unset and the base64 key value", got)
	}
}

// An app's IPs show in its certificates' DNS records; a check answers
// resolved_addresses as an array even before any address exists.
func TestIPAssignmentsAndCertificates(t *testing.T) {
	e := newEnv(t, flyfake.Options{})
	host := "www.example.org"
	cert := must[certificateDetail](t, "create certificate")(e.CreateACMECertificate(ctx(t), host))
	if cert.Hostname != host || cert.Configured {
		t.Errorf("new certificate = %+v, want %s, not configured yet", cert, host)
	}
	_, raw, err := e.CheckCertificate(ctx(t), host)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !bytes.Contains(raw, []byte(`"resolved_addresses":[]`)) {
		t.Errorf("check before any IP = %s, want resolved_addresses []", raw)
	}

	v6 := must[ipAssignment](t, "assign v6")(e.AssignIP(ctx(t), assignIPRequest{Type: "v6"}))
	v4 := must[ipAssignment](t, "assign shared v4")(e.AssignIP(ctx(t), assignIPRequest{Type: "shared_v4"}))
	if again := must[ipAssignment](t, "assign shared v4 again")(e.AssignIP(ctx(t), assignIPRequest{Type: "shared_v4"})); again.IP != v4.IP || !v4.Shared {
		t.Errorf("shared v4 = %+v then %+v, want one shared address", v4, again)
	}
	check, _, err := e.CheckCertificate(ctx(t), host)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !slices.Equal(check.DNSRequirements.A, []string{v4.IP}) || !slices.Equal(check.DNSRequirements.AAAA, []string{v6.IP}) {
		t.Errorf("dns requirements = %+v, want A %s and AAAA %s", check.DNSRequirements, v4.IP, v6.IP)
	}
	if !slices.Contains(check.DNSRecords.ResolvedAddresses, v4.IP) || !check.Configured {
		t.Errorf("check = %+v, want %s resolved and the certificate configured", check, v4.IP)
	}
	if got := e.accepted()["App_IPAssignments_create"]; len(got) != 3 {
		t.Errorf("recorded IP violations = %q, want the nulls of 3 assigns", got)
	}
}

// Managed Postgres: the create flaps sends (nulls included) provisions on
// the fake's clock; get reports ready, and the default user's credentials
// can be read.
func TestManagedPostgresCreateGetCredentials(t *testing.T) {
	e := newEnv(t, flyfake.Options{PostgresReadyDelay: 5 * time.Minute})
	c := must[postgresCluster](t, "create")(e.CreateManagedPostgres(ctx(t), createPostgresRequest{
		Name: "emothe-db", OrgSlug: "personal", Region: "mad", Plan: "starter", PGMajorVersion: "17",
	}))
	if c.ID == "" || c.Status != "provisioning" || c.Region != "mad" || c.Plan != "starter" {
		t.Errorf("created cluster = %+v, want starter in mad, provisioning", c)
	}
	e.clock.Advance(4 * time.Minute)
	if got := must[postgresCluster](t, "get")(e.GetManagedPostgres(ctx(t), c.ID)); got.Status != "provisioning" {
		t.Errorf("status after 4 min = %s, want provisioning", got.Status)
	}
	e.clock.Advance(time.Minute)
	ready := must[postgresCluster](t, "get")(e.GetManagedPostgres(ctx(t), c.ID))
	if ready.Status != "ready" || ready.Endpoints.Primary.Pooler.Host == "" {
		t.Errorf("cluster after 5 min = %+v, want ready with a pooler host", ready)
	}
	creds := must[postgresCredentials](t, "credentials")(e.GetManagedPostgresCredentials(ctx(t), c.ID))
	if creds.Username != "fly-user" || creds.Password == "" {
		t.Errorf("credentials = %+v, want fly-user with a password", creds)
	}
	_, err := e.GetManagedPostgres(ctx(t), "no-such-cluster")
	wantStatus(t, "get an unknown cluster", err, http.StatusNotFound)
	if got := e.accepted()["Postgres_create"]; len(got) != 1 {
		t.Errorf("recorded Postgres violations = %q, want the create's nulls", got)
	}
}
