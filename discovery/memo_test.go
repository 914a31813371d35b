package discovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
)

// TestMemoKeepsValuesNotErrors: a Memo calls fn once a key and returns the
// kept value as a hit after, whatever the TTL fn gave; a failed fetch is
// not kept, so the next Fetch asks again.
func TestMemoKeepsValuesNotErrors(t *testing.T) {
	var m discovery.Memo
	calls := 0
	fetch := func(t *testing.T, key string, err error) (any, bool, error) {
		v, hit, stale, ferr := m.Fetch(context.Background(), key, func(context.Context) (any, time.Duration, error) {
			calls++
			if err != nil {
				return nil, 0, err
			}
			return key + " value", 0, nil // a zero TTL: a Memo keeps it anyway
		})
		if stale {
			t.Errorf("%s: stale from a Memo", key)
		}
		return v, hit, ferr
	}
	// The rows run in order: each sees what the ones before kept.
	for _, tc := range []struct {
		name    string
		key     string
		err     error
		wantHit bool
		calls   int
	}{
		{"first fetch", "txt|a.test", nil, false, 1},
		{"kept", "txt|a.test", nil, true, 1},
		{"failed", "srv|a.test", errors.New("SERVFAIL"), false, 2},
		{"asked again after a failure", "srv|a.test", nil, false, 3},
		{"kept after the failure", "srv|a.test", nil, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, hit, err := fetch(t, tc.key, tc.err)
			if hit != tc.wantHit || calls != tc.calls || (err == nil) != (tc.err == nil) || (err == nil && v != tc.key+" value") {
				t.Errorf("%s: v %v hit %v err %v, fn called %d times; want hit %v, %d calls", tc.key, v, hit, err, calls, tc.wantHit, tc.calls)
			}
		})
	}
}
