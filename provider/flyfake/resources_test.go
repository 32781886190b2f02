package flyfake_test

import (
	"net/http"
	"testing"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

func TestSecretsVersionBumpsOnEveryWrite(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")

	set, err := h.client.SecretsUpdateWithResponse(ctx(t), "web", flyapi.AppSecretsUpdateRequest{Values: &map[string]string{"A": "1", "B": "2"}})
	wantStatus(t, "set two", set, err, http.StatusOK)
	if got := *set.JSON200.Version; got != 1 {
		t.Errorf("version after the first write = %d, want 1", got)
	}
	one, err := h.client.SecretCreateWithResponse(ctx(t), "web", "C", flyapi.SetAppSecretRequest{Value: new("3")})
	wantStatus(t, "set one", one, err, http.StatusCreated)
	if got := *one.JSON201.Version; got != 2 {
		t.Errorf("version after the second write = %d, want 2", got)
	}
	del, err := h.client.SecretDeleteWithResponse(ctx(t), "web", "A")
	wantStatus(t, "delete", del, err, http.StatusOK)
	missing, err := h.client.SecretDeleteWithResponse(ctx(t), "web", "NEVER_SET")
	wantStatus(t, "delete a name never set", missing, err, http.StatusOK)
	if a, b := *del.JSON200.Version, *missing.JSON200.Version; a != 3 || b != 4 {
		t.Errorf("versions after deletes = %d, %d, want 3, 4", a, b)
	}

	list, err := h.client.SecretsListWithResponse(ctx(t), "web", nil)
	wantStatus(t, "list", list, err, http.StatusOK)
	secrets := *list.JSON200.Secrets
	if len(secrets) != 2 || *secrets[0].Name != "B" || *secrets[1].Name != "C" {
		t.Fatalf("secrets = %+v, want B and C", secrets)
	}
	for _, s := range secrets {
		if s.Value != nil || s.Digest == nil || *s.Digest == "" {
			t.Errorf("listed secret %s: value shown or digest missing", *s.Name)
		}
	}
	shown, err := h.client.SecretsListWithResponse(ctx(t), "web", &flyapi.SecretsListParams{ShowSecrets: new(true)})
	wantStatus(t, "list show_secrets", shown, err, http.StatusOK)
	if v := (*shown.JSON200.Secrets)[0].Value; v == nil || *v != "2" {
		t.Errorf("show_secrets value of B = %v, want 2", v)
	}

	// Machines may only ask for secrets the app has.
	ahead, err := h.client.MachinesCreateWithResponse(ctx(t), "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), MinSecretsVersion: new(5)})
	wantStatus(t, "min_secrets_version ahead", ahead, err, http.StatusBadRequest)
	h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: webConfig("nginx"), MinSecretsVersion: new(4)})
	if got := h.fake.State().Apps[0].Machines[0].MinSecretsVersion; got != 4 {
		t.Errorf("state min_secrets_version = %d, want 4", got)
	}
}

func TestIPAssignments(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")

	assign := func(kind string) string {
		t.Helper()
		resp, err := h.client.AppIPAssignmentsCreateWithResponse(ctx(t), "web", flyapi.AssignIPRequest{Type: new(kind)})
		wantStatus(t, "assign "+kind, resp, err, http.StatusOK)
		return *resp.JSON200.Ip
	}
	v6 := assign("v6")
	shared := assign("shared_v4")
	if again := assign("shared_v4"); again != shared {
		t.Errorf("second shared_v4 = %s, want the app's one %s", again, shared)
	}
	assign("v4")
	assign("private_v6")

	list, err := h.client.AppIPAssignmentsListWithResponse(ctx(t), "web")
	wantStatus(t, "list", list, err, http.StatusOK)
	if n := len(*list.JSON200.Ips); n != 4 {
		t.Errorf("assignments = %d, want 4", n)
	}
	bad, err := h.client.AppIPAssignmentsCreateWithResponse(ctx(t), "web", flyapi.AssignIPRequest{Type: new("v5")})
	wantStatus(t, "assign v5", bad, err, http.StatusBadRequest)

	del, err := h.client.AppIPAssignmentsDeleteWithResponse(ctx(t), "web", v6)
	wantStatus(t, "release", del, err, http.StatusNoContent)
	again, err := h.client.AppIPAssignmentsDeleteWithResponse(ctx(t), "web", v6)
	wantStatus(t, "release again", again, err, http.StatusNotFound)
	for _, ip := range h.fake.State().Apps[0].IPs {
		if ip.IP == v6 {
			t.Errorf("released %s is still assigned", v6)
		}
	}
}

func TestCertificateIssuedByCheck(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")
	ip, err := h.client.AppIPAssignmentsCreateWithResponse(ctx(t), "web", flyapi.AssignIPRequest{Type: new("v6")})
	wantStatus(t, "assign", ip, err, http.StatusOK)

	created, err := h.client.AppCertificatesAcmeCreateWithResponse(ctx(t), "web", flyapi.CreateAcmeCertificateRequest{Hostname: new("www.example.com")})
	wantStatus(t, "create", created, err, http.StatusCreated)
	c := created.JSON201
	if *c.Status == "Ready" || *c.Configured {
		t.Errorf("fresh certificate is already %s", *c.Status)
	}
	req := c.DnsRequirements
	if *req.Cname != "web.fly.dev" || *req.AcmeChallenge.Name != "_acme-challenge.www.example.com" ||
		*req.Ownership.Name != "_fly-ownership.www.example.com" || len(*req.Aaaa) != 1 || (*req.Aaaa)[0] != *ip.JSON200.Ip {
		t.Errorf("dns_requirements = %+v", *req)
	}
	invalid, err := h.client.AppCertificatesAcmeCreateWithResponse(ctx(t), "web", flyapi.CreateAcmeCertificateRequest{Hostname: new("not a host")})
	wantStatus(t, "create invalid", invalid, err, http.StatusUnprocessableEntity)

	check, err := h.client.AppCertificatesCheckWithResponse(ctx(t), "web", "www.example.com")
	wantStatus(t, "check", check, err, http.StatusOK)
	show, err := h.client.AppCertificatesShowWithResponse(ctx(t), "web", "www.example.com")
	wantStatus(t, "show", show, err, http.StatusOK)
	if *check.JSON200.Status != "Ready" || *show.JSON200.Status != "Ready" || !*show.JSON200.Configured {
		t.Errorf("after check: status %s / %s, want Ready", *check.JSON200.Status, *show.JSON200.Status)
	}

	del, err := h.client.AppCertificatesDeleteWithResponse(ctx(t), "web", "www.example.com")
	wantStatus(t, "delete", del, err, http.StatusNoContent)
	gone, err := h.client.AppCertificatesShowWithResponse(ctx(t), "web", "www.example.com")
	wantStatus(t, "show deleted", gone, err, http.StatusNotFound)
}

func TestVolumeDefaultsAndExtend(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)
	h.createApp(t, "web")

	created, err := h.client.VolumesCreateWithResponse(ctx(t), "web", flyapi.CreateVolumeRequest{Name: new("data"), Region: new("ams")})
	wantStatus(t, "create", created, err, http.StatusOK)
	v := created.JSON200
	if *v.SizeGb != 3 || !*v.Encrypted || *v.SnapshotRetention != 5 || !*v.AutoBackupEnabled || *v.State != "created" {
		t.Errorf("defaults: size %d encrypted %v retention %d backups %v state %s",
			*v.SizeGb, *v.Encrypted, *v.SnapshotRetention, *v.AutoBackupEnabled, *v.State)
	}
	id := *v.Id

	extend := func(size int) *flyapi.VolumesExtendResponse {
		t.Helper()
		resp, err := h.client.VolumesExtendWithResponse(ctx(t), "web", id, flyapi.ExtendVolumeRequest{SizeGb: new(size)})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := extend(10); r.StatusCode() != http.StatusOK || *r.JSON200.Volume.SizeGb != 10 {
		t.Fatalf("extend to 10: %d %s", r.StatusCode(), r.Body)
	}
	if r := extend(5); r.StatusCode() != http.StatusBadRequest {
		t.Errorf("shrink to 5: status %d, want 400", r.StatusCode())
	}
	if r := extend(10); r.StatusCode() != http.StatusOK {
		t.Errorf("extend to the same size: status %d, want 200", r.StatusCode())
	}
	got, err := h.client.VolumesGetByIdWithResponse(ctx(t), "web", id)
	wantStatus(t, "get", got, err, http.StatusOK)
	if *got.JSON200.SizeGb != 10 {
		t.Errorf("size after a refused shrink = %d, want 10", *got.JSON200.SizeGb)
	}

	upd, err := h.client.VolumesUpdateWithResponse(ctx(t), "web", id, flyapi.UpdateVolumeRequest{SnapshotRetention: new(14), AutoBackupEnabled: new(false)})
	wantStatus(t, "update", upd, err, http.StatusOK)
	if *upd.JSON200.SnapshotRetention != 14 || *upd.JSON200.AutoBackupEnabled {
		t.Errorf("after update: retention %d backups %v", *upd.JSON200.SnapshotRetention, *upd.JSON200.AutoBackupEnabled)
	}

	// An attached volume cannot be deleted until its machine is destroyed.
	cfg := webConfig("nginx")
	cfg.Mounts = &[]flyapi.FlyMachineMount{{Volume: new(id), Path: new("/data")}}
	m := h.createMachine(t, "web", flyapi.CreateMachineRequest{Config: cfg, Region: new("ams")})
	del, err := h.client.VolumeDeleteWithResponse(ctx(t), "web", id)
	wantStatus(t, "delete attached", del, err, http.StatusPreconditionFailed)
	destroy, err := h.client.MachinesDeleteWithResponse(ctx(t), "web", *m.Id, &flyapi.MachinesDeleteParams{Force: new(true)})
	wantStatus(t, "destroy machine", destroy, err, http.StatusOK)
	del, err = h.client.VolumeDeleteWithResponse(ctx(t), "web", id)
	wantStatus(t, "delete", del, err, http.StatusOK)
	list, err := h.client.VolumesListWithResponse(ctx(t), "web", nil)
	wantStatus(t, "list", list, err, http.StatusOK)
	if len(*list.JSON200) != 0 {
		t.Errorf("volumes after delete = %d, want 0", len(*list.JSON200))
	}
}
