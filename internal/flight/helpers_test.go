package flight

import (
	"testing"
	"time"
)

// liveness bounds how long a test waits for something a correct Group does
// at once; it is not a timing assertion.
const liveness = 10 * time.Second

// waitFor polls cond until it holds, within liveness.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(liveness)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// outcome is what one Do returned.
type outcome struct {
	v      string
	joined bool
	err    error
}
