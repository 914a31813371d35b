package cache

import (
	"errors"
	"fmt"
	"time"
)

// Status describes where a value returned by Get or Fetch came from. It is
// returned by value and never allocates.
type Status struct {
	// Hit is true when the value was fresh in the cache and no upstream call
	// was made or awaited.
	Hit bool
	// Stale is true when the value is past its TTL and was served because
	// the refresh failed (RFC 8767 serve-stale); Err holds the failure.
	Stale bool
	// Coalesced is true when this caller did not start the upstream call but
	// waited for one another caller had started for the same key.
	Coalesced bool
	// Age is how long ago the returned value was stored (zero for a value
	// just fetched).
	Age time.Duration
	// Expires is when the returned value stops (or stopped, if Stale) being
	// fresh. It is the zero Time when nothing was returned.
	Expires time.Time
	// Err is the refresh error behind a stale value: the error of the
	// upstream call that failed, or, while refreshes are throttled by
	// Config.RetryInterval, of the last one that did. Nil unless Stale.
	Err error
}

// Stats is a snapshot of a Cache's counters. All counters but Entries only
// grow, from New on; they are meant for export as Prometheus counters.
type Stats struct {
	// Hits counts Get and Fetch calls answered by a fresh entry.
	Hits uint64
	// Misses counts Fetch calls that found no fresh entry, whatever came
	// next: a new upstream call, joining one in flight, or a stale value
	// served while refreshes are throttled. Get does not count misses (it is
	// the probe before Fetch), so Hits/(Hits+Misses) is the hit ratio of a
	// Get-then-Fetch caller as well as of a Fetch-only one.
	Misses uint64
	// StaleServes counts Fetch calls answered with a stale value because the
	// refresh failed or was throttled after failing.
	StaleServes uint64
	// Coalesced counts Fetch calls that waited for an upstream call started
	// by another caller instead of starting their own.
	Coalesced uint64
	// Evictions counts entries dropped to stay within Config.Size. Entries
	// dropped because their stale window ended, or by Remove and Purge, are
	// not evictions.
	Evictions uint64
	// Loads counts upstream calls started (calls to a Fetch function).
	Loads uint64
	// RefreshFailures counts upstream calls that failed (error, panic or
	// CallTimeout), whether or not a stale value could be served instead.
	// Abandoned calls that end in an error are not failures.
	RefreshFailures uint64
	// Abandoned counts upstream calls cancelled because every caller
	// waiting for them left first.
	Abandoned uint64
	// Entries is the number of entries, fresh and stale, when the snapshot
	// was taken (a gauge, unlike the counters above).
	Entries uint64
	// Running is the number of upstream functions running now, abandoned
	// ones still unwinding included (a gauge; at most Config.MaxCalls when
	// set).
	Running uint64
	// Queued is the number of upstream calls waiting for a slot of
	// Config.MaxCalls now (a gauge).
	Queued uint64
}

// ErrPanic is wrapped by the error Fetch returns when the upstream function
// panicked. The panic is recovered: it never takes the process down.
var ErrPanic = errors.New("cache: upstream call panicked")

// ErrCallTimeout is wrapped, together with context.DeadlineExceeded, by the
// error Fetch returns when the upstream function did not return within
// Config.CallTimeout, typically because it ignored its context.
var ErrCallTimeout = errors.New("cache: upstream call timed out")

// PanicError is the error returned to every waiter of an upstream call that
// panicked. It wraps ErrPanic.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace, for logs.
	Stack []byte
}

// Error names the panic value; the stack is kept out of the message so the
// error stays one line.
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v: %v", ErrPanic, e.Value)
}

// Unwrap returns ErrPanic, and the panic value too when it is an error, so
// errors.Is matches either.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}
