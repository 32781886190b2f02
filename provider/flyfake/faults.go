package flyfake

import (
	"fmt"
	"slices"
)

// Faults make the fake misbehave on purpose, so clients can prove they
// survive what the real API does on a bad day. The zero value injects none.
// Random faults draw from an RNG seeded by Options.Seed, so a run repeats.
type Faults struct {
	// TransientRate is the fraction (0 to 1) of calls answered with
	// TransientStatus instead of being handled.
	TransientRate float64 `json:"transient_rate,omitempty"`
	// TransientStatus is 408, 429 or a 5xx; 503 when zero.
	TransientStatus int `json:"transient_status,omitempty"`
	// DropRate is the fraction (0 to 1) of calls that are handled (the write
	// happens) but whose connection is then cut before the answer is sent.
	DropRate float64 `json:"drop_rate,omitempty"`
	// Operations limits the two rates above to these operationIds (for
	// example "Machines_create", or "Postgres_create" for /v1/postgres);
	// empty means every call.
	Operations []string `json:"operations,omitempty"`
	// UnhealthyChecks keeps every machine check critical forever.
	UnhealthyChecks bool `json:"unhealthy_checks,omitempty"`
	// ReleaseExitCode is the exit code of release-command machines (restart
	// policy "no" with auto_destroy) when they finish.
	ReleaseExitCode int `json:"release_exit_code,omitempty"`
	// OmitZeroExitCode leaves exit_code out of exit events whose code is 0,
	// as Fly may: a client must read a missing code as success.
	OmitZeroExitCode bool `json:"omit_zero_exit_code,omitempty"`
	// CrashExitCode, when not zero, makes every other machine's process exit
	// with this code right after it starts: a service that crashes on boot.
	CrashExitCode int `json:"crash_exit_code,omitempty"`
	// NoCapacityRegions answer machine creates in these regions with Fly's
	// insufficient_capacity error.
	NoCapacityRegions []string `json:"no_capacity_regions,omitempty"`
}

// Validate reports the first setting that is out of range, naming it, the
// bad value and what would be accepted.
func (fl Faults) Validate() error {
	if r := fl.TransientRate; !(r >= 0 && r <= 1) { // also refuses NaN
		return fmt.Errorf("transient_rate %v is out of range: use a fraction from 0 to 1", r)
	}
	if r := fl.DropRate; !(r >= 0 && r <= 1) {
		return fmt.Errorf("drop_rate %v is out of range: use a fraction from 0 to 1", r)
	}
	if s := fl.TransientStatus; s != 0 && s != 408 && s != 429 && (s < 500 || s > 599) {
		return fmt.Errorf("transient_status %d is not transient: use 408, 429 or a 5xx (0 means 503)", s)
	}
	for _, op := range fl.Operations {
		if !specOperations()[op] && !slices.Contains(postgresOperations, op) {
			return fmt.Errorf("operations: %q is not an operationId of the Machines API spec nor one of %v", op, postgresOperations)
		}
	}
	if c := fl.ReleaseExitCode; c < 0 || c > 255 {
		return fmt.Errorf("release_exit_code %d is out of range: use 0 to 255", c)
	}
	if c := fl.CrashExitCode; c < 0 || c > 255 {
		return fmt.Errorf("crash_exit_code %d is out of range: use 1 to 255, or 0 for no crash", c)
	}
	return nil
}

// SetFaults replaces the fault settings.
func (f *Fake) SetFaults(fl Faults) error {
	if err := fl.Validate(); err != nil {
		return fmt.Errorf("flyfake faults: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = fl
	f.notify() // health checks and exits may read differently now
	return nil
}

// Faults returns the current fault settings.
func (f *Fake) Faults() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}

// drawFaults decides whether the call to op fails with a transient status
// (non-zero) or has its response dropped.
func (f *Fake) drawFaults(op string) (transient int, drop bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.faults
	if len(fl.Operations) > 0 && !slices.Contains(fl.Operations, op) {
		return 0, false
	}
	if fl.TransientRate > 0 && f.faultRNG.Float64() < fl.TransientRate {
		if fl.TransientStatus == 0 {
			return 503, false
		}
		return fl.TransientStatus, false
	}
	return 0, fl.DropRate > 0 && f.faultRNG.Float64() < fl.DropRate
}
