package flyfake

import (
	"maps"
	"net/http"
	"time"
)

// Call is one /v1 request as the fake saw it.
type Call struct {
	Seq       int    `json:"seq"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Operation string `json:"operation,omitempty"` // empty when the path matches no operation
	MachineID string `json:"machine_id,omitempty"`
	Write     bool   `json:"write"`
	Status    int    `json:"status"` // 0 while the call is still being answered
	// Dropped calls were handled but their connection was cut before the
	// answer (Status) was sent.
	Dropped bool `json:"dropped,omitempty"`
	// At is when the request arrived, on the fake's clock, before
	// Options.Latency; Took is how long it took to answer on that clock.
	// Together they show what an operation spent its time waiting on.
	At   time.Time     `json:"at"`
	Took time.Duration `json:"took"`
}

// Calls summarises the /v1 traffic since the fake started or ResetCalls.
type Calls struct {
	Reads      int            `json:"reads"`  // GET and HEAD calls
	Writes     int            `json:"writes"` // every other method
	Operations map[string]int `json:"operations"`
	Log        []Call         `json:"log"` // in arrival order
}

type callLog struct {
	reads, writes int
	ops           map[string]int
	log           []*Call
}

func (f *Fake) startCall(r *http.Request, rt *route, at time.Time) *Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &Call{
		At:        at,
		Seq:       len(f.calls.log) + 1,
		Method:    r.Method,
		Path:      r.URL.RequestURI(),
		Operation: rt.operation,
		MachineID: rt.machineID,
		Write:     r.Method != http.MethodGet && r.Method != http.MethodHead,
	}
	if c.Write {
		f.calls.writes++
	} else {
		f.calls.reads++
	}
	if c.Operation != "" {
		f.calls.ops[c.Operation]++
	}
	f.calls.log = append(f.calls.log, c)
	return c
}

func (f *Fake) finishCall(c *Call, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Status = status
	c.Took = f.clock.Now().Sub(c.At)
}

func (f *Fake) markDropped(c *Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Dropped = true
}

// Calls returns a copy of the call counts and log.
func (f *Fake) Calls() Calls {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := Calls{
		Reads:      f.calls.reads,
		Writes:     f.calls.writes,
		Operations: maps.Clone(f.calls.ops),
		Log:        make([]Call, len(f.calls.log)),
	}
	for i, c := range f.calls.log {
		out.Log[i] = *c
	}
	return out
}

// ResetCalls forgets the calls so far, so a test can count one step alone.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = callLog{ops: map[string]int{}}
}
