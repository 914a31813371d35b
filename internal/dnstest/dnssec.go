package dnstest

import (
	"fmt"

	"github.com/miekg/dns"
)

// TrustAnchors returns the DS records of the top-most signed zones — those
// whose DS no served, signed parent publishes (NoDS zones excepted) — for a
// validator's trust anchors. Nil when no zone is signed.
func (s *Server) TrustAnchors() []dns.RR {
	var out []dns.RR
	for _, z := range s.anchors() {
		for _, ds := range z.ds {
			out = append(out, dns.Copy(ds))
		}
	}
	return out
}

// TrustAnchorKeys returns the same anchors as TrustAnchors, as the KSK
// DNSKEY records instead of their DS (both forms are accepted by
// --trust-anchor).
func (s *Server) TrustAnchorKeys() []dns.RR {
	var out []dns.RR
	for _, z := range s.anchors() {
		for _, k := range z.keys {
			if k.ksk {
				out = append(out, dns.Copy(k.pub))
			}
		}
	}
	return out
}

func (s *Server) anchors() []*zone {
	var out []*zone
	for i := len(s.zones) - 1; i >= 0; i-- { // parents first, for readable output
		z := s.zones[i]
		if len(z.keys) > 0 && !z.dsInParent && !z.cfg.NoDS {
			out = append(out, z)
		}
	}
	return out
}

// DS returns the DS records of a signed zone (whether or not its parent
// publishes them), or an error naming the zone.
func (s *Server) DS(origin string) ([]dns.RR, error) {
	z, err := s.zoneFor(origin)
	if err != nil {
		return nil, err
	}
	if len(z.ds) == 0 {
		return nil, fmt.Errorf("dnstest: zone %s is not signed", z.origin)
	}
	out := make([]dns.RR, len(z.ds))
	for i, ds := range z.ds {
		out[i] = dns.Copy(ds)
	}
	return out, nil
}

// DNSKEYs returns the public keys of a signed zone (KSK first), or an error
// naming the zone.
func (s *Server) DNSKEYs(origin string) ([]dns.RR, error) {
	z, err := s.zoneFor(origin)
	if err != nil {
		return nil, err
	}
	if len(z.keys) == 0 {
		return nil, fmt.Errorf("dnstest: zone %s is not signed", z.origin)
	}
	var out []dns.RR
	for _, k := range z.keys {
		out = append(out, dns.Copy(k.pub))
	}
	return out, nil
}

// Tamper changes the data of the RRset name/qtype after signing (a TXT
// gains a string, an A/AAAA address changes, an SRV port, a DS key tag,
// ...), leaving its RRSIGs as they were: a validator must find the RRset
// bogus. The RRset is the one the server answers name/qtype from (for DS,
// the parent zone's). Errors name the RRset.
func (s *Server) Tamper(name string, qtype uint16) error {
	return s.TamperFunc(name, qtype, func(rr dns.RR) (dns.RR, error) { return tamper(rr) })
}

// TamperFunc replaces every RR of the RRset name/qtype by f's result
// (given a copy, f may modify and return it), keeping the RRSIGs.
func (s *Server) TamperFunc(name string, qtype uint16, f func(dns.RR) (dns.RR, error)) error {
	s.zmu.Lock()
	defer s.zmu.Unlock()
	z := s.findZone(name, qtype)
	if z == nil {
		return fmt.Errorf("dnstest: tamper %s %s: no zone served encloses it", dns.Type(qtype), name)
	}
	n := z.nodes[dns.CanonicalName(name)]
	if n == nil || len(n.rrsets[qtype]) == 0 {
		return fmt.Errorf("dnstest: tamper %s %s: no such RRset in zone %s", dns.Type(qtype), name, z.origin)
	}
	// Copy on write: responses being packed may still point at the old RRs.
	rrs := make([]dns.RR, len(n.rrsets[qtype]))
	for i, rr := range n.rrsets[qtype] {
		t, err := f(dns.Copy(rr))
		if err != nil {
			return fmt.Errorf("dnstest: tamper %s %s: %w", dns.Type(qtype), name, err)
		}
		rrs[i] = t
	}
	n.rrsets[qtype] = rrs
	if z.tampered == nil {
		z.tampered = map[question]bool{}
	}
	z.tampered[questionOf(name, qtype)] = true
	return nil
}

// ResignExpired signs the zone again with a validity window that ended an
// hour before Now, as if its signer had stopped running: a validator must
// reject every signature of the zone.
func (s *Server) ResignExpired(origin string) error {
	s.zmu.Lock()
	defer s.zmu.Unlock()
	z, err := s.zoneFor(origin)
	if err != nil {
		return err
	}
	if !z.signedBy || len(z.keys) == 0 {
		return fmt.Errorf("dnstest: zone %s is not signed by the server", z.origin)
	}
	if err := z.resign(s.window(true)); err != nil {
		return err
	}
	z.expired = true
	return nil
}
