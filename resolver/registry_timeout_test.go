package resolver

import (
	"context"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §11: a slow body past the timeout. The registry sends half the
// manifest and stalls for a minute; the caller's deadline (or the client's
// own per-operation Timeout) must end the read with ErrTimeout. Only the
// error kind is asserted, never how long it took.
func TestSlowBodyPastTheDeadlineIsTimeout(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{StripDigest: true, SlowBody: time.Minute})

	c, _ := testClient(t, reg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.resolve(ctx, endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	e := wantKind(t, err, ErrTimeout)
	if e.Step != "GET manifest" || CodeOf(err) != CodeTimeout {
		t.Fatalf("error %q step %q", e, e.Step)
	}

	c2, _ := testClient(t, reg, func(c *registryConfig) { c.Timeout = 300 * time.Millisecond })
	_, err = c2.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	wantKind(t, err, ErrTimeout)
}
