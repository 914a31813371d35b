package discovery_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// docs/protocol.md §8.2: "When the chain of trust cannot be fetched at all
// (a resolver that refuses the DS or DNSKEY queries) and no signature was
// found bad, the answer is treated as not authenticated rather than
// bogus." signed.sec.test's records are signed, but its server refuses the
// DNSKEY question: the validator's verdict is indeterminate, so its
// mapping to another host is skipped under --dnssec on, as an unsigned one
// would be, and discovery goes on instead of failing.
func TestChainOfTrustThatCannotBeFetchedIsNotAuthenticated(t *testing.T) {
	l, o := dlSecLab(t, dnstest.Config{})
	l.srv.SetFault("signed.sec.test.", dns.TypeDNSKEY, dnstest.FaultRefused)
	res, evs := dlMust(t, discovery.New(o), "signed.sec.test/app")
	dlWantChain(t, res.Chain, []discovery.Step{
		{Host: "signed.sec.test", Path: "app", Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
	})
	indeterminate := false
	for _, e := range evs {
		indeterminate = indeterminate || (e.DNSSEC == "indeterminate" && e.Query == "_oci-discovery.signed.sec.test.")
	}
	if !indeterminate {
		t.Errorf("no indeterminate event for the TXT answer\ntrace:\n%s", dlTrace(evs))
	}
	dlWantDecision(t, evs, "chain of trust could not be fetched")
	dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (registry.child.example)")
}
