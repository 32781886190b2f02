package fly

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/provider/flyapi"
)

func TestRetriesTransientStatusesThenSucceeds(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusRequestTimeout, http.StatusBadGateway} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var calls atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) <= 2 {
					flyError(w, status, "try again", "")
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"name": "a", "status": "deployed"})
			})
			app, err := newTestClient(t, h).GetApp(context.Background(), "a")
			require.NoError(t, err)
			assert.Equal(t, "deployed", str(app.Status))
			assert.EqualValues(t, 3, calls.Load())
		})
	}
}

func TestClientErrorsAreFinalAndDescribed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		code   string
	}{{http.StatusBadRequest, "unknown"}, {http.StatusUnprocessableEntity, "name_taken"}} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			var calls atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("fly-request-id", "01REQ")
				flyError(w, tc.status, "Name has already been taken", tc.code)
			})
			_, err := newTestClient(t, h).CreateApp(context.Background(), flyapi.CreateAppRequest{Name: new("a"), OrgSlug: new("personal")})
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.EqualValues(t, 1, calls.Load(), "a %d must not be retried", tc.status)
			assert.Equal(t, APIError{
				StatusCode: tc.status, Code: tc.code, Message: "Name has already been taken",
				RequestID: "01REQ", Method: "POST", Path: "/v1/apps",
			}, *ae)
			assert.Equal(t, "fly: POST /v1/apps: "+strconv.Itoa(tc.status)+" "+http.StatusText(tc.status)+
				": Name has already been taken (status="+tc.code+", request id 01REQ)", err.Error())
		})
	}
}

func TestEmptyBodyErrorIsStillUseful(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("fly-request-id", "01EMPTY")
		w.WriteHeader(http.StatusBadRequest)
	})
	_, err := newTestClient(t, h).CreateVolume(context.Background(), "a", flyapi.CreateVolumeRequest{Name: new("data")})
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"GET /v1/apps/a/volumes", "400 Bad Request", "empty response body", "01EMPTY"} {
		assert.Contains(t, msg, want)
	}
}

func TestNonJSONErrorBodyIsQuoted(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<html>\n  <body>forbidden by policy</body></html>")
	})
	_, err := newTestClient(t, h).GetApp(context.Background(), "a")
	assert.ErrorContains(t, err, "403 Forbidden: <html> <body>forbidden by policy</body></html>")
}

func TestNotFoundMatchesSentinel(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusNotFound, "app not found", "")
	})
	c := newTestClient(t, h)
	_, err := c.GetApp(context.Background(), "a")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.NoError(t, c.DeleteApp(context.Background(), "a"), "deleting a missing app is done")
}

func TestRetryAfterLongerThanBudgetGivesUp(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		flyError(w, http.StatusTooManyRequests, "rate limited", "")
	})
	_, err := newTestClient(t, h).GetApp(context.Background(), "a")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTooManyRequests, ae.StatusCode)
	assert.EqualValues(t, 1, calls.Load(), "waiting an hour exceeds the retry budget, so no second attempt")
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 3*time.Second, parseRetryAfter("3"))
	assert.Zero(t, parseRetryAfter(""))
	assert.Zero(t, parseRetryAfter("soon"))
	d := parseRetryAfter(time.Now().Add(time.Minute).UTC().Format(http.TimeFormat))
	assert.True(t, d > 50*time.Second && d <= time.Minute, "HTTP-date Retry-After gave %s", d)
}

func TestGivesUpWithinMaxElapsed(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusServiceUnavailable, "down", "")
	})
	c := newTestClient(t, h)
	c.retryMaxElapsed = 20 * time.Millisecond
	_, err := c.GetApp(context.Background(), "a")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
}

func TestCancelledContextKeepsLastError(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusServiceUnavailable, "down for maintenance", "")
	})
	c := newTestClient(t, h)
	c.retryInitial, c.retryMaxElapsed = time.Hour, 2*time.Hour // the first backoff outlasts the context
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetApp(ctx, "a")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "down for maintenance")
}

func TestRequestBodiesCarryNoNulls(t *testing.T) {
	t.Parallel()
	var body string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		writeJSON(w, http.StatusOK, map[string]string{"id": "m1"})
	})
	var env map[string]string // nil: a pointer to it marshals as null
	var files []flyapi.FlyFile
	req := flyapi.UpdateMachineRequest{
		Config:            &flyapi.FlyMachineConfig{Image: new("nginx"), Env: &env, Files: &files},
		MinSecretsVersion: new(9007199254740993), // beyond float64 precision
	}
	_, err := newTestClient(t, h).UpdateMachine(context.Background(), "a", "m1", "", req)
	require.NoError(t, err)
	assert.NotContains(t, body, "null")
	assert.JSONEq(t, `{"config":{"image":"nginx"},"min_secrets_version":9007199254740993}`, body)
}

func TestDropNullsKeepsEverythingElse(t *testing.T) {
	t.Parallel()
	out, err := dropNulls([]byte(`{"a":null,"b":{"c":null,"d":[1,{"e":null,"f":"x<y"}]},"g":0.10}`))
	require.NoError(t, err)
	assert.Equal(t, `{"b":{"d":[1,{"f":"x<y"}]},"g":0.10}`, string(out))
	_, err = dropNulls([]byte(`{"a":null`))
	assert.Error(t, err)
}

func TestProgressReporterSkipsRepeats(t *testing.T) {
	t.Parallel()
	var got []string
	r := newReporter(WithProgress(context.Background(), func(m string) { got = append(got, m) }))
	r.printf("a %d", 1)
	r.printf("a %d", 1)
	r.printf("b")
	assert.Equal(t, []string{"a 1", "b"}, got)
	newReporter(context.Background()).printf("no reporter: no panic")
}
