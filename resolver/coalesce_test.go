package resolver

import (
	"context"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// docs/protocol.md §10: 1,000 concurrent identical cold lookups cause exactly one
// upstream DNS query per record and one registry request. The SRV query and
// the well-known host's address are asked beside the TXT query; once the
// TXT mapping decides they are no longer needed and may be cancelled before
// they are sent, so for them the promise is "never more than one".
func TestConcurrentColdLookupsShareOneUpstreamCall(t *testing.T) {
	regs := startRegistries(t, 1)
	want := push(t, regs[0], "app", "1.0")
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	r := l.resolver(t)
	l.dns.ResetCounts()
	regs[0].ResetRequests()

	const n = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := r.Resolve(context.Background(), "example.test/app:1.0")
			if err == nil && res.Digest != want {
				t.Errorf("digest %s, want %s", res.Digest, want)
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []struct {
		name        string
		qtype       uint16
		speculative bool // may be cancelled before it is sent
	}{
		{"_oci-discovery.example.test.", dns.TypeTXT, false},
		{"_oci-registry._tcp.example.test.", dns.TypeSRV, true},
		{"example.test.", dns.TypeDNSKEY, false},
		{"example.test.", dns.TypeA, true},
	} {
		t.Run(dns.Type(q.qtype).String()+" "+q.name, func(t *testing.T) {
			got := l.dns.QueryCount(q.name, q.qtype)
			switch {
			case got > 1:
				t.Errorf("%s %s: %d queries, want at most 1", dns.TypeToString[q.qtype], q.name, got)
			case got == 0 && !q.speculative:
				t.Errorf("%s %s: no query, want exactly 1", dns.TypeToString[q.qtype], q.name)
			}
		})
	}
	if got := regs[0].Requests().Manifests(); got != 1 {
		t.Errorf("registry saw %d manifest requests, want exactly 1", got)
	}
	results, _ := r.Stats()
	if results.Coalesced == 0 {
		t.Errorf("no coalesced waits counted: %+v", results)
	}
}
