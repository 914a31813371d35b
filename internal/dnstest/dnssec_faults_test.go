package dnstest

import (
	"testing"

	"github.com/miekg/dns"
)

// The faults of resolvers that cannot serve DNSSEC: one that strips the
// records the DO bit asks for, one that says NXDOMAIN for everything it
// filters, one that fails queries with the DO bit. SetServerFault makes
// the whole server one of them; a question's own fault still wins.
func TestResolverWithoutDNSSECFaults(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	const name = "_oci-discovery.signed.test."
	sigs := func(m *dns.Msg) int {
		n := 0
		for _, rr := range append(append([]dns.RR{}, m.Answer...), m.Ns...) {
			switch rr.Header().Rrtype {
			case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
				n++
			}
		}
		return n
	}

	s.SetServerFault(FaultStripDNSSEC)
	r := ask(t, s, "udp", name, dns.TypeTXT, true, true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || sigs(r) != 0 || r.IsEdns0() == nil || !r.IsEdns0().Do() {
		t.Errorf("strip-dnssec: %v, want the TXT alone with DO echoed", r)
	}
	if r := ask(t, s, "udp", "nothing.signed.test", dns.TypeTXT, true, true); r.Rcode != dns.RcodeNameError || sigs(r) != 0 || len(r.Ns) != 1 {
		t.Errorf("strip-dnssec NXDOMAIN: %v, want the SOA alone", r.Ns)
	}
	if r := ask(t, s, "udp", "signed.test", dns.TypeDNSKEY, true, true); len(r.Answer) != 2 || sigs(r) != 0 {
		t.Errorf("strip-dnssec DNSKEY: %v, want the keys without RRSIG", r.Answer)
	}

	s.SetServerFault(FaultServFailDO)
	if r := ask(t, s, "udp", name, dns.TypeTXT, true, true); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("servfail-do with DO: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if r := ask(t, s, "udp", name, dns.TypeTXT, true, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("servfail-do without DO: %v", r)
	}

	s.SetServerFault(FaultNone)
	s.SetFault("signed.test.", dns.TypeDNSKEY, FaultNXDomain)
	if r := ask(t, s, "udp", "signed.test", dns.TypeDNSKEY, true, true); r.Rcode != dns.RcodeNameError || len(r.Answer)+len(r.Ns) != 0 {
		t.Errorf("nxdomain: %v, want NXDOMAIN with empty sections", r)
	}
	s.SetFault(name, dns.TypeTXT, FaultDenyWithoutProof)
	r = ask(t, s, "udp", name, dns.TypeTXT, true, true)
	soa, soaSigs := rrsetAndSigs(r.Ns, dns.TypeSOA)
	if r.Rcode != dns.RcodeNameError || len(soa) != 1 || len(soaSigs) != 1 || len(r.Ns) != 2 {
		t.Errorf("deny-without-proof: %v, want NXDOMAIN with the signed SOA alone", r)
	}
	s.SetFault(name, dns.TypeTXT, FaultNone)

	s.SetServerFault(FaultServFail)
	if r := ask(t, s, "udp", "signed.test", dns.TypeDNSKEY, true, true); r.Rcode != dns.RcodeNameError {
		t.Errorf("a question's own fault under a server fault: rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	if r := ask(t, s, "udp", name, dns.TypeTXT, true, true); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("server fault: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

func TestServerCountsQueriesWithTheDOBit(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	ask(t, s, "udp", "signed.test", dns.TypeSOA, true, true)
	ask(t, s, "udp", "signed.test", dns.TypeSOA, true, false)
	ask(t, s, "tcp", "signed.test", dns.TypeSOA, false, false)
	ask(t, s, "tcp", "signed.test", dns.TypeSOA, true, true)
	if n, all := s.QueriesWithDO(), s.TotalQueries(); n != 2 || all != 4 {
		t.Errorf("%d of %d queries with DO, want 2 of 4", n, all)
	}
	s.ResetCounts()
	if n := s.QueriesWithDO(); n != 0 {
		t.Errorf("after ResetCounts: %d", n)
	}
}
