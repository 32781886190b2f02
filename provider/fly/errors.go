package fly

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound matches (errors.Is) any 404 or 410 *APIError, and the errors the
// Get methods return for objects Fly still lists but that are destroyed.
var ErrNotFound = errors.New("fly: not found")

// APIError is a non-2xx answer from Fly.
type APIError struct {
	StatusCode int
	// Code is Fly's machine-readable "status" field, e.g.
	// insufficient_capacity or name_taken; often empty.
	Code string
	// Message is Fly's "error" (or "message") text, or the start of a body
	// that is not JSON.
	Message string
	// RequestID is the fly-request-id header, which Fly support asks for.
	RequestID string
	Method    string
	Path      string

	retryAfter time.Duration // from a Retry-After header
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fly: %s %s: %d %s: ", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(e.Message)
	} else {
		b.WriteString("empty response body")
	}
	var notes []string
	if e.Code != "" {
		notes = append(notes, "status="+e.Code)
	}
	if e.RequestID != "" {
		notes = append(notes, "request id "+e.RequestID)
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
	}
	if e.StatusCode == http.StatusUnauthorized {
		b.WriteString("; check the API token (flyio:token / FLY_API_TOKEN), e.g. a fresh one from `fly tokens create deploy`")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for 404 and 410 (gone) answers.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone)
}

// hasStatus reports whether err is an *APIError with one of the codes.
func hasStatus(err error, codes ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.StatusCode == c {
			return true
		}
	}
	return false
}

// Refused reports whether Fly answered that it does not serve the call at
// all (404, 405, 501): the Machines API host may answer so to the Managed
// Postgres calls that no Fly client makes there (list, delete, attach;
// docs/fly-api.md#postgres-calls-no-client-makes).
func Refused(err error) bool {
	return hasStatus(err, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented)
}

// newAPIError reads Fly's error body: {"error": …, "status": …} per the
// spec, {"message": …} from older endpoints, or anything else (a proxy's
// HTML page), of which the start is kept.
func newAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("fly-request-id"),
		Method:     resp.Request.Method,
		Path:       resp.Request.URL.Path,
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After")),
	}
	var wire struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	if json.Unmarshal(body, &wire) == nil && (wire.Error != "" || wire.Message != "" || wire.Status != "") {
		e.Message, e.Code = cmp.Or(wire.Error, wire.Message), wire.Status
		return e
	}
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	e.Message = text
	return e
}

// parseRetryAfter reads seconds or an HTTP date; 0 means absent or unreadable.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// UnreachableError is a call none of whose requests reached Fly: no
// connection could be made to the API's address, so nothing happened there.
type UnreachableError struct {
	BaseURL string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("fly: cannot reach the Fly Machines API at %s: %v; check the provider setting flyio:apiUrl "+
		"and the %s environment variable (unset both to use %s)", e.BaseURL, e.Err, EnvBaseURL, DefaultBaseURL)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// MachineExitedError reports a machine that stopped, failed or was destroyed
// while a wait expected it to be running.
type MachineExitedError struct {
	ID    string
	State string
	// ExitCode is the main process's exit code after its last start, or -1
	// when Fly recorded none.
	ExitCode  int
	OOMKilled bool
}

func (e *MachineExitedError) Error() string {
	msg := fmt.Sprintf("fly: machine %s exited (state %s", e.ID, e.State)
	if e.ExitCode >= 0 {
		msg += fmt.Sprintf(", exit code %d", e.ExitCode)
	}
	if e.OOMKilled {
		msg += ", killed for running out of memory"
	}
	return msg + "); see `fly logs -i " + e.ID + "`"
}
