package fly

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emothe/emothe/internal/testenv"
	"github.com/emothe/emothe/provider/flyapi"
)

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(tb testing.TB) string {
	port, err := testenv.FreePort()
	require.NoError(tb, err)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// dialClient is a client for baseURL whose dials go through dial, counted.
// Its retry budget is an hour, so only the attempt cap can end a call.
func dialClient(t *testing.T, baseURL string, dial func(n int64) error) (*APIClient, *atomic.Int64) {
	t.Helper()
	var dials atomic.Int64
	var d net.Dialer
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := dial(dials.Add(1)); err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, addr)
	}}
	c, err := New(Config{Token: testToken, BaseURL: baseURL, HTTPClient: &http.Client{Transport: transport},
		RetryInitialInterval: time.Millisecond, RetryMaxElapsed: time.Hour})
	require.NoError(t, err)
	return c.(*APIClient), &dials
}

// A refused connection is retried a few times, then fails with an error
// that names the URL and the settings; it never claims that the request
// may have succeeded, and looks nothing up, since nothing was sent.
func TestRefusedConnectionFailsFastNamingTheSetting(t *testing.T) {
	t.Parallel()
	url := closedURL(t)
	c, dials := dialClient(t, url, func(int64) error { return nil })
	_, err := c.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	var unreachable *UnreachableError
	require.ErrorAs(t, err, &unreachable)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	for _, want := range []string{url, "flyio:apiUrl", "FLY_FLAPS_BASE_URL"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "may have succeeded")
	assert.EqualValues(t, unsentAttempts, dials.Load(), "the create is tried %d times, and no lookup follows", unsentAttempts)
}

// An unknown host is final at once.
func TestUnknownHostFailsAtOnce(t *testing.T) {
	t.Parallel()
	c, dials := dialClient(t, "http://fly-api.invalid", func(int64) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "fly-api.invalid", IsNotFound: true}}
	})
	_, err := c.GetApp(t.Context(), "web")
	var unreachable *UnreachableError
	require.ErrorAs(t, err, &unreachable)
	assert.Contains(t, err.Error(), "http://fly-api.invalid")
	assert.Contains(t, err.Error(), "flyio:apiUrl")
	assert.EqualValues(t, 1, dials.Load())
}

// A connection refused for a moment (an API restarting) is retried, and as
// the create was never sent it is sent again without a lookup first.
func TestBriefRefusalIsRetried(t *testing.T) {
	t.Parallel()
	var creates, shows atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps", func(w http.ResponseWriter, r *http.Request) {
		creates.Add(1)
		writeJSON(w, http.StatusCreated, map[string]any{"id": "app1", "name": "web"})
	})
	mux.HandleFunc("GET /v1/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		shows.Add(1)
		flyError(w, http.StatusNotFound, "app not found", "")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, dials := dialClient(t, srv.URL, func(n int64) error {
		if n < unsentAttempts {
			return &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		return nil
	})
	app, err := c.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.NoError(t, err)
	assert.Equal(t, "app1", *app.Id)
	assert.EqualValues(t, 1, creates.Load())
	assert.Zero(t, shows.Load(), "nothing was sent, so nothing is looked up")
	assert.EqualValues(t, unsentAttempts, dials.Load())
}

// Once the request is out, a lost answer may hide a create that happened:
// only then does the error say so, after the lookup could not settle it.
func TestMaySucceedOnlyWhenSent(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/apps", func(w http.ResponseWriter, r *http.Request) { hangUp(w) })
	srv := httptest.NewServer(mux)
	c, _ := dialClient(t, srv.URL, func(n int64) error {
		if n > 1 { // the API goes away after the create went out
			return &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		return nil
	})
	t.Cleanup(srv.Close)
	_, err := c.CreateApp(t.Context(), flyapi.CreateAppRequest{Name: new("web"), OrgSlug: new("personal")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "may have succeeded")
	assert.True(t, errors.As(err, new(*UnreachableError)), "the lookup could not reach Fly: %v", err)
}

// BenchmarkUnreachableAPI times how long a call takes to fail against a
// closed port with the default retry settings (the goal is at most 10 s).
func BenchmarkUnreachableAPI(b *testing.B) {
	url := closedURL(b)
	c, err := New(Config{Token: testToken, BaseURL: url})
	require.NoError(b, err)
	start := time.Now()
	for b.Loop() {
		_, err := c.GetApp(context.Background(), "web")
		require.ErrorAs(b, err, new(*UnreachableError))
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s-to-fail")
}
