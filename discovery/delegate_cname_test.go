package discovery_test

import (
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
)

// Issue 3: "Follow CNAMEs for TXT/SRV". _oci-discovery.cname.mapping.test
// is a CNAME to single's TXT record: the mapping is the target's, and the
// answer lives as long as the CNAME (120 s), the shortest link of the chain.
func TestCNAMEToTheTXTRecord(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "cname.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "single/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "cname.mapping.test", Path: "app", Source: discovery.SourceTXT, Record: "v=oci1; registry=https://registry.example/single", Authenticated: mode.auth},
			})
			if res.TTL != 120*time.Second {
				t.Errorf("TTL %v, want the CNAME's 2m", res.TTL)
			}
		})
	}
}

// A CNAME into another zone: the server answers with the CNAME alone and
// the client asks again for the target. Signed, each link is validated
// with its own zone's keys.
func TestCNAMEToATXTRecordInAnotherZone(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "cname-out.mapping.test/team/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://shared.example", Repository: "team/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
		})
	}
}
