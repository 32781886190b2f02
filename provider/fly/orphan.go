package fly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// MetaLaunchedBy records on every machine CreateMachine launches which
// process launched it (Holder), so that the lease its create took can be
// told apart from anyone else's once that process is gone.
const MetaLaunchedBy = "pulumi_flyio_launched_by"

// Holder names this process in the leases it takes (their description) and
// the machines it launches: "pulumi-resource-flyio (pid N on HOST)".
var Holder = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("pulumi-resource-flyio (pid %d on %s)", os.Getpid(), host)
})

var holderPattern = regexp.MustCompile(`^pulumi-resource-flyio \(pid (\d+) on (.*)\)$`)

// orphaned reports whether holder names a process of this host that no
// longer runs: a provider whose engine was killed. Another host's, or one
// whose liveness cannot be read, is never taken for gone.
func orphaned(holder string) bool {
	m := holderPattern.FindStringSubmatch(holder)
	if m == nil {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	host, _ := os.Hostname()
	if err != nil || m[2] != host || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone) // 0 probes, sends nothing
}

// acquire takes the machine's lease. Held by someone else, it is taken
// over at once when its holder is a provider process of this host that no
// longer runs (docs/fly-api.md#interrupted-creates), and otherwise waited
// for within the client's retry budget: a killed deploy's leases (a new
// machine's lasts its whole wait timeout) must not stop the next one.
func (c *APIClient) acquire(ctx context.Context, app, id string, ttl time.Duration) (string, error) {
	nonce, err := c.postLease(ctx, app, id, ttl, "")
	if !hasStatus(err, http.StatusConflict) {
		return nonce, err
	}
	if nonce, ok := c.takeOver(ctx, app, id, ttl); ok {
		return nonce, nil
	}
	return c.postLease(ctx, app, id, ttl, "", http.StatusConflict)
}

// takeOver refreshes, as its own, the machine's current lease when its
// holder is orphaned: the lease's description names it, or, for the lease a
// create took (which has no description), the machine's MetaLaunchedBy.
func (c *APIClient) takeOver(ctx context.Context, app, id string, ttl time.Duration) (string, bool) {
	l, err := c.currentLease(ctx, app, id)
	if err != nil {
		return "", false
	}
	holder := str(l.Description)
	if holder == "" {
		m, err := c.GetMachine(ctx, app, id)
		if err != nil || m.Config == nil || m.Config.Metadata == nil {
			return "", false
		}
		holder = (*m.Config.Metadata)[MetaLaunchedBy]
	}
	if str(l.Nonce) == "" || !orphaned(holder) {
		return "", false
	}
	nonce, err := c.postLease(ctx, app, id, ttl, str(l.Nonce))
	if err != nil {
		return "", false
	}
	newReporter(ctx).printf("machine %s: took over the lease of %s, which no longer runs", id, holder)
	return nonce, true
}
