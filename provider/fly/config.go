package fly

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/emothe/emothe/provider/flyapi"
)

// DefaultBaseURL is Fly's public Machines API origin.
const DefaultBaseURL = "https://api.machines.dev"

// EnvBaseURL is the environment variable flyctl reads for another Machines
// API origin, such as a local fake; the provider reads it too.
const EnvBaseURL = "FLY_FLAPS_BASE_URL"

// Config configures New. Only Token is required; the zero value of every
// other field picks a default suited to the real Fly API. Tests shrink the
// intervals to milliseconds.
type Config struct {
	// Token is a Fly API token as `fly tokens create deploy` prints it
	// ("FlyV1 fm2_…"), bare, with a "Bearer " scheme, or several
	// comma-separated macaroons.
	Token string
	// BaseURL is the Machines API origin without /v1 (default DefaultBaseURL).
	BaseURL string
	// HTTPClient sends the requests. The default gives up on a request after
	// 90 seconds; a custom one needs a Timeout above Fly's 60-second waits.
	HTTPClient *http.Client
	// UserAgent names the caller to Fly (default "pulumi-resource-flyio").
	UserAgent string
	// RetryMaxElapsed bounds the retries of one call, and how long
	// AcquireLease waits for a lease someone else holds (default 2 minutes).
	RetryMaxElapsed time.Duration
	// RetryInitialInterval is the first backoff; later ones grow 1.5× with
	// ±50% jitter up to 16× this value (default 500ms).
	RetryInitialInterval time.Duration
	// PollInterval paces WaitHealthy and WaitPostgresReady (default 1s).
	PollInterval time.Duration
}

// APIClient is the Client that talks to the Fly Machines API over HTTP.
type APIClient struct {
	api    *flyapi.Client
	http   *http.Client
	base   string // BaseURL as configured, for errors
	server string // BaseURL + "/v1": the spec's paths carry no /v1
	auth   string // the Authorization header value
	// tokens are the token's parts, scrubbed from any error text Fly sends back.
	tokens    []string
	userAgent string

	retryMaxElapsed time.Duration
	retryInitial    time.Duration
	pollInterval    time.Duration
}

var _ Client = (*APIClient)(nil)

// New checks cfg and returns a client for the Fly Machines API.
func New(cfg Config) (Client, error) {
	auth, tokens, err := authHeader(cfg.Token)
	if err != nil {
		return nil, err
	}
	base, err := baseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &APIClient{
		http:            cfg.HTTPClient,
		base:            base,
		server:          base + "/v1",
		auth:            auth,
		tokens:          tokens,
		userAgent:       cmp.Or(cfg.UserAgent, "pulumi-resource-flyio"),
		retryMaxElapsed: cmp.Or(cfg.RetryMaxElapsed, 2*time.Minute),
		retryInitial:    cmp.Or(cfg.RetryInitialInterval, 500*time.Millisecond),
		pollInterval:    cmp.Or(cfg.PollInterval, time.Second),
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 90 * time.Second}
	}
	c.api, err = flyapi.NewClient(c.server, flyapi.WithHTTPClient(c.http), flyapi.WithRequestEditorFn(c.editRequest))
	if err != nil {
		return nil, fmt.Errorf("fly: building the API client: %w", err)
	}
	return c, nil
}

// baseURL checks the configured origin and trims what would double up in
// request paths: a trailing slash or a /v1 that the client adds itself.
func baseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("fly: Machines API base URL (flyio:apiUrl / "+EnvBaseURL+") %q is not an absolute http(s) URL; "+
			"unset it to use %s or set it to e.g. http://127.0.0.1:4280", raw, DefaultBaseURL)
	}
	base := strings.TrimSuffix(strings.TrimRight(raw, "/"), "/v1")
	return strings.TrimRight(base, "/"), nil
}
