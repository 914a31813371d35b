// Package cache is the bounded, TTL-aware cache behind ocidns: DNS answers,
// well-known documents and whole resolutions are kept here so that resolving
// the same name again costs a map lookup, and names keep resolving while
// upstreams are down.
//
// A Cache[K, V] is an LRU of at most Config.Size entries with an expiry per
// entry, stored compactly (see store.go). Its promises:
//
//   - TTLs. A value is fresh for the TTL it was stored with, measured on the
//     monotonic clock (or the injected Config.Now), so wall-clock jumps do not
//     expire or revive entries. The caller picks the TTL: a DNS answer's TTL,
//     a well-known document's clamped max-age, a tag resolution's configured
//     TTL, Forever for digest references. A TTL of zero or less means
//     "always revalidate": the value is never served fresh, only kept as a
//     serve-stale fallback. ClampTTL bounds TTLs.
//
//   - Negative entries. A negative answer (NXDOMAIN, NODATA, 404) is an
//     ordinary value with its own, usually short, TTL: the SOA minimum per
//     RFC 2308, capped by MaxNegativeTTL. Errors (SERVFAIL, timeouts, 5xx,
//     panics) are never stored as answers: the next Fetch asks again.
//
//   - Serve-stale (RFC 8767). An expired entry stays in the cache for
//     Config.StaleWindow (24 h by default) and is returned only when its
//     refresh fails, with Status.Stale set and the failure in Status.Err.
//     After a failed refresh, the key is not refreshed again for
//     Config.RetryInterval (30 s, RFC 8767's failure recheck timer); until
//     then Fetch serves the stale entry without calling upstream. Past the
//     window the entry is dropped and the error returned.
//
//   - Coalescing. Concurrent Fetches of a key that is not fresh share one
//     upstream call (singleflight) under the cancellation rule of
//     internal/flight: the first caller giving up does not fail the
//     others, each caller can give up on its own context, and when the
//     last one has, the call is cancelled. It is bounded by
//     Config.CallTimeout (or the first caller's later deadline); a panic
//     in the call is recovered and returned to every waiter as an error
//     wrapping ErrPanic.
//
//   - Bounded upstream work. With Config.MaxCalls, at most that many
//     upstream functions run at once, abandoned ones still unwinding
//     included; further calls queue for a slot. A Fetch from inside an
//     upstream function of the same Cache runs on its caller's slot, and
//     a function that waits for something other than upstream work gives
//     its slot back for that long (Idle).
//
//   - Counters. Stats reports hits, misses, stale serves, coalesced waits,
//     evictions, upstream loads, refresh failures, abandoned calls, the
//     entry count and the calls running and queued, for export as metrics.
//
// Keys must contain everything that changes the answer (for a resolution:
// the reference, the platform and every option that matters); comparable
// struct keys of strings avoid building a key string on each lookup. Get on
// a fresh entry does not allocate, which keeps a cached resolution free.
package cache
