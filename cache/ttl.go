package cache

import (
	"math"
	"time"
)

// Forever is the TTL of values that never go stale, such as digest
// references: they stay fresh until evicted.
const Forever = time.Duration(math.MaxInt64)

// MaxNegativeTTL caps how long a negative answer (NXDOMAIN, NODATA, a
// missing well-known document) is cached, following RFC 2308's advice that
// negative caching beyond a few hours is unwise; a new record must become
// visible within an hour.
const MaxNegativeTTL = time.Hour

// ClampTTL returns ttl limited to [min, max]. The upper bound wins when
// min > max, so a cap is never exceeded. Typical uses: DNS answers clamped
// to a floor and ceiling, negative answers by the SOA minimum clamped to
// [0, MaxNegativeTTL], well-known documents by max-age clamped to
// [5m, 48h].
func ClampTTL(ttl, min, max time.Duration) time.Duration {
	if ttl < min {
		ttl = min
	}
	if ttl > max {
		ttl = max
	}
	return ttl
}
