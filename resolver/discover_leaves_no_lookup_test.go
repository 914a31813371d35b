package resolver

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// lookupGoroutines returns the stacks of the goroutines, other than the
// tests', that run discovery's lookups: the DNS client, the validator, the
// discovery code, and the shared calls of internal/flight.
func lookupGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if strings.Contains(s, "testing.tRunner") {
			continue
		}
		if strings.Contains(s, "github.com/ocidns/ocidns/discovery") || strings.Contains(s, "github.com/ocidns/ocidns/internal/flight.") {
			found = append(found, s)
		}
	}
	return found
}

// With the resolver's cache in front of discovery, a lookup that no source
// needs any more — here an SRV query the server never answers, dropped when
// the TXT record decided — is shared through the cache, so Discover cannot
// simply wait for it. It must still not outlive Discover by more than its
// cancellation takes: Discover was its only waiter, so the shared call is
// cancelled when Discover returns, and every goroutine of the lookup ends
// (it used to be able to run on until its own timeout, here 30 s: the DNS
// client waits a minute).
func TestDiscoverLeavesNoLookupRunning(t *testing.T) {
	regs := startRegistries(t, 1)
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true))
	const srv = "_oci-registry._tcp.example.test."
	l.dns.SetFault(srv, dns.TypeSRV, dnstest.FaultDrop)
	// Every answer comes late, so that the SRV query is surely sent
	// before the TXT answer decides.
	l.dns.SetDelay(50 * time.Millisecond)
	r := l.resolver(t, WithDNSTimeout(time.Minute))
	t.Cleanup(func() { r.Close() })

	res, err := r.Discover(context.Background(), "example.test", "org/app")
	if err != nil || len(res.Endpoints) == 0 {
		t.Fatalf("Discover = %+v, %v; want the TXT record's endpoint", res, err)
	}
	if l.dns.QueryCount(srv, dns.TypeSRV) == 0 {
		t.Fatal("the SRV query was never sent: the test shows nothing")
	}
	deadline := time.Now().Add(10 * time.Second) // a liveness bound, far below the SRV query's 30 s
	for {
		left := lookupGoroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lookup goroutine(s) still running 10 s after Discover returned; the first:\n%s", len(left), left[0])
		}
		time.Sleep(time.Millisecond)
	}
}
