package resolver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

// net/http dials with a context detached from the request, so a dial whose
// address lookup hangs (the DNS server never answers) used to outlive its
// request by the whole lookup timeout, holding its sockets: many abandoned
// requests for names that never resolve piled up descriptors. The
// Resolver's client ends a dial with the request that caused it.
func TestAbandonedRequestEndsItsDial(t *testing.T) {
	silent := dnstest.StartSilent(t)
	cfg := t.TempDir() + "/config.json"
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A lookup that would hold its sockets for a minute if not cancelled.
	r, err := New(WithDNSServers(silent), WithDNSTimeout(time.Minute), WithDockerConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	client := r.HTTPClient()
	base := openFDs(t)
	const requests = 20
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://h%d.hangs.example/v2/", i), nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("request %d: answered %s from a host whose DNS never answers", i, resp.Status)
			}
		})
	}
	wg.Wait()
	during := openFDs(t)
	// The requests are over; their dials must end at once, not after the
	// minute their lookups could take.
	deadline := time.Now().Add(10 * time.Second)
	for openFDs(t) > base+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open 10 s after %d abandoned requests (%d before, %d when they ended): their dials live on",
				openFDs(t), requests, base, during)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WithMaxUpstream also bounds the dials running at once: a cancelled dial
// takes a moment to stop, and many of them must not add up to unbounded
// sockets.
func TestDialsAtOnceAreBounded(t *testing.T) {
	silent := dnstest.StartSilent(t)
	cfg := t.TempDir() + "/config.json"
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	const bound, requests = 2, 12
	r, err := New(WithDNSServers(silent), WithDNSTimeout(time.Minute), WithDockerConfig(cfg), WithMaxUpstream(bound))
	if err != nil {
		t.Fatal(err)
	}
	client := r.HTTPClient()
	base := openFDs(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://h%d.hangs.example/v2/", i), nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	// Each running dial holds its two address queries' sockets; wait until
	// the bound is reached, then make sure it is not exceeded.
	deadline := time.Now().Add(10 * time.Second)
	for openFDs(t) < base+2*bound && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	n := openFDs(t)
	cancel()
	wg.Wait()
	if n > base+2*bound {
		t.Errorf("%d descriptors with %d requests dialling (%d before): more than %d dials at once", n, requests, base, bound)
	}
}
