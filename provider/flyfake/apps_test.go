package flyfake_test

import (
	"net/http"
	"testing"

	"github.com/emothe/emothe/provider/flyapi"
	"github.com/emothe/emothe/provider/flyfake"
)

func TestAppLifecycle(t *testing.T) {
	h := newHarness(t, flyfake.Options{})
	h.expectNoViolations(t)

	resp, err := h.client.AppsCreateWithResponse(ctx(t), flyapi.CreateAppRequest{Name: new("emothe"), OrgSlug: new("personal")})
	wantStatus(t, "create", resp, err, http.StatusCreated)
	if got := resp.HTTPResponse.Header.Get("fly-request-id"); got == "" {
		t.Error("response carries no fly-request-id header")
	}

	again, err := h.client.AppsCreateWithResponse(ctx(t), flyapi.CreateAppRequest{Name: new("emothe"), OrgSlug: new("other")})
	wantStatus(t, "create taken name", again, err, http.StatusUnprocessableEntity)
	if _, status := errorOf(t, again.Body); status != "name_taken" {
		t.Errorf("taken name: status %q, want name_taken", status)
	}

	show, err := h.client.AppsShowWithResponse(ctx(t), "emothe")
	wantStatus(t, "show", show, err, http.StatusOK)
	if got := *show.JSON200.Organization.Slug; got != "personal" {
		t.Errorf("org = %q, want personal", got)
	}
	missing, err := h.client.AppsShowWithResponse(ctx(t), "nope")
	wantStatus(t, "show missing", missing, err, http.StatusNotFound)

	h.createApp(t, "elsewhere")
	list, err := h.client.AppsListWithResponse(ctx(t), &flyapi.AppsListParams{OrgSlug: "personal"})
	wantStatus(t, "list", list, err, http.StatusOK)
	if got := *list.JSON200.TotalApps; got != 2 {
		t.Errorf("personal apps = %d, want 2", got)
	}

	// Fill the app with one of everything, then delete it: all must go.
	vol, err := h.client.VolumesCreateWithResponse(ctx(t), "emothe", flyapi.CreateVolumeRequest{Name: new("data")})
	wantStatus(t, "create volume", vol, err, http.StatusOK)
	cfg := webConfig("nginx")
	cfg.Mounts = &[]flyapi.FlyMachineMount{{Volume: vol.JSON200.Id, Path: new("/data")}}
	h.createMachine(t, "emothe", flyapi.CreateMachineRequest{Config: cfg})
	sec, err := h.client.SecretsUpdateWithResponse(ctx(t), "emothe", flyapi.AppSecretsUpdateRequest{Values: &map[string]string{"K": "v"}})
	wantStatus(t, "set secret", sec, err, http.StatusOK)
	ip, err := h.client.AppIPAssignmentsCreateWithResponse(ctx(t), "emothe", flyapi.AssignIPRequest{Type: new("v6")})
	wantStatus(t, "assign ip", ip, err, http.StatusOK)
	cert, err := h.client.AppCertificatesAcmeCreateWithResponse(ctx(t), "emothe", flyapi.CreateAcmeCertificateRequest{Hostname: new("www.example.com")})
	wantStatus(t, "add cert", cert, err, http.StatusCreated)

	del, err := h.client.AppsDeleteWithResponse(ctx(t), "emothe")
	wantStatus(t, "delete", del, err, http.StatusAccepted)
	gone, err := h.client.AppsShowWithResponse(ctx(t), "emothe")
	wantStatus(t, "show deleted", gone, err, http.StatusNotFound)
	st := h.fake.State()
	if len(st.Apps) != 1 || st.Apps[0].Name != "elsewhere" {
		t.Fatalf("apps after delete = %+v, want only elsewhere", st.Apps)
	}
	// A new app of the same name starts empty.
	h.createApp(t, "emothe")
	for _, a := range h.fake.State().Apps {
		if a.Name == "emothe" && (len(a.Machines)+len(a.Volumes)+len(a.IPs)+len(a.Certificates)+len(a.Secrets.Digests) != 0 || a.Secrets.Version != 0) {
			t.Errorf("recreated app is not empty: %+v", a)
		}
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, flyfake.Options{Token: "secret-token"})
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"secret-token", http.StatusUnauthorized},
		{"FlyV1 secret-token", http.StatusOK},
		{"Bearer secret-token", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1/apps?org_slug=personal", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.header, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusUnauthorized {
			if msg, _ := errorOf(t, body); msg != "Authenticate: token validation error" {
				t.Errorf("401 body error = %q", msg)
			}
		}
		if resp.Header.Get("fly-request-id") == "" {
			t.Errorf("Authorization %q: no fly-request-id header", tc.header)
		}
	}
}
