package fly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/emothe/emothe/provider/flyapi"
)

// maxBody caps how much of a response is read; Fly's largest answers (machine
// lists with configs and events) are far smaller.
const maxBody = 16 << 20

// A call is one logical API request, sent as many times as its retries need.
type call struct {
	// send makes one attempt; it is a generated flyapi method or rawSend.
	send func(ctx context.Context) (*http.Response, error)
	// out, when not nil, receives the JSON body of a 2xx answer.
	out any
	// retryOn lists statuses that are transient for this call only, such as
	// 409 while someone else holds a lease.
	retryOn []int
	// final lists statuses that are answers rather than failures for this
	// call, returned at once as *APIError (a wait's 408).
	final []int
	// recover makes a non-idempotent create safe to retry. After an ambiguous
	// failure (no answer, 408, 5xx) the create may have happened, so before
	// sending again recover looks for its result by a natural key; found ends
	// the call (recover has filled out). If the lookup itself fails the call
	// stops rather than risk a duplicate.
	recover func(ctx context.Context) (found bool, err error)
}

// do runs a call, retrying transient failures (transport errors, 408, 429,
// 5xx) with exponential backoff and jitter, honouring Retry-After, within
// ctx and the client's max elapsed time.
//
// A request that never left (no connection to the API's address) changed
// nothing, so it is never ambiguous: it is retried unsentAttempts times in
// all, then fails with an *UnreachableError, at once for an unknown host.
func (c *APIClient) do(ctx context.Context, cl call) error {
	ambiguous := false
	unsent := 0
	var last error
	op := func() (struct{}, error) {
		if ambiguous && cl.recover != nil {
			found, err := cl.recover(ctx)
			if err != nil {
				return struct{}{}, backoff.Permanent(fmt.Errorf(
					"%w; not retrying because the request may have succeeded and looking for its result failed: %w", last, err))
			}
			if found {
				return struct{}{}, nil
			}
		}
		sent, err := c.attempt(ctx, cl)
		last = err
		var ae *APIError
		switch {
		case err == nil:
			return struct{}{}, nil
		case ctx.Err() != nil:
			return struct{}{}, backoff.Permanent(err)
		case errors.As(err, &ae):
			if slices.Contains(cl.final, ae.StatusCode) || !transient(ae.StatusCode, cl.retryOn) {
				return struct{}{}, backoff.Permanent(err)
			}
			ambiguous = ambiguous || ae.StatusCode == http.StatusRequestTimeout || ae.StatusCode >= 500
			if ae.retryAfter > 0 {
				return struct{}{}, retryAfterError{err, &backoff.RetryAfterError{Duration: ae.retryAfter}}
			}
			return struct{}{}, err
		case errors.As(err, new(*decodeError)):
			return struct{}{}, backoff.Permanent(err)
		case !sent: // no connection, or it failed before the request was out
			unsent++
			if unsent >= unsentAttempts || unknownHost(err) {
				return struct{}{}, backoff.Permanent(&UnreachableError{BaseURL: c.base, Err: err})
			}
			return struct{}{}, err
		default: // no answer, or a cut-off one
			ambiguous = true
			return struct{}{}, err
		}
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(c.backOff()),
		backoff.WithMaxElapsedTime(c.retryMaxElapsed))
	var ra retryAfterError
	if errors.As(err, &ra) {
		err = ra.err
	}
	if err != nil && ctx.Err() != nil && last != nil && !errors.Is(err, last) {
		return fmt.Errorf("%w; last attempt: %w", err, last)
	}
	return err
}

// transient reports whether a status is worth retrying.
func transient(status int, extra []int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		status >= 500 || slices.Contains(extra, status)
}

func (c *APIClient) backOff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.retryInitial
	b.MaxInterval = 16 * c.retryInitial
	return b
}

// retryAfterError carries Fly's Retry-After to backoff.Retry, which looks for
// a *backoff.RetryAfterError in the error's tree.
type retryAfterError struct {
	err   error
	after *backoff.RetryAfterError
}

func (e retryAfterError) Error() string   { return e.err.Error() }
func (e retryAfterError) Unwrap() []error { return []error{e.err, e.after} }

// decodeError is a 2xx answer whose body does not fit; retrying won't help.
type decodeError struct {
	method, path string
	err          error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("fly: %s %s: reading the answer: %v", e.method, e.path, e.err)
}
func (e *decodeError) Unwrap() error { return e.err }

// unsentAttempts bounds the attempts of a call whose requests never leave:
// with the default backoff they span about 2.5 s, so an unreachable API
// fails in seconds, not after the 2-minute retry budget.
const unsentAttempts = 4

// attempt sends a call once and turns the answer into out or an *APIError.
// sent reports whether the whole request went out on a connection, after
// which Fly may have acted on it even if no answer comes back.
func (c *APIClient) attempt(ctx context.Context, cl call) (sent bool, err error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	})
	resp, err := cl.send(ctx)
	if err != nil {
		return wrote.Load(), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return true, fmt.Errorf("fly: %s %s: reading the answer: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := newAPIError(resp, body)
		ae.Message = redact(ae.Message, c.tokens...)
		return true, ae
	}
	if cl.out == nil || len(bytes.TrimSpace(body)) == 0 {
		return true, nil
	}
	if err := json.Unmarshal(body, cl.out); err != nil {
		return true, &decodeError{resp.Request.Method, resp.Request.URL.Path, err}
	}
	return true, nil
}

// unknownHost reports a name the resolver says does not exist, which no
// retry will change.
func unknownHost(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// editRequest adds what every request needs: auth, user agent, and a JSON
// body with no explicit nulls (the spec allows none). Its errors are
// permanent: sending the same body again would fail the same way.
func (c *APIClient) editRequest(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if req.Body == nil || req.Header.Get("Content-Type") != "application/json" {
		return nil
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("fly: reading the %s %s request body: %w", req.Method, req.URL.Path, err))
	}
	clean, err := dropNulls(raw)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("fly: %s %s request body: %w", req.Method, req.URL.Path, err))
	}
	req.Body = io.NopCloser(bytes.NewReader(clean))
	req.ContentLength = int64(len(clean))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(clean)), nil }
	return nil
}

// rawSend builds a request the generated client lacks (the Managed Postgres
// paths); path is relative to BaseURL/v1 and must be escaped already.
func (c *APIClient) rawSend(method, path string, body any) func(context.Context) (*http.Response, error) {
	return func(ctx context.Context) (*http.Response, error) {
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return nil, backoff.Permanent(fmt.Errorf("fly: encoding the %s %s request: %w", method, path, err))
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
		if err != nil {
			return nil, backoff.Permanent(fmt.Errorf("fly: building %s %s: %w", method, path, err))
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if err := c.editRequest(ctx, req); err != nil {
			return nil, err
		}
		return c.http.Do(req)
	}
}

// withNonce sends a machine lease's nonce, when there is one.
func withNonce(nonce string) flyapi.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		if nonce != "" {
			req.Header.Set(nonceHeader, nonce)
		}
		return nil
	}
}

const nonceHeader = "fly-machine-lease-nonce"

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
