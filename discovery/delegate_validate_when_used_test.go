package discovery_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// An answer is validated only when the hop consults its source: the SRV
// answer that comes with a TXT record that decides is dropped unvalidated
// (its signatures cost as much as the TXT's, a denial more), while an SRV
// answer the hop does consult is validated as before — a forged one is
// still an error. The SRV answers here are stripped of their signatures,
// which a validation finds bogus.
func TestAnswerValidatedOnlyWhenItsSourceIsConsulted(t *testing.T) {
	tests := []struct {
		name     string
		ref      string // host/path
		srvOwner string
		wantErr  bool
	}{
		{"TXT decides, the SRV answer is not looked at", "signed.sec.test/app", "_oci-registry._tcp.signed.sec.test.", false},
		{"no TXT record, the SRV answer decides", "nothing.signed.sec.test/app", "_oci-registry._tcp.nothing.signed.sec.test.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := dlStart(t, dnstest.Config{Zones: dlSecZones()})
			l.srv.SetFault(tt.srvOwner, dns.TypeSRV, dnstest.FaultStripDNSSEC)
			d := discovery.New(l.options())
			_, evs, err := dlDiscover(d, tt.ref)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("discovered through a forged SRV answer\ntrace:\n%s", dlTrace(evs))
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\ntrace:\n%s", err, dlTrace(evs))
			}
			for _, e := range evs {
				if strings.HasPrefix(e.Query, "SRV ") && e.DNSSEC != "" {
					t.Errorf("the unused SRV answer was validated: %s %s %s\ntrace:\n%s", e.Query, e.DNSSEC, e.Decision, dlTrace(evs))
				}
			}
		})
	}
}

// Two discoveries at one host share its lookups through the SourceCache.
// When the one that started them decides with TXT, the other, which needs
// the SRV answer, still gets it validated: the lookup goes on once the
// first hop is done with it, instead of waiting for a use that will not
// come.
func TestSharedLookupValidatedForTheDiscoveryThatUsesIt(t *testing.T) {
	l := dlStart(t, dnstest.Config{Zones: dlSecZones(), Delay: 200 * time.Millisecond})
	o := l.options()
	o.Cache = &coalescing{calls: map[string]*sharedCall{}}
	o.Timeout = 10 * time.Second
	d := discovery.New(o)

	first := make(chan error, 1)
	go func() {
		_, _, err := dlDiscover(d, "org.sec.test/acme/app") // TXT delegates acme/
		first <- err
	}()
	time.Sleep(50 * time.Millisecond) // its TXT and SRV lookups are in flight
	start := time.Now()
	res, evs, err := dlDiscover(d, "org.sec.test/other/app") // no prefix matches: SRV decides
	if err != nil {
		t.Fatalf("%v\ntrace:\n%s", err, dlTrace(evs))
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://registry.org.sec.test" || res.Endpoints[0].Authenticated != discovery.AuthDNSSEC {
		t.Fatalf("endpoints %s, want https://registry.org.sec.test (dnssec)", dlEndpoints(res.Endpoints))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v: the shared SRV lookup waited for the first discovery's use", took)
	}
}

// coalescing is a SourceCache that runs one lookup per key for every
// caller that asks while it runs, whatever becomes of the caller that
// started it, and keeps what succeeded.
type coalescing struct {
	mu    sync.Mutex
	calls map[string]*sharedCall
}

type sharedCall struct {
	done chan struct{}
	v    any
	err  error
}

func (c *coalescing) Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (any, bool, bool, error) {
	c.mu.Lock()
	cl, joined := c.calls[key]
	if !joined {
		cl = &sharedCall{done: make(chan struct{})}
		c.calls[key] = cl
		go func() {
			cl.v, _, cl.err = fn(context.WithoutCancel(ctx))
			close(cl.done)
			if cl.err != nil {
				c.mu.Lock()
				delete(c.calls, key)
				c.mu.Unlock()
			}
		}()
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.v, joined, false, cl.err
	case <-ctx.Done():
		return nil, false, false, ctx.Err()
	}
}

func (c *coalescing) Idle(_ context.Context, wait func() error) error { return wait() }
