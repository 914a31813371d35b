package frontdoor

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/resolver"
)

// The resolver's global bound on upstream work holds for front-door
// requests: forty engines asking at once for distinct names whose DNS never
// answers keep at most WithMaxUpstream lookups running; the rest queue
// within their deadline instead of each opening sockets.
func TestUpstreamBoundHoldsForFrontDoorRequests(t *testing.T) {
	const bound = 2
	r, err := resolver.New(
		resolver.WithDNSServers(dnstest.StartSilent(t)),
		resolver.WithDNSTimeout(300*time.Millisecond),
		resolver.WithDNSSEC(false),
		resolver.WithWellKnown(false),
		resolver.WithMaxUpstream(bound),
		resolver.WithAddressPolicy(resolver.AddressPolicy{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	srv := httptest.NewServer(New(Config{Resolver: r, RequestTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()

	stop := make(chan struct{})
	var maxRunning, maxQueued uint64
	var watch sync.WaitGroup
	watch.Go(func() {
		for {
			_, src := r.Stats()
			maxRunning, maxQueued = max(maxRunning, src.Running), max(maxQueued, src.Queued)
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			path := fmt.Sprintf("/v2/name%d.test/org/app/manifests/v1", i)
			if i%2 == 1 {
				path = fmt.Sprintf("/v2/org/app/blobs/sha256:%s?ns=name%d.test", strings.Repeat("5", 64), i)
			}
			resp, err := http.Get(srv.URL + path)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 500 {
					t.Errorf("%s: status %d for a name whose DNS never answers", path, resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	watch.Wait()
	if maxRunning > bound {
		t.Errorf("%d discovery lookups ran at once, bound %d", maxRunning, bound)
	}
	if maxQueued == 0 {
		t.Error("no lookup ever waited: the test did not reach the bound")
	}
}
