package flyfake

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// The answer check can fail: an answer whose body breaks its schema is
// recorded, one Fly's clients read (a lease inside "data") is not.
func TestCheckResponseRecordsAnswersThatBreakTheSpec(t *testing.T) {
	f := New(Options{})
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"machine with a numeric state", "GET", "/v1/apps/web/machines/m1", `{"id":"m1","state":7}`, 200, "body at /state: value must be a string"},
		{"lease outside data", "POST", "/v1/apps/web/machines/m1/lease", `{"status":"success","data":{"nonce":5}}`, 201, "body at /nonce: value must be a string"},
		{"lease inside data", "POST", "/v1/apps/web/machines/m1/lease", `{"status":"success","data":{"nonce":"abc"}}`, 201, ""},
		{"undocumented error status", "GET", "/v1/apps/web/machines/m1", `{"error":"not found"}`, 404, ""},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		rt := f.route(r)
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		sw := &statusWriter{ResponseWriter: rec, code: tc.code, body: bytes.NewBufferString(tc.body)}
		before := len(f.ResponseViolations())
		f.checkResponse(r, rt, sw)
		got := f.ResponseViolations()[before:]
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s: recorded %+v, want nothing", tc.name, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0].Error, tc.want)):
			t.Errorf("%s: recorded %+v, want one mentioning %q", tc.name, got, tc.want)
		}
	}
}
