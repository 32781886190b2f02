package fly

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthorizationHeaderForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, token, want string }{
		{"as fly tokens create prints it", "FlyV1 fm2_abc", "FlyV1 fm2_abc"},
		{"bare macaroon", "fm2_abc", "FlyV1 fm2_abc"},
		{"bearer scheme on a macaroon", "Bearer fm2_abc", "FlyV1 fm2_abc"},
		{"several macaroons", "FlyV1 fm2_abc,fm1r_def, fm1a_ghi", "FlyV1 fm2_abc,fm1r_def,fm1a_ghi"},
		{"trailing newline from a file", "FlyV1 fm2_abc\n", "FlyV1 fm2_abc"},
		{"lower-case scheme", "flyv1 fm2_abc", "FlyV1 fm2_abc"},
		{"oauth token", "abc123", "Bearer abc123"},
		{"oauth token with scheme", "Bearer abc123", "Bearer abc123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("Authorization")
				writeJSON(w, http.StatusOK, map[string]string{"name": "a"})
			})
			c := newTestClient(t, h)
			var err error
			c.auth, c.tokens, err = authHeader(tc.token)
			require.NoError(t, err)
			_, err = c.GetApp(context.Background(), "a")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMissingTokenSaysWhereToGetOne(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"", "  ", "FlyV1 ", " , "} {
		_, err := New(Config{Token: tok})
		require.Error(t, err, "token %q", tok)
		for _, want := range []string{"flyio:token", "FLY_API_TOKEN", "fly tokens create deploy"} {
			assert.Contains(t, err.Error(), want)
		}
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	// A malformed token is refused without being quoted.
	_, err := New(Config{Token: "FlyV1 fm2_abc def"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "fm2_abc")

	// A server that echoes the header back (a misbehaving proxy) gets redacted.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flyError(w, http.StatusUnauthorized, "bad token: "+r.Header.Get("Authorization"), "")
	})
	c := newTestClient(t, h)
	_, err = c.GetApp(context.Background(), "a")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
	assert.Contains(t, err.Error(), "401 Unauthorized")
	assert.Contains(t, err.Error(), "flyio:token")

	// Transport errors carry the URL, never headers.
	c, err = func() (*APIClient, error) {
		cl, err := New(Config{Token: testToken, BaseURL: "http://127.0.0.1:1", RetryMaxElapsed: 1})
		if err != nil {
			return nil, err
		}
		return cl.(*APIClient), nil
	}()
	require.NoError(t, err)
	_, err = c.GetApp(context.Background(), "a")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
}

func TestBadBaseURLNamesTheSetting(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Token: testToken, BaseURL: "api.machines.dev"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FLY_FLAPS_BASE_URL")
	assert.Contains(t, err.Error(), `"api.machines.dev"`)
}

func TestBaseURLGetsOneV1(t *testing.T) {
	t.Parallel()
	var path string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		writeJSON(w, http.StatusOK, map[string]string{"name": "a"})
	})
	c := newTestClient(t, h)
	for _, suffix := range []string{"", "/", "/v1", "/v1/"} {
		cl, err := New(Config{Token: testToken, BaseURL: c.server[:len(c.server)-len("/v1")] + suffix})
		require.NoError(t, err)
		_, err = cl.GetApp(context.Background(), "a")
		require.NoError(t, err)
		assert.Equal(t, "/v1/apps/a", path, "base URL suffix %q", suffix)
	}
}
