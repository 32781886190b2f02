package machines

import (
	"sync/atomic"
	"time"
)

// TestClock is the wall clock plus an offset a test moves forward, for the
// fake Fly API: leases one step takes have lapsed by the next step without
// waiting out their TTL. Exported for the package's external tests.
type TestClock struct{ offset atomic.Int64 }

func (c *TestClock) Now() time.Time                         { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *TestClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// LapseLeases moves the clock past the lease new machines are created with.
func (c *TestClock) LapseLeases() { c.offset.Add(int64(leaseTTL + time.Second)) }
