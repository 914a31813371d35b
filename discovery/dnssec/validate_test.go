package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// The test namespace: example. is the top-most signed zone (its DS is the
// trust anchor) and delegates to children in every DNSSEC state a
// validator must tell apart. Each child publishes the same discovery
// records.
const parentZone = `$TTL 300
@          SOA ns.example. hostmaster.example. 1 3600 600 86400 300
@          NS  ns
ns         A   127.0.0.1
_oci-discovery TXT "v=oci1; registry=https://registry.example"
alias      CNAME corp
_oci-discovery.alias CNAME _oci-discovery.corp
_oci-discovery.to-island CNAME _oci-discovery.island
*.wild     TXT "v=oci1; registry=https://wild.example"
real.wild  TXT "v=oci1; registry=https://real.example"
corp       NS  ns.corp
ns.corp    A   127.0.0.1
stripped   NS  ns.corp
island     NS  ns.corp
nods       NS  ns.corp
expired    NS  ns.corp
; a DS of an algorithm no validator implements (253, private): insecure
unsupported NS ns.corp
unsupported DS 4711 253 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
; a DS that matches none of the child's keys: bogus
mismatch   NS  ns.corp
mismatch   DS  4711 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`

func childZone(origin string) string {
	return `$TTL 300
@          SOA ns.corp.example. hostmaster.` + origin + ` 1 3600 600 86400 300
@          NS  ns.corp.example.
_oci-discovery TXT "v=oci1; registry=https://registry.` + origin + `"
_oci-discovery TXT "v=oci1; prefix=tools; delegate=tools.example"
_oci-registry._tcp SRV 10 5 443 registry.` + origin + `
`
}

// testZones returns example. and its children; alg (0: the default) signs
// example. and corp.example.
func testZones(alg uint8) []dnstest.Zone {
	return []dnstest.Zone{
		{Origin: "example.", Text: parentZone, Sign: true, Algorithm: alg},
		{Origin: "corp.example.", Text: childZone("corp.example."), Sign: true, Algorithm: alg},
		{Origin: "stripped.example.", Text: childZone("stripped.example."), StripSigs: true},
		{Origin: "island.example.", Text: childZone("island.example.")},
		{Origin: "nods.example.", Text: childZone("nods.example."), Sign: true, NoDS: true},
		{Origin: "expired.example.", Text: childZone("expired.example."), Sign: true, Expired: true},
		{Origin: "unsupported.example.", Text: childZone("unsupported.example.")},
		{Origin: "mismatch.example.", Text: childZone("mismatch.example."), Sign: true, NoDS: true},
		{Origin: "elsewhere.", Text: childZone("elsewhere.")},
	}
}

// lab is one signed test namespace, a DNS client asking it, and a
// validator anchored at its top.
type lab struct {
	srv    *dnstest.Server
	client *dnsclient.Client
	v      *dnssec.Validator
	clock  *testClock
}

type testClock struct{ t atomic.Int64 }

func newTestClock() *testClock {
	c := new(testClock)
	c.t.Store(time.Now().UnixNano())
	return c
}
func (c *testClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *testClock) advance(d time.Duration) { c.t.Add(int64(d)) }

func startLab(t testing.TB, zones []dnstest.Zone) *lab {
	t.Helper()
	clock := newTestClock()
	srv := dnstest.StartT(t, dnstest.Config{Zones: zones, Now: clock.now})
	client := dnstest.ClientT(t, 0, srv.Addr())
	anchors := srv.TrustAnchors()
	if len(anchors) == 0 {
		t.Fatal("dnstest: no trust anchors")
	}
	return &lab{srv: srv, client: client, v: dnssec.NewValidator(client, anchors, clock.now), clock: clock}
}

func (l *lab) ask(t testing.TB, name string, qtype uint16) *dnsclient.Answer {
	t.Helper()
	a, err := l.client.Query(context.Background(), name, qtype)
	if err != nil {
		t.Fatalf("query %s %s: %v", dns.Type(qtype), name, err)
	}
	return a
}

func (l *lab) validate(t testing.TB, name string, qtype uint16) (dnssec.Security, error) {
	t.Helper()
	return l.v.Validate(context.Background(), l.ask(t, name, qtype))
}

// forged is a copy of a whose one RRSIG is its first, changed by f.
func forged(a *dnsclient.Answer, f func(*dns.RRSIG)) *dnsclient.Answer {
	c := *a
	s := dns.Copy(a.Sigs[0]).(*dns.RRSIG)
	f(s)
	c.Sigs = []*dns.RRSIG{s}
	return &c
}

func wantSecurity(t *testing.T, what string, got dnssec.Security, err error, want dnssec.Security) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %v (err %v), want %v", what, got, err, want)
	}
	if (err != nil) != (want == dnssec.Bogus) {
		t.Errorf("%s: status %v with error %v: an error must come exactly with bogus", what, got, err)
	}
	if err != nil && !errors.Is(err, dnssec.ErrBogus) {
		t.Errorf("%s: error %v does not wrap ErrBogus", what, err)
	}
}

func wantBogus(t *testing.T, what string, got dnssec.Security, err error, reason string) *dnssec.BogusError {
	t.Helper()
	wantSecurity(t, what, got, err, dnssec.Bogus)
	var be *dnssec.BogusError
	if !errors.As(err, &be) {
		t.Fatalf("%s: error %v is not a *BogusError", what, err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("%s: error %q does not say %q", what, err, reason)
	}
	return be
}

func TestValidateSecureDelegation(t *testing.T) {
	l := startLab(t, testZones(0))
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"_oci-discovery.example.", dns.TypeTXT},               // the anchored zone itself
		{"_oci-discovery.corp.example.", dns.TypeTXT},          // child: DS in parent
		{"_oci-registry._tcp.corp.example.", dns.TypeSRV},      // another RRset of the child
		{"_OCI-Discovery.CORP.example.", dns.TypeTXT},          // case does not matter
		{"_oci-discovery.alias.example.", dns.TypeTXT},         // CNAME across the cut
		{"_oci-discovery.anything.wild.example.", dns.TypeTXT}, // wildcard expansion
	} {
		sec, err := l.validate(t, q.name, q.qtype)
		wantSecurity(t, dns.Type(q.qtype).String()+" "+q.name, sec, err, dnssec.Secure)
	}
}

func TestValidateTamperedRecordIsBogus(t *testing.T) {
	l := startLab(t, testZones(0))
	if err := l.srv.Tamper("_oci-discovery.corp.example.", dns.TypeTXT); err != nil {
		t.Fatal(err)
	}
	sec, err := l.validate(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	be := wantBogus(t, "tampered TXT", sec, err, "bad signature")
	keys, _ := l.srv.DNSKEYs("corp.example.")
	zsk := int(keys[len(keys)-1].(*dns.DNSKEY).KeyTag())
	if be.RRset != "TXT _oci-discovery.corp.example." || be.Signer != "corp.example." || be.KeyTag != zsk {
		t.Errorf("bogus error names RRset %q signer %q key %d, want TXT _oci-discovery.corp.example., corp.example., %d",
			be.RRset, be.Signer, be.KeyTag, zsk)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("key %d", zsk)) {
		t.Errorf("error %q does not name key %d", err, zsk)
	}
	// The other RRsets of the zone are untouched and still secure.
	sec, err = l.validate(t, "_oci-registry._tcp.corp.example.", dns.TypeSRV)
	wantSecurity(t, "SRV next to the tampered TXT", sec, err, dnssec.Secure)
}

func TestValidateTamperedDSIsBogus(t *testing.T) {
	l := startLab(t, testZones(0))
	if err := l.srv.Tamper("corp.example.", dns.TypeDS); err != nil {
		t.Fatal(err)
	}
	sec, err := l.validate(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	wantBogus(t, "TXT under a tampered DS", sec, err, "DS corp.example.")
}

func TestValidateExpiredSignatureIsBogus(t *testing.T) {
	l := startLab(t, testZones(0))
	sec, err := l.validate(t, "_oci-discovery.expired.example.", dns.TypeTXT)
	wantBogus(t, "zone signed with expired signatures", sec, err, "signature expired")

	// A secure zone's signatures run out too: 31 days on, past the
	// 30 days dnstest signs for, the same answer is bogus.
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	sec, err = l.v.Validate(context.Background(), a)
	wantSecurity(t, "fresh signatures", sec, err, dnssec.Secure)
	l.clock.advance(31 * 24 * time.Hour)
	sec, err = l.v.Validate(context.Background(), a)
	wantBogus(t, "31 days later", sec, err, "signature expired")

	// And signatures are not valid before their inception.
	l.clock.advance(-62 * 24 * time.Hour)
	sec, err = l.v.Validate(context.Background(), a)
	wantBogus(t, "31 days earlier", sec, err, "signature not yet valid")
}

func TestValidateStrippedChildIsBogus(t *testing.T) {
	l := startLab(t, testZones(0))
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"_oci-discovery.stripped.example.", dns.TypeTXT},
		{"_oci-registry._tcp.stripped.example.", dns.TypeSRV},
		{"nothing-here.stripped.example.", dns.TypeTXT}, // NXDOMAIN, unsigned SOA
	} {
		sec, err := l.validate(t, q.name, q.qtype)
		wantBogus(t, q.name, sec, err, "stripped.example.")
		if !strings.Contains(err.Error(), "DS") {
			t.Errorf("%s: error %q does not say the DS requires signatures", q.name, err)
		}
	}
}

func TestValidateStrippedSignaturesInSignedZoneAreBogus(t *testing.T) {
	l := startLab(t, testZones(0))
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	a.Sigs = nil // an on-path attacker removed them
	sec, err := l.v.Validate(context.Background(), a)
	wantBogus(t, "TXT without its RRSIG", sec, err, "signatures stripped")
}

func TestValidateUnsignedChildWithoutDSIsInsecure(t *testing.T) {
	l := startLab(t, testZones(0))
	for _, name := range []string{
		"_oci-discovery.island.example.", // unsigned, no DS
		"_oci-discovery.nods.example.",   // signed, but no DS: an island of security
		"nothing-here.island.example.",   // NXDOMAIN in the unsigned child
		"_oci-discovery.to-island.example.",
		"_oci-discovery.unsupported.example.", // DS of an unknown algorithm (RFC 4035 §5.2)
		"_oci-discovery.elsewhere.",           // outside the trust anchor
	} {
		sec, err := l.validate(t, name, dns.TypeTXT)
		wantSecurity(t, name, sec, err, dnssec.Insecure)
	}
}

func TestValidateNegativeAnswerChecksSOA(t *testing.T) {
	l := startLab(t, testZones(0))
	a := l.ask(t, "nothing-here.corp.example.", dns.TypeTXT)
	if a.Rcode != dns.RcodeNameError || a.SOA == nil {
		t.Fatalf("want NXDOMAIN with SOA, got rcode %d SOA %v", a.Rcode, a.SOA)
	}
	sec, err := l.v.Validate(context.Background(), a)
	wantSecurity(t, "NXDOMAIN with signed SOA", sec, err, dnssec.Secure)

	a.SOA = dns.Copy(a.SOA).(*dns.SOA)
	a.SOA.Serial++
	sec, err = l.v.Validate(context.Background(), a)
	wantBogus(t, "NXDOMAIN with a forged SOA", sec, err, "SOA corp.example.")
}

func TestValidateAnchorAsDSAndAsDNSKEY(t *testing.T) {
	l := startLab(t, testZones(0))
	wrongDS := dns.Copy(l.srv.TrustAnchors()[0]).(*dns.DS)
	wrongDS.Digest = strings.Repeat("ab", 32)
	otherKey := dns.Copy(l.srv.TrustAnchorKeys()[0]).(*dns.DNSKEY)
	if _, err := otherKey.Generate(256); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		anchors []dns.RR
		want    dnssec.Security
		reason  string
	}{
		{"DS", l.srv.TrustAnchors(), dnssec.Secure, ""},
		{"DNSKEY", l.srv.TrustAnchorKeys(), dnssec.Secure, ""},
		{"DS with another digest", []dns.RR{wrongDS}, dnssec.Bogus, "DS mismatch"},
		{"another DNSKEY", []dns.RR{otherKey}, dnssec.Bogus, "DS mismatch"},
		{"root only", dnssec.RootAnchors(), dnssec.Bogus, "DNSKEY ."}, // the lab serves no root: lookups fail
		{"none", []dns.RR{}, dnssec.Insecure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := dnssec.NewValidator(l.client, tt.anchors, nil)
			sec, err := v.Validate(context.Background(), l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT))
			if tt.want == dnssec.Bogus {
				wantBogus(t, tt.name, sec, err, tt.reason)
				return
			}
			wantSecurity(t, tt.name, sec, err, tt.want)
		})
	}
}

func TestValidateDSMismatchIsBogus(t *testing.T) {
	l := startLab(t, testZones(0))
	sec, err := l.validate(t, "_oci-discovery.mismatch.example.", dns.TypeTXT)
	be := wantBogus(t, "child whose keys match no DS", sec, err, "DS mismatch")
	var inner *dnssec.BogusError
	if !errors.As(be.Err, &inner) || inner.RRset != "DNSKEY mismatch.example." {
		t.Errorf("cause %v, want the DNSKEY RRset of mismatch.example.", be.Err)
	}
}

func TestValidateAlgorithms(t *testing.T) {
	for _, alg := range []uint8{dns.RSASHA256, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			l := startLab(t, testZones(alg))
			keys, err := l.srv.DNSKEYs("corp.example.")
			if err != nil || keys[0].(*dns.DNSKEY).Algorithm != alg {
				t.Fatalf("corp.example. keys %v (%v), want algorithm %d", keys, err, alg)
			}
			sec, err := l.validate(t, "_oci-discovery.corp.example.", dns.TypeTXT)
			wantSecurity(t, "TXT", sec, err, dnssec.Secure)
			if err := l.srv.Tamper("_oci-registry._tcp.corp.example.", dns.TypeSRV); err != nil {
				t.Fatal(err)
			}
			sec, err = l.validate(t, "_oci-registry._tcp.corp.example.", dns.TypeSRV)
			wantBogus(t, "tampered SRV", sec, err, "bad signature")
		})
	}
}

func TestValidateCNAMEChain(t *testing.T) {
	l := startLab(t, testZones(0))
	a := l.ask(t, "_oci-discovery.alias.example.", dns.TypeTXT)
	if len(a.CNAMEs) != 1 || len(a.CNAMESigs) == 0 || len(a.Records) == 0 {
		t.Fatalf("want a signed CNAME to signed TXT, got %d CNAMEs, %d sigs, %d records", len(a.CNAMEs), len(a.CNAMESigs), len(a.Records))
	}
	sec, err := l.v.Validate(context.Background(), a)
	wantSecurity(t, "signed CNAME to signed TXT", sec, err, dnssec.Secure)

	// A secure link to an insecure zone makes the whole answer insecure.
	sec, err = l.validate(t, "_oci-discovery.to-island.example.", dns.TypeTXT)
	wantSecurity(t, "signed CNAME to unsigned TXT", sec, err, dnssec.Insecure)

	// Every link is checked: a forged CNAME target is bogus even though the
	// data it leads to is secure.
	forged := *a
	cn := dns.Copy(a.CNAMEs[0]).(*dns.CNAME)
	cn.Target = "_oci-discovery.mismatch.example."
	forged.CNAMEs = []dns.RR{cn}
	sec, err = l.v.Validate(context.Background(), &forged)
	be := wantBogus(t, "forged CNAME", sec, err, "bad signature")
	if be.RRset != "CNAME _oci-discovery.alias.example." {
		t.Errorf("bogus RRset %q, want the CNAME", be.RRset)
	}
	if err := l.srv.Tamper("_oci-discovery.alias.example.", dns.TypeCNAME); err == nil {
		sec, err = l.validate(t, "_oci-discovery.alias.example.", dns.TypeTXT)
		wantBogus(t, "tampered CNAME on the server", sec, err, "CNAME _oci-discovery.alias.example.")
	}
}

func TestValidateLookupFailureIsBogusAndUnknown(t *testing.T) {
	l := startLab(t, testZones(0))
	l.srv.SetFault("corp.example.", dns.TypeDNSKEY, dnstest.FaultServFail)
	sec, err := l.validate(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	wantBogus(t, "DNSKEY lookup SERVFAIL", sec, err, "DNSKEY lookup failed")
	if !errors.Is(err, dnsclient.ErrUnknown) {
		t.Errorf("error %v does not wrap dnsclient.ErrUnknown: a caller could not tell a failed lookup from a forgery", err)
	}
	// Failures are not cached: once the server recovers, so does validation.
	l.srv.SetFault("corp.example.", dns.TypeDNSKEY, dnstest.FaultNone)
	sec, err = l.validate(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	wantSecurity(t, "after recovery", sec, err, dnssec.Secure)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sec, err = dnssec.NewValidator(l.client, l.srv.TrustAnchors(), nil).Validate(ctx, l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT))
	wantSecurity(t, "cancelled context", sec, err, dnssec.Bogus)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

func TestValidatorCachesZoneKeysForTheirTTL(t *testing.T) {
	l := startLab(t, testZones(0))
	txt := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	srv := l.ask(t, "_oci-registry._tcp.corp.example.", dns.TypeSRV)
	l.srv.ResetCounts()
	for range 5 {
		for _, a := range []*dnsclient.Answer{txt, srv} {
			sec, err := l.v.Validate(context.Background(), a)
			wantSecurity(t, "warm", sec, err, dnssec.Secure)
		}
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"corp.example.", dns.TypeDNSKEY}, {"corp.example.", dns.TypeDS}, {"example.", dns.TypeDNSKEY}} {
		if n := l.srv.QueryCount(q.name, q.qtype); n != 1 {
			t.Errorf("%s %s asked %d times for 10 validations, want 1", dns.Type(q.qtype), q.name, n)
		}
	}
	if n := l.srv.TotalQueries(); n != 3 {
		t.Errorf("%d queries in all, want 3 (DNSKEY example., DS and DNSKEY corp.example.)", n)
	}
	// The keys' TTL is 300s: past it, they are fetched again.
	l.clock.advance(301 * time.Second)
	sec, err := l.v.Validate(context.Background(), txt)
	wantSecurity(t, "after the TTL", sec, err, dnssec.Secure)
	if n := l.srv.QueryCount("corp.example.", dns.TypeDNSKEY); n != 2 {
		t.Errorf("DNSKEY corp.example. asked %d times after the TTL passed, want 2", n)
	}
}

func TestValidatorCachesInsecureDelegations(t *testing.T) {
	l := startLab(t, testZones(0))
	a := l.ask(t, "_oci-discovery.island.example.", dns.TypeTXT)
	l.srv.ResetCounts()
	for range 3 {
		sec, err := l.v.Validate(context.Background(), a)
		wantSecurity(t, "unsigned child", sec, err, dnssec.Insecure)
	}
	if n := l.srv.QueryCount("island.example.", dns.TypeDS); n != 1 {
		t.Errorf("DS island.example. asked %d times, want 1", n)
	}
	// Finding the zone of the unsigned TXT: the DNSKEY question at
	// island.example. (its apex: NODATA with its SOA), never one about the
	// underscore name, which is not taken for a zone cut.
	if n := l.srv.QueryCount("island.example.", dns.TypeDNSKEY); n != 1 {
		t.Errorf("DNSKEY island.example. asked %d times, want 1", n)
	}
	if n := l.srv.QueryCount("_oci-discovery.island.example.", dns.TypeNone); n != 0 {
		t.Errorf("%d questions about _oci-discovery.island.example., want none", n)
	}
}

func TestValidateConcurrentColdValidationsShareQueries(t *testing.T) {
	l := startLab(t, testZones(0))
	answers := []*dnsclient.Answer{
		l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT),
		l.ask(t, "_oci-registry._tcp.corp.example.", dns.TypeSRV),
		l.ask(t, "_oci-discovery.island.example.", dns.TypeTXT),
	}
	want := []dnssec.Security{dnssec.Secure, dnssec.Secure, dnssec.Insecure}
	l.srv.ResetCounts()
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec, err := l.v.Validate(context.Background(), answers[i%3])
			if sec != want[i%3] || err != nil {
				errs <- fmt.Errorf("answer %d: %v %v, want %v", i%3, sec, err, want[i%3])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := l.srv.QueryCount("corp.example.", dns.TypeDNSKEY); n != 1 {
		t.Errorf("DNSKEY corp.example. asked %d times by 30 concurrent validations, want 1", n)
	}
}

func TestValidateTracesVerdicts(t *testing.T) {
	l := startLab(t, testZones(0))
	tr := trace.New(l.clock.now)
	ctx := trace.NewContext(context.Background(), tr)
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	if _, err := l.v.Validate(ctx, a); err != nil {
		t.Fatal(err)
	}
	var zone, verdict bool
	for _, e := range tr.Events() {
		if e.Source != "dns" {
			continue
		}
		switch {
		case e.Query == "DNSKEY corp.example." && e.DNSSEC == "secure" && strings.Contains(e.Decision, "DS"):
			zone = true
		case e.Query == "TXT _oci-discovery.corp.example." && e.DNSSEC == "secure" && strings.Contains(e.Decision, "corp.example."):
			verdict = true
		}
	}
	if !zone || !verdict {
		t.Errorf("trace lacks the zone validation (%v) or the verdict (%v): %+v", zone, verdict, tr.Events())
	}

	tr = trace.New(l.clock.now)
	_, err := l.v.Validate(trace.NewContext(context.Background(), tr), l.ask(t, "_oci-discovery.stripped.example.", dns.TypeTXT))
	evs := tr.Events()
	last := evs[len(evs)-1]
	if err == nil || last.DNSSEC != "bogus" || !strings.Contains(last.Decision, err.Error()) {
		t.Errorf("bogus verdict traced as %+v (error %v)", last, err)
	}
}

func TestValidateNilAnswerIsInsecure(t *testing.T) {
	sec, err := dnssec.NewValidator(nil, nil, nil).Validate(context.Background(), nil)
	if sec != dnssec.Insecure || err != nil {
		t.Errorf("Validate(nil) = %v, %v", sec, err)
	}
}

func TestSecurityStrings(t *testing.T) {
	for s, want := range map[dnssec.Security]string{dnssec.Insecure: "insecure", dnssec.Secure: "secure", dnssec.Bogus: "bogus", dnssec.Security(7): "security(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}

func BenchmarkValidateWarm(b *testing.B) {
	for _, alg := range []uint8{dns.RSASHA256, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519} {
		b.Run(dns.AlgorithmToString[alg], func(b *testing.B) {
			l := startLab(b, testZones(alg))
			a := l.ask(b, "_oci-discovery.corp.example.", dns.TypeTXT)
			if sec, err := l.v.Validate(context.Background(), a); sec != dnssec.Secure {
				b.Fatal(sec, err)
			}
			ctx := context.Background()
			b.Run("Validate", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if sec, _ := l.v.Validate(ctx, a); sec != dnssec.Secure {
						b.Fatal(sec)
					}
				}
			})
			// The floor: the one signature check a warm Validate must do.
			b.Run("RRSIG.Verify", func(b *testing.B) {
				keys, _ := l.srv.DNSKEYs("corp.example.")
				var zsk *dns.DNSKEY
				for _, k := range keys {
					if k.(*dns.DNSKEY).KeyTag() == a.Sigs[0].KeyTag {
						zsk = k.(*dns.DNSKEY)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := a.Sigs[0].Verify(zsk, a.Records); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkValidateWarmInsecure(b *testing.B) {
	l := startLab(b, testZones(0))
	a := l.ask(b, "_oci-discovery.island.example.", dns.TypeTXT)
	if sec, err := l.v.Validate(context.Background(), a); sec != dnssec.Insecure {
		b.Fatal(sec, err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if sec, _ := l.v.Validate(ctx, a); sec != dnssec.Insecure {
			b.Fatal(sec)
		}
	}
}

// The validator finds the zone of an unsigned answer from a referral too,
// when the server asked is authoritative only for the parent: the name is
// in the delegated child (no DS: insecure), not in the signed parent.
func TestValidateUnsignedAnswerBelowReferralIsInsecure(t *testing.T) {
	zones := testZones(0)
	var kept []dnstest.Zone
	for _, z := range zones {
		if z.Origin != "island.example." {
			kept = append(kept, z)
		}
	}
	l := startLab(t, kept)
	a := &dnsclient.Answer{Name: "_oci-discovery.island.example.", Qtype: dns.TypeTXT, Final: "_oci-discovery.island.example.",
		Records: []dns.RR{mustRR(t, `_oci-discovery.island.example. 300 IN TXT "v=oci1; registry=https://registry.island.example"`)}}
	sec, err := l.v.Validate(context.Background(), a)
	wantSecurity(t, "unsigned TXT below a referral", sec, err, dnssec.Insecure)
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// An RRSIG that cannot be checked — a made-up signer zone, an algorithm
// the validator does not implement — proves nothing, and must not make an
// RRset of a secure zone look insecure (RFC 4035 §5.2, RFC 6840 §5.11).
func TestValidateUncheckableSignaturesDoNotHideASecureZone(t *testing.T) {
	l := startLab(t, testZones(0))
	genuine := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	for name, a := range map[string]*dnsclient.Answer{
		"signer is a made-up zone":  forged(genuine, func(s *dns.RRSIG) { s.SignerName = "_oci-discovery.corp.example." }),
		"unsupported algorithm":     forged(genuine, func(s *dns.RRSIG) { s.Algorithm = dns.PRIVATEDNS }),
		"signer is not an ancestor": forged(genuine, func(s *dns.RRSIG) { s.SignerName = "elsewhere." }),
	} {
		sec, err := l.v.Validate(context.Background(), a)
		wantBogus(t, name, sec, err, "corp.example.")
	}

	// In a zone whose DS lists only an unknown algorithm, the same
	// signature is no reason for alarm: the zone is insecure.
	un := l.ask(t, "_oci-discovery.unsupported.example.", dns.TypeTXT)
	s := dns.Copy(genuine.Sigs[0]).(*dns.RRSIG)
	s.Hdr.Name, s.SignerName, s.Algorithm = "_oci-discovery.unsupported.example.", "unsupported.example.", 253
	un.Sigs = []*dns.RRSIG{s}
	sec, err := l.v.Validate(context.Background(), un)
	wantSecurity(t, "unknown algorithm in a zone with an unknown-algorithm DS", sec, err, dnssec.Insecure)
}
