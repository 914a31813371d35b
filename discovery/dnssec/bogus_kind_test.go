package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// Every bogus answer says why as a typed value: the *BogusError's Kind is
// one of the sentinels, and errors.Is finds it through the whole chain, so
// callers never read the message to tell a forgery from a failed lookup.
func TestBogusErrorsCarryTheirKind(t *testing.T) {
	l := startLab(t, testZones(0))
	genuine := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	stripped := *genuine
	stripped.Sigs = nil
	tampered := *genuine
	txt := dns.Copy(genuine.Records[0]).(*dns.TXT)
	txt.Txt = []string{"v=oci1; registry=https://attacker.example"}
	tampered.Records = []dns.RR{txt}

	for _, tc := range []struct {
		name  string
		a     func() *dnsclient.Answer
		shift time.Duration // clock offset for this case
		want  error
	}{
		{"tampered record", func() *dnsclient.Answer { return &tampered }, 0, dnssec.ErrBadSignature},
		{"expired signatures", func() *dnsclient.Answer { return l.ask(t, "_oci-discovery.expired.example.", dns.TypeTXT) }, 0, dnssec.ErrSignatureExpired},
		{"31 days later", func() *dnsclient.Answer { return genuine }, 31 * 24 * time.Hour, dnssec.ErrSignatureExpired},
		{"31 days earlier", func() *dnsclient.Answer { return genuine }, -31 * 24 * time.Hour, dnssec.ErrSignatureNotYetValid},
		{"RRSIG removed", func() *dnsclient.Answer { return &stripped }, 0, dnssec.ErrSignaturesStripped},
		{"stripped child zone", func() *dnsclient.Answer { return l.ask(t, "_oci-discovery.stripped.example.", dns.TypeTXT) }, 0, dnssec.ErrSignaturesStripped},
		{"DS matches no key", func() *dnsclient.Answer { return l.ask(t, "_oci-discovery.mismatch.example.", dns.TypeTXT) }, 0, dnssec.ErrDSMismatch},
		{"unknown key tag", func() *dnsclient.Answer { return forged(genuine, func(s *dns.RRSIG) { s.KeyTag++ }) }, 0, dnssec.ErrNoDNSKEY},
		{"signer above the anchor", func() *dnsclient.Answer { return forged(genuine, func(s *dns.RRSIG) { s.SignerName = "." }) }, 0, dnssec.ErrSignerAboveAnchor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a()
			l.clock.advance(tc.shift)
			defer l.clock.advance(-tc.shift)
			sec, err := l.v.Validate(context.Background(), a)
			be := wantBogus(t, tc.name, sec, err, "")
			if be.Kind != tc.want || !errors.Is(err, tc.want) {
				t.Errorf("Kind %v (errors.Is %v), want %v: %v", be.Kind, errors.Is(err, tc.want), tc.want, err)
			}
			if got := dnssec.Verdict(sec, err); got != dnssec.Bogus {
				t.Errorf("Verdict = %v, want bogus: a signature failed", got)
			}
		})
	}
}

// A chain of trust that cannot be fetched is not a forgery: the error's
// Kind is ErrChainUnavailable, and Verdict makes the answer Indeterminate
// when the lookup had no answer (dnsclient.ErrUnknown). A context that
// ended is not an unknown answer: still Bogus, as before.
func TestChainThatCannotBeFetchedIsIndeterminate(t *testing.T) {
	l := startLab(t, testZones(0))
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	l.srv.SetFault("corp.example.", dns.TypeDNSKEY, dnstest.FaultServFail)
	sec, err := l.v.Validate(context.Background(), a)
	be := wantBogus(t, "DNSKEY lookup SERVFAIL", sec, err, "DNSKEY lookup failed")
	if be.Kind != dnssec.ErrChainUnavailable || !errors.Is(err, dnssec.ErrChainUnavailable) {
		t.Errorf("Kind %v, want ErrChainUnavailable: %v", be.Kind, err)
	}
	if got := dnssec.Verdict(sec, err); got != dnssec.Indeterminate {
		t.Errorf("Verdict = %v, want indeterminate", got)
	}
	l.srv.SetFault("corp.example.", dns.TypeDNSKEY, dnstest.FaultNone)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sec, err = dnssec.NewValidator(l.client, l.srv.TrustAnchors(), nil).Validate(ctx, a)
	if !errors.Is(err, dnssec.ErrChainUnavailable) || dnssec.Verdict(sec, err) != dnssec.Bogus {
		t.Errorf("cancelled validation: %v, Verdict %v; want ErrChainUnavailable and bogus", err, dnssec.Verdict(sec, err))
	}
}

func TestVerdictTellsAnUnfetchableChainFromAForgery(t *testing.T) {
	lookup := &dnsclient.Error{Name: "corp.example.", Qtype: dns.TypeDNSKEY, Rcode: dns.RcodeServerFailure, Err: errors.New("server answered SERVFAIL")}
	unavailable := &dnssec.BogusError{RRset: "DNSKEY corp.example.", KeyTag: -1, Kind: dnssec.ErrChainUnavailable, Reason: "DNSKEY lookup failed", Err: lookup}
	wrapped := &dnssec.BogusError{RRset: "TXT a.corp.example.", KeyTag: -1, Kind: dnssec.ErrChainUnavailable, Reason: "signer's keys not validated", Err: unavailable}
	badSig := &dnssec.BogusError{RRset: "TXT a.corp.example.", KeyTag: 1, Kind: dnssec.ErrBadSignature, Reason: "bad signature"}
	for _, tc := range []struct {
		name string
		sec  dnssec.Security
		err  error
		want dnssec.Security
	}{
		{"secure", dnssec.Secure, nil, dnssec.Secure},
		{"insecure", dnssec.Insecure, nil, dnssec.Insecure},
		{"bad signature", dnssec.Bogus, badSig, dnssec.Bogus},
		{"lookup failed", dnssec.Bogus, unavailable, dnssec.Indeterminate},
		{"lookup failed further up", dnssec.Bogus, wrapped, dnssec.Indeterminate},
		{"lookup failed, wrapped by the caller", dnssec.Bogus, fmt.Errorf("validating: %w", wrapped), dnssec.Indeterminate},
		{"budget exhausted", dnssec.Bogus, &dnssec.BogusError{RRset: "DS corp.example.", KeyTag: -1, Kind: dnssec.ErrChainUnavailable,
			Reason: "DS lookup failed", Err: errors.New("chain needs more than 48 queries")}, dnssec.Bogus},
		{"lookup failed and a signature stripped", dnssec.Bogus, &dnssec.BogusError{RRset: "SOA corp.example.", KeyTag: -1,
			Kind: dnssec.ErrSignaturesStripped, Reason: "signatures stripped", Err: unavailable}, dnssec.Bogus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dnssec.Verdict(tc.sec, tc.err); got != tc.want {
				t.Errorf("Verdict(%v, %v) = %v, want %v", tc.sec, tc.err, got, tc.want)
			}
		})
	}
	if s := dnssec.Indeterminate.String(); s != "indeterminate" {
		t.Errorf("Indeterminate.String() = %q", s)
	}
}
