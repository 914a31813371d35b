package discovery_test

import (
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
)

// DESIGN §2: the output includes "the TTL of the whole answer"; §4: "DNS
// answers by their TTL, negative answers by the SOA minimum (RFC 2308)".
// The result's TTL is the minimum over every answer the decision consulted
// — positive TTLs, and the negative TTL (min(SOA TTL, MINIMUM) = 900 s in
// these zones) of sources that were absent — and over nothing else: an
// answer not looked at (the SRV when TXT decided) does not shorten it.
func TestResultTTLIsTheMinimumOverTheAnswersConsulted(t *testing.T) {
	rows := []struct {
		name string
		ttl  time.Duration
		why  string
	}{
		{"single.mapping.test/app", 1800 * time.Second, "TXT 1800; SRV not consulted"},
		{"txtsrv.mapping.test/tools/x", 1200 * time.Second, "TXT 1200; SRV not consulted"},
		{"txtsrv.mapping.test/app", 700 * time.Second, "TXT 1200 without a match, SRV 700"},
		{"srvonly.mapping.test/app", 900 * time.Second, "TXT absent 900, SRV 1000"},
		{"onlyspf.mapping.test/app", 600 * time.Second, "TXT 600 without v=oci1, SRV absent 900"},
		{"direct.mapping.test/app", 900 * time.Second, "TXT and SRV absent, 900"},
		{"cname.mapping.test/app", 120 * time.Second, "CNAME 120 to TXT 1800"},
		{"org.chain.test/acme/app", 300 * time.Second, "TXT 300, then TXT 1800"},
		{"org.chain.test/acme/team/web/app", 60 * time.Second, "TXT 300, 1800, 3600, then 60"},
	}
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, r := range rows {
				res, _ := dlMust(t, d, r.name)
				if res.TTL != r.ttl {
					t.Errorf("%s: TTL %v, want %v (%s)", r.name, res.TTL, r.ttl, r.why)
				}
				for _, s := range res.Chain {
					if s.TTL > 0 && s.TTL < res.TTL {
						t.Errorf("%s: step %s/%s lives %v, less than the result's %v", r.name, s.Host, s.Path, s.TTL, res.TTL)
					}
				}
			}
		})
	}
}
