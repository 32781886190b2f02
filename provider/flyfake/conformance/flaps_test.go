package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// flaps is a Machines API client written the way fly-go's flaps writes its
// requests: sendRequest marshals the input with encoding/json, so a nil
// pointer without omitempty goes out as null, and decodes every 2xx answer
// into the output it was given.
type flaps struct {
	base  string // the API root, ending in /v1
	token string
	app   string
}

// flapsError is a non-2xx answer, as flaps wraps it.
type flapsError struct {
	status int
	body   string
}

func (e *flapsError) Error() string { return fmt.Sprintf("flaps: %d: %s", e.status, e.body) }

// statusOf is the HTTP status of a flaps error, 0 for none.
func statusOf(err error) int {
	if fe, ok := err.(*flapsError); ok {
		return fe.status
	}
	return 0
}

// send is flaps' sendRequest: JSON in (when in is not nil), JSON out (when
// out is not nil), headers as flaps sets them.
func (c *flaps) send(ctx context.Context, method, path string, query url.Values, in, out any, headers map[string]string) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "FlyV1 "+c.token)
	req.Header.Set("User-Agent", "fly-go/conformance")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode > 299 {
		return &flapsError{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("flaps: decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

func nonceHeader(nonce string) map[string]string {
	if nonce == "" {
		return nil
	}
	return map[string]string{"fly-machine-lease-nonce": nonce}
}

func (c *flaps) machinePath(id, rest string) string {
	return "/apps/" + c.app + "/machines/" + id + rest
}

// Launch is flaps.Launch: POST /apps/{app}/machines.
func (c *flaps) Launch(ctx context.Context, in launchMachineInput) (machine, error) {
	var out machine
	err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/machines", nil, in, &out, nil)
	return out, err
}

// Update is flaps.Update: the whole config, under the lease.
func (c *flaps) Update(ctx context.Context, id, nonce string, in launchMachineInput) (machine, error) {
	var out machine
	err := c.send(ctx, http.MethodPost, c.machinePath(id, ""), nil, in, &out, nonceHeader(nonce))
	return out, err
}

func (c *flaps) Get(ctx context.Context, id string) (machine, error) {
	var out machine
	err := c.send(ctx, http.MethodGet, c.machinePath(id, ""), nil, nil, &out, nil)
	return out, err
}

// Start is flaps.Start, which decodes the answer: an empty body is EOF.
func (c *flaps) Start(ctx context.Context, id, nonce string) (machineStartResponse, error) {
	var out machineStartResponse
	err := c.send(ctx, http.MethodPost, c.machinePath(id, "/start"), nil, nil, &out, nonceHeader(nonce))
	return out, err
}

func (c *flaps) Stop(ctx context.Context, id, nonce string, in stopMachineInput) error {
	return c.send(ctx, http.MethodPost, c.machinePath(id, "/stop"), nil, in, nil, nonceHeader(nonce))
}

// Destroy is flaps.Destroy: DELETE with kill=true|false, never force.
func (c *flaps) Destroy(ctx context.Context, id, nonce string, kill bool) error {
	q := url.Values{"kill": {fmt.Sprint(kill)}}
	return c.send(ctx, http.MethodDelete, c.machinePath(id, ""), q, nil, nil, nonceHeader(nonce))
}

func (c *flaps) Cordon(ctx context.Context, id, nonce string) error {
	return c.send(ctx, http.MethodPost, c.machinePath(id, "/cordon"), nil, nil, nil, nonceHeader(nonce))
}

func (c *flaps) Uncordon(ctx context.Context, id, nonce string) error {
	return c.send(ctx, http.MethodPost, c.machinePath(id, "/uncordon"), nil, nil, nil, nonceHeader(nonce))
}

// Wait is flaps' Wait: one state, the version, the timeout clamped to
// [1, 60] seconds.
func (c *flaps) Wait(ctx context.Context, id, version, state string, timeoutSeconds int) (waitResponse, error) {
	q := url.Values{"state": {state}, "timeout": {fmt.Sprint(min(max(timeoutSeconds, 1), 60))}}
	if version != "" {
		q.Set("version", version)
	}
	var out waitResponse
	err := c.send(ctx, http.MethodGet, c.machinePath(id, "/wait"), q, nil, &out, nil)
	return out, err
}

// AcquireLease is flaps.AcquireLease: ?ttl= and no body. With a nonce it
// is flaps.RefreshLease.
func (c *flaps) AcquireLease(ctx context.Context, id, nonce string, ttlSeconds int) (leaseData, error) {
	var out struct {
		Status string    `json:"status"`
		Data   leaseData `json:"data"`
	}
	q := url.Values{"ttl": {fmt.Sprint(ttlSeconds)}}
	err := c.send(ctx, http.MethodPost, c.machinePath(id, "/lease"), q, nil, &out, nonceHeader(nonce))
	return out.Data, err
}

func (c *flaps) ReleaseLease(ctx context.Context, id, nonce string) error {
	return c.send(ctx, http.MethodDelete, c.machinePath(id, "/lease"), nil, nil, nil, nonceHeader(nonce))
}

func (c *flaps) CreateVolume(ctx context.Context, in createVolumeRequest) (volume, error) {
	var out volume
	err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/volumes", nil, in, &out, nil)
	return out, err
}

// UpdateAppSecrets is flaps.UpdateAppSecrets: a nil value unsets its key.
func (c *flaps) UpdateAppSecrets(ctx context.Context, values map[string]*string) (appSecretsUpdateResp, error) {
	var out appSecretsUpdateResp
	in := map[string]any{"values": values}
	err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/secrets", nil, in, &out, nil)
	return out, err
}

func (c *flaps) ListAppSecrets(ctx context.Context) ([]appSecret, error) {
	var out struct {
		Secrets []appSecret `json:"secrets"`
	}
	err := c.send(ctx, http.MethodGet, "/apps/"+c.app+"/secrets", nil, nil, &out, nil)
	return out.Secrets, err
}

// SetAppSecretKey is flaps.SetAppSecretKey: the value is a Go []byte, which
// encoding/json writes as base64.
func (c *flaps) SetAppSecretKey(ctx context.Context, name, typ string, value []byte) (setSecretKeyResp, error) {
	var out setSecretKeyResp
	in := struct {
		Type  string `json:"type"`
		Value []byte `json:"value"`
	}{typ, value}
	err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/secretkeys/"+name, nil, in, &out, nil)
	return out, err
}

func (c *flaps) AssignIP(ctx context.Context, in assignIPRequest) (ipAssignment, error) {
	var out ipAssignment
	err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/ip_assignments", nil, in, &out, nil)
	return out, err
}

func (c *flaps) CreateACMECertificate(ctx context.Context, hostname string) (certificateDetail, error) {
	var out certificateDetail
	in := map[string]string{"hostname": hostname}
	err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/certificates/acme", nil, in, &out, nil)
	return out, err
}

// CheckCertificate keeps the answer raw as well, so a test can tell an
// empty array from a null.
func (c *flaps) CheckCertificate(ctx context.Context, hostname string) (certificateCheck, json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.send(ctx, http.MethodPost, "/apps/"+c.app+"/certificates/"+hostname+"/check", nil, nil, &raw, nil); err != nil {
		return certificateCheck{}, nil, err
	}
	var out certificateCheck
	err := json.Unmarshal(raw, &out)
	return out, raw, err
}

// CreateManagedPostgres, GetManagedPostgres and the default user's
// credentials are the Managed Postgres calls flaps makes; answers come in
// {"data": …}.
func (c *flaps) CreateManagedPostgres(ctx context.Context, in createPostgresRequest) (postgresCluster, error) {
	var out struct{ Data postgresCluster }
	err := c.send(ctx, http.MethodPost, "/postgres", nil, in, &out, nil)
	return out.Data, err
}

func (c *flaps) GetManagedPostgres(ctx context.Context, id string) (postgresCluster, error) {
	var out struct{ Data postgresCluster }
	err := c.send(ctx, http.MethodGet, "/postgres/"+id, nil, nil, &out, nil)
	return out.Data, err
}

func (c *flaps) GetManagedPostgresCredentials(ctx context.Context, id string) (postgresCredentials, error) {
	var out struct{ Data postgresCredentials }
	err := c.send(ctx, http.MethodGet, "/postgres/"+id+"/users/fly-user/credentials", nil, nil, &out, nil)
	return out.Data, err
}

func (c *flaps) CreateApp(ctx context.Context, name, org string) error {
	in := map[string]any{"name": name, "org_slug": org, "network": nil, "app_role_id": nil}
	return c.send(ctx, http.MethodPost, "/apps", nil, in, nil, nil)
}
