package flyfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Fly's server decodes requests with Go's encoding/json, and its own client
// (fly-go's flaps, which flyctl uses) sends shapes that a strict reading of
// the spec refuses (docs/fly-api.md#what-fly-accepts-beyond-the-spec).
// The fake serves those requests as Fly does, after recording each one as a
// Violation with Accepted set: the project's own client is held to the strict
// reading, Fly's clients are not refused.

// tolerated is what Fly's leniency made of a request that a strict reading
// refuses.
type tolerated struct {
	body  []byte   // the request body, rewritten to the spec's shapes
	notes []string // what was rewritten, one note per deviation
	unset []string // secret names sent as null: Fly unsets them
}

// tolerate rewrites a request of operation op into the shapes the spec
// allows, the way Fly's server reads it. It returns nil when nothing it
// knows of applies.
func tolerate(op string, r *http.Request, body []byte) *tolerated {
	t := &tolerated{}
	if op == "Machines_create_lease" && len(bytes.TrimSpace(body)) == 0 {
		if ttl, err := strconv.Atoi(r.URL.Query().Get("ttl")); err == nil {
			// flaps leases with ?ttl= and no body.
			t.body = fmt.Appendf(nil, `{"ttl":%d}`, ttl)
			t.notes = append(t.notes, "lease ttl sent as the query ?ttl= with no body")
			return t
		}
	}
	if len(body) == 0 {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	if op == "Secrets_update" {
		t.unset = takeNullSecrets(v)
		for _, name := range t.unset {
			t.notes = append(t.notes, fmt.Sprintf("secret %s unset by a null value", name))
		}
	}
	if op == "Secretkey_set" || op == "Secretkey_generate" {
		if t.base64KeyValue(v) != nil {
			return nil
		}
	}
	v = t.fix(v, "")
	if len(t.notes) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	t.body = buf.Bytes()
	return t
}

// fix drops null members (Go leaves a field it cannot set from null as if
// absent) and reads a boolean autostop as its string form, at any depth.
func (t *tolerated) fix(v any, path string) any {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			at := path + "/" + k
			switch e := v[k].(type) {
			case nil:
				delete(v, k)
				t.notes = append(t.notes, "null at "+at)
			case bool:
				if k == "autostop" {
					v[k] = map[bool]string{true: "stop", false: "off"}[e]
					t.notes = append(t.notes, fmt.Sprintf("boolean autostop %v at %s", e, at))
				}
			default:
				v[k] = t.fix(e, at)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = t.fix(e, path+"/"+strconv.Itoa(i))
		}
	}
	return v
}

// takeNullSecrets removes the null values of {"values": {...}} and returns
// their names, sorted.
func takeNullSecrets(v any) []string {
	body, _ := v.(map[string]any)
	values, _ := body["values"].(map[string]any)
	var names []string
	for name, val := range values {
		if val == nil {
			names = append(names, name)
			delete(values, name)
		}
	}
	sort.Strings(names)
	return names
}

// base64KeyValue reads a secret key's value sent as base64 (fly-go's []byte)
// as the spec's array of byte values.
func (t *tolerated) base64KeyValue(v any) error {
	body, _ := v.(map[string]any)
	s, ok := body["value"].(string)
	if !ok {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	ints := make([]any, len(raw))
	for i, b := range raw {
		ints[i] = json.Number(strconv.Itoa(int(b)))
	}
	body["value"] = ints
	t.notes = append(t.notes, "secret key value sent as base64 where the spec has an array of integers")
	return nil
}

// admit checks a spec operation's request. A request that keeps to the spec
// passes silently. One that breaks it is recorded; it is served when Fly's
// leniency makes it valid (its body rewritten for the handlers), and refused
// with the returned error otherwise.
func (f *Fake) admit(r *http.Request, rt *route) error {
	path := r.URL.RequestURI() // as sent, before kill becomes force
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	setBody(r, body)
	var notes []string
	if q := r.URL.Query(); q.Has("kill") {
		// flyctl's forced destroys send kill=true, which Fly honours as force.
		notes = append(notes, fmt.Sprintf("query parameter kill=%s is not in the spec", q.Get("kill")))
		q.Set("force", q.Get("kill"))
		q.Del("kill")
		r.URL.RawQuery = q.Encode()
	}
	if q := r.URL.Query(); rt.operation == "Machines_wait" && (len(q["state"]) > 1 || strings.Contains(q.Get("state"), ",")) {
		// The spec's description allows several states, repeated or
		// comma-separated; its schema has one, which is what is validated.
		states := strings.Split(strings.Join(q["state"], ","), ",")
		notes = append(notes, fmt.Sprintf("query parameter state has several values %s where the schema has one", strings.Join(states, ",")))
		// Each is checked against the schema's enum: the one that fails it, or
		// else the first, is what the spec validation sees.
		first := states[0]
		enum := rt.spec.Operation.Parameters.GetByInAndName("query", "state").Schema.Value.Enum
		for _, st := range states {
			if !slices.Contains(enum, any(st)) {
				first = st
			}
		}
		q.Set("state", first)
		r.URL.RawQuery = q.Encode()
		rt.waitStates = states
	}
	var strict error
	if rt.validate != nil {
		strict = rt.validate(r)
	}
	if strict == nil {
		f.recordViolation(r, path, rt, notes, true)
		return nil
	}
	t := tolerate(rt.operation, r, body)
	if t == nil {
		f.recordViolation(r, path, rt, []string{strict.Error()}, false)
		return strict
	}
	setBody(r, t.body)
	if r.Header.Get("Content-Type") == "" { // a lease sent with no body has none
		r.Header.Set("Content-Type", "application/json")
	}
	if err := rt.validate(r); err != nil { // a strict failure means validate is set
		f.recordViolation(r, path, rt, []string{err.Error()}, false)
		return err
	}
	rt.unset = t.unset
	f.recordViolation(r, path, rt, append(notes, t.notes...), true)
	return nil
}

// setBody replaces r's body. GetBody too: kin-openapi's validation puts
// back whatever GetBody returns.
func setBody(r *http.Request, body []byte) {
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Body, _ = r.GetBody()
	r.ContentLength = int64(len(body))
}

// recordViolation logs a request that broke the strict reading of the spec;
// notes says how. Nothing is logged when notes is empty.
func (f *Fake) recordViolation(r *http.Request, path string, rt *route, notes []string, accepted bool) {
	if len(notes) == 0 {
		return
	}
	v := Violation{Method: r.Method, Path: path, Error: strings.Join(notes, "; "), Accepted: accepted}
	if rt != nil {
		v.Operation = rt.operation
	}
	f.mu.Lock()
	f.violations = append(f.violations, v)
	f.mu.Unlock()
}
