package testutil

import (
	"context"
	"sync"
	"time"
)

// Flaky is a fake dependency whose answers follow a script: the n-th call
// returns script[n % len(script)] (nil is a success; an empty script always
// succeeds). It is safe for concurrent use.
type Flaky struct {
	// mu guards script, next, calls and latency.
	mu      sync.Mutex
	script  []error
	next    int
	calls   int
	latency time.Duration
}

// NewFlaky returns a Flaky that answers from script.
func NewFlaky(script ...error) *Flaky {
	return &Flaky{script: append([]error(nil), script...)}
}

// Call answers the next entry of the script, after the latency if one is
// set. It returns the context's error instead when ctx ends first (or has
// ended already); such a call does not advance the script.
func (f *Flaky) Call(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.calls++
	latency := f.latency
	f.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) == 0 {
		return nil
	}
	err := f.script[f.next%len(f.script)]
	f.next++
	return err
}

// SetScript replaces the script and starts it from its first entry; no
// entries means every call succeeds (the dependency has healed).
func (f *Flaky) SetScript(script ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append([]error(nil), script...)
	f.next = 0
}

// SetLatency makes every later call take d (0 for none).
func (f *Flaky) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Calls returns how many calls were made.
func (f *Flaky) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}
