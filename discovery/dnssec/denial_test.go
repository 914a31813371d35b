package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// denialMode is how the signed zones of the test namespace (example. and
// corp.example.) prove denials.
type denialMode struct {
	name       string
	nsec3      bool
	iterations uint16
	salt       string
	optOut     bool
}

var (
	withNSEC  = denialMode{name: "NSEC"}
	withNSEC3 = denialMode{name: "NSEC3", nsec3: true, iterations: 5, salt: "0badcafe"}
)

// denialZones is testZones with example. and corp.example. denying by m.
func denialZones(m denialMode) []dnstest.Zone {
	zones := testZones(0)
	for i := range zones {
		if o := zones[i].Origin; o == "example." || o == "corp.example." {
			zones[i].NSEC3, zones[i].NSEC3Iterations, zones[i].NSEC3Salt, zones[i].NSEC3OptOut = m.nsec3, m.iterations, m.salt, m.optOut
		}
	}
	return zones
}

// Valid denials of the signed zones are secure, with NSEC and with NSEC3
// (salted, iterated): NXDOMAIN, NODATA, NODATA at an empty non-terminal,
// a wildcard's NODATA and a wildcard answer, in the anchored zone and in
// its secure child; the proven absence of DS makes an unsigned child
// insecure (RFC 4035 §5.2-5.4, RFC 5155 §8).
func TestValidDenialsAreSecure(t *testing.T) {
	for _, m := range []denialMode{withNSEC, withNSEC3} {
		t.Run(m.name, func(t *testing.T) {
			l := startLab(t, denialZones(m))
			for _, tc := range []struct {
				what  string
				name  string
				qtype uint16
				rcode int
				want  dnssec.Security
			}{
				{"NXDOMAIN in the child", "nothing.corp.example.", dns.TypeTXT, dns.RcodeNameError, dnssec.Secure},
				{"NXDOMAIN, deeper", "_oci-discovery.host.corp.example.", dns.TypeTXT, dns.RcodeNameError, dnssec.Secure},
				{"NXDOMAIN in the anchored zone", "nothing.example.", dns.TypeTXT, dns.RcodeNameError, dnssec.Secure},
				{"NODATA", "_oci-discovery.corp.example.", dns.TypeSRV, dns.RcodeSuccess, dnssec.Secure},
				{"NODATA at the apex", "corp.example.", dns.TypeTXT, dns.RcodeSuccess, dnssec.Secure},
				{"NODATA at an empty non-terminal", "to-island.example.", dns.TypeTXT, dns.RcodeSuccess, dnssec.Secure},
				{"wildcard NODATA", "x.wild.example.", dns.TypeSRV, dns.RcodeSuccess, dnssec.Secure},
				{"wildcard answer", "_oci-discovery.x.wild.example.", dns.TypeTXT, dns.RcodeSuccess, dnssec.Secure},
				{"DS proven absent: unsigned child", "_oci-discovery.island.example.", dns.TypeTXT, dns.RcodeSuccess, dnssec.Insecure},
				{"DS proven absent: NXDOMAIN in the unsigned child", "nothing.island.example.", dns.TypeTXT, dns.RcodeNameError, dnssec.Insecure},
			} {
				t.Run(tc.what, func(t *testing.T) {
					a := l.ask(t, tc.name, tc.qtype)
					if a.Rcode != tc.rcode {
						t.Fatalf("rcode %s, want %s", dns.RcodeToString[a.Rcode], dns.RcodeToString[tc.rcode])
					}
					sec, err := l.v.Validate(context.Background(), a)
					wantSecurity(t, tc.what, sec, err, tc.want)
				})
			}
		})
	}
}

// forge returns a copy of a that answers name/qtype instead.
func forge(a *dnsclient.Answer, name string, qtype uint16, rcode int) *dnsclient.Answer {
	f := *a
	f.Name, f.Final, f.Qtype, f.Rcode = name, name, qtype, rcode
	f.Records, f.Sigs = nil, nil
	return &f
}

// Every negative answer of a signed zone carries the same signed SOA, so
// an attacker holds one for any name; a denial is only as good as its
// NSEC or NSEC3 proof. Each forgery here was Secure or Insecure when only
// the SOA was checked (all but the unsigned one); each is bogus, with
// ErrDenialNotProven.
func TestForgedDenialsAreBogus(t *testing.T) {
	for _, m := range []denialMode{withNSEC, withNSEC3} {
		t.Run(m.name, func(t *testing.T) {
			l := startLab(t, denialZones(m))
			nx := l.ask(t, "nothing.corp.example.", dns.TypeTXT)
			nodata := l.ask(t, "_oci-registry._tcp.corp.example.", dns.TypeTXT)
			ownNSEC := l.ask(t, "_oci-discovery.corp.example.", dns.TypeSRV)
			ent := l.ask(t, "to-island.example.", dns.TypeTXT)
			wild := l.ask(t, "x.wild.example.", dns.TypeTXT)
			if len(nx.Denial) == 0 || len(wild.Denial) == 0 || len(wild.Records) == 0 {
				t.Fatalf("lab: NXDOMAIN proof %v, wildcard answer %v proof %v", nx.Denial, wild.Records, wild.Denial)
			}
			stripped := *nx
			stripped.Denial = nil
			strippedWild := *wild
			strippedWild.Denial = nil
			// The wildcard's answer, renamed, for a name that has its own.
			substituted := forge(wild, "real.wild.example.", dns.TypeTXT, dns.RcodeSuccess)
			for _, rr := range wild.Records {
				rr = dns.Copy(rr)
				rr.Header().Name = "real.wild.example."
				substituted.Records = append(substituted.Records, rr)
			}
			for _, sig := range wild.Sigs {
				sig = dns.Copy(sig).(*dns.RRSIG)
				sig.Hdr.Name = "real.wild.example."
				substituted.Sigs = append(substituted.Sigs, sig)
			}
			// Everything unsigned: no RRSIG, no NSEC.
			unsigned := forge(nx, "_oci-discovery.corp.example.", dns.TypeTXT, dns.RcodeNameError)
			unsigned.AuthoritySigs, unsigned.Denial = nil, nil
			// An unsigned SOA claiming a zone of its own inside the signed one.
			madeUp := forge(nx, "_oci-discovery.host.corp.example.", dns.TypeTXT, dns.RcodeNameError)
			madeUp.SOA = dns.Copy(nx.SOA).(*dns.SOA)
			madeUp.SOA.Hdr.Name = "host.corp.example."
			madeUp.AuthoritySigs, madeUp.Denial = nil, nil

			for _, tc := range []struct {
				what string
				a    *dnsclient.Answer
				want error
			}{
				{"NSEC stripped from an NXDOMAIN", &stripped, dnssec.ErrDenialNotProven},
				{"NXDOMAIN replayed for a name that exists", forge(nx, "_oci-discovery.corp.example.", dns.TypeTXT, dns.RcodeNameError), dnssec.ErrDenialNotProven},
				{"NODATA replayed for another name", forge(nodata, "_oci-discovery.corp.example.", dns.TypeTXT, dns.RcodeSuccess), dnssec.ErrDenialNotProven},
				{"NODATA whose proof lists the type", forge(ownNSEC, "_oci-discovery.corp.example.", dns.TypeTXT, dns.RcodeSuccess), dnssec.ErrDenialNotProven},
				{"NXDOMAIN for an empty non-terminal", forge(ent, "to-island.example.", dns.TypeTXT, dns.RcodeNameError), dnssec.ErrDenialNotProven},
				{"wildcard answer without its proof", &strippedWild, dnssec.ErrDenialNotProven},
				{"wildcard answer for a name that has its own", substituted, dnssec.ErrDenialNotProven},
				{"NXDOMAIN from a made-up zone inside the signed one", madeUp, dnssec.ErrDenialNotProven},
				{"unsigned NXDOMAIN", unsigned, dnssec.ErrSignaturesStripped},
			} {
				t.Run(tc.what, func(t *testing.T) {
					sec, err := l.v.Validate(context.Background(), tc.a)
					be := wantBogus(t, tc.what, sec, err, "")
					if !errors.Is(err, tc.want) {
						t.Errorf("Kind %v, want %v: %v", be.Kind, tc.want, err)
					}
					if dnssec.Verdict(sec, err) != dnssec.Bogus {
						t.Errorf("Verdict %v: a forgery must stay bogus", dnssec.Verdict(sec, err))
					}
				})
			}
		})
	}
}

// stripDS is an attacker on the path who answers the DS question of one
// zone with a genuine, signed denial of another zone's DS: the parent's
// SOA, and the NSEC or NSEC3 of the other delegation.
type stripDS struct {
	c      *dnsclient.Client
	zone   string
	replay *dnsclient.Answer
}

func (s *stripDS) Query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error) {
	if qtype == dns.TypeDS && dns.CanonicalName(name) == s.zone {
		return forge(s.replay, s.zone, dns.TypeDS, s.replay.Rcode), nil
	}
	return s.c.Query(ctx, name, qtype)
}

// Stripping the DS of a signed child turns it into an unsigned one, whose
// data an attacker may then forge unsigned: the absence of DS must be
// proven at that delegation. Before NSEC was checked, the forged TXT
// below was Insecure.
func TestStrippedDSIsBogus(t *testing.T) {
	for _, m := range []denialMode{withNSEC, withNSEC3} {
		t.Run(m.name, func(t *testing.T) {
			l := startLab(t, denialZones(m))
			replay := l.ask(t, "island.example.", dns.TypeDS)
			if len(replay.Records) != 0 || replay.SOA == nil || len(replay.Denial) == 0 {
				t.Fatalf("lab: DS island.example. %+v", replay)
			}
			v := dnssec.NewValidator(&stripDS{c: l.client, zone: "corp.example.", replay: replay}, l.srv.TrustAnchors(), l.clock.now)
			forged := &dnsclient.Answer{Name: "_oci-discovery.corp.example.", Final: "_oci-discovery.corp.example.", Qtype: dns.TypeTXT,
				Records: []dns.RR{mustRR(t, `_oci-discovery.corp.example. 300 IN TXT "v=oci1; registry=https://attacker.example"`)}}
			sec, err := v.Validate(context.Background(), forged)
			wantBogus(t, "unsigned TXT under a stripped DS", sec, err, "DS corp.example.")
			if !errors.Is(err, dnssec.ErrDenialNotProven) {
				t.Errorf("want ErrDenialNotProven: %v", err)
			}
		})
	}
}

// Opt-out (RFC 5155 §6): an unsigned delegation in an opt-out span has no
// NSEC3 record; the opt-out record covering it proves only that it may be
// an unsigned delegation: insecure, as is a name denied within such a
// span. A signed delegation keeps its own record and stays secure.
func TestOptOutSpansAreInsecureDelegations(t *testing.T) {
	m := withNSEC3
	m.optOut = true
	l := startLab(t, denialZones(m))
	for _, tc := range []struct {
		name  string
		qtype uint16
		want  dnssec.Security
	}{
		{"_oci-discovery.island.example.", dns.TypeTXT, dnssec.Insecure},
		{"nothing.island.example.", dns.TypeTXT, dnssec.Insecure},
		{"island.example.", dns.TypeDS, dnssec.Insecure},
		{"nothing.example.", dns.TypeTXT, dnssec.Insecure}, // NXDOMAIN inside an opt-out span
		{"_oci-discovery.corp.example.", dns.TypeTXT, dnssec.Secure},
		{"nothing.corp.example.", dns.TypeTXT, dnssec.Insecure}, // corp.example. is opt-out too
	} {
		sec, err := l.validate(t, tc.name, tc.qtype)
		wantSecurity(t, dns.Type(tc.qtype).String()+" "+tc.name, sec, err, tc.want)
	}
	// The DS question of the unsigned child is answered by a closest
	// encloser proof whose next closer name is covered by an opt-out
	// record: nothing matches island.example. itself.
	a := l.ask(t, "island.example.", dns.TypeDS)
	for _, rr := range a.Denial {
		if n, ok := rr.(*dns.NSEC3); !ok || n.Flags&1 == 0 || n.Match("island.example.") {
			t.Errorf("opt-out denial of DS carries %v", rr)
		}
	}
}

// RFC 9276 §3.2: NSEC3 hashed with more than 100 additional iterations
// is not checked, and its denials are insecure; at 100 they are checked.
// The iterations are part of the signed record: raising them in transit
// breaks the signature, so an attacker cannot make a denial insecure.
func TestNSEC3IterationsAbove100AreInsecure(t *testing.T) {
	for _, tc := range []struct {
		iterations uint16
		want       dnssec.Security
	}{{100, dnssec.Secure}, {150, dnssec.Insecure}} {
		t.Run(fmt.Sprintf("%d iterations", tc.iterations), func(t *testing.T) {
			m := withNSEC3
			m.iterations = tc.iterations
			l := startLab(t, denialZones(m))
			for _, q := range []struct {
				name  string
				qtype uint16
			}{
				{"nothing.corp.example.", dns.TypeTXT},
				{"_oci-discovery.corp.example.", dns.TypeSRV},
				{"_oci-discovery.x.wild.example.", dns.TypeTXT},
			} {
				sec, err := l.validate(t, q.name, q.qtype)
				wantSecurity(t, q.name, sec, err, tc.want)
			}
		})
	}

	l := startLab(t, denialZones(withNSEC3))
	a := l.ask(t, "nothing.corp.example.", dns.TypeTXT)
	raised := *a
	raised.Denial = nil
	for _, rr := range a.Denial {
		n := dns.Copy(rr).(*dns.NSEC3)
		n.Iterations = 150
		raised.Denial = append(raised.Denial, n)
	}
	sec, err := l.v.Validate(context.Background(), &raised)
	wantBogus(t, "iterations raised in transit", sec, err, "bad signature")
}

// Hashing is bounded (CVE-2023-50868): a closest encloser proof hashes
// every ancestor of the name below the zone, each 1 + iterations SHA-1
// computations; a name so deep that its proof needs more than a
// validation may spend is bogus with ErrBudgetExceeded, never insecure.
func TestNSEC3HashingIsBounded(t *testing.T) {
	m := withNSEC3
	m.iterations = 100
	l := startLab(t, denialZones(m))
	sec, err := l.validate(t, "a.b.c.d.e.f.g.h.i.corp.example.", dns.TypeTXT)
	be := wantBogus(t, "deep name at 100 iterations", sec, err, "NSEC3 hash computations")
	if !errors.Is(err, dnssec.ErrBudgetExceeded) {
		t.Errorf("Kind %v, want ErrBudgetExceeded", be.Kind)
	}
	// A name of ordinary depth is proven within the budget.
	sec, err = l.validate(t, "_oci-discovery.host.corp.example.", dns.TypeTXT)
	wantSecurity(t, "ordinary depth at 100 iterations", sec, err, dnssec.Secure)
}

// BenchmarkValidateDenial measures what proving a denial costs beside
// validating a positive answer of the same zone (the reference, "TXT"):
// warm (the chain of trust cached: the signature checks and NSEC3 hashing
// alone) and cold (a new validator: the chain fetched from the loopback
// server as well).
func BenchmarkValidateDenial(b *testing.B) {
	for _, m := range []denialMode{withNSEC, withNSEC3} {
		b.Run(m.name, func(b *testing.B) {
			l := startLab(b, denialZones(m))
			ctx := context.Background()
			for _, q := range []struct {
				what  string
				name  string
				qtype uint16
			}{
				{"TXT", "_oci-discovery.corp.example.", dns.TypeTXT},
				{"NXDOMAIN", "_oci-discovery.host.corp.example.", dns.TypeTXT},
				{"NODATA", "_oci-discovery.corp.example.", dns.TypeSRV},
			} {
				a := l.ask(b, q.name, q.qtype)
				if sec, err := l.v.Validate(ctx, a); sec != dnssec.Secure {
					b.Fatal(q.what, sec, err)
				}
				b.Run(q.what+"/warm", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if sec, _ := l.v.Validate(ctx, a); sec != dnssec.Secure {
							b.Fatal(sec)
						}
					}
				})
				b.Run(q.what+"/cold", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						v := dnssec.NewValidator(l.client, l.srv.TrustAnchors(), l.clock.now)
						if sec, _ := v.Validate(ctx, a); sec != dnssec.Secure {
							b.Fatal(sec)
						}
					}
				})
			}
		})
	}
}

// The NSEC records a proof looks at are bounded (docs/protocol.md §11):
// the first eight of the zone, each verified. Records that do not verify
// are left out, so seven in front of the genuine proof still let it
// through; eight push it out, and the denial is not proven. Either way a
// validation verifies at most eight of them.
func TestDenialLooksAtEightRecords(t *testing.T) {
	l := startLab(t, denialZones(withNSEC))
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeSRV)
	if len(a.Denial) != 1 {
		t.Fatalf("lab: NODATA proven by %v", a.Denial)
	}
	junk := func(n int) *dnsclient.Answer {
		f := *a
		f.Denial = nil
		for i := range n {
			j := dns.Copy(a.Denial[0]).(*dns.NSEC)
			j.NextDomain = fmt.Sprintf("junk%d.corp.example.", i) // its RRSIG no longer verifies
			f.Denial = append(f.Denial, j)
		}
		f.Denial = append(f.Denial, a.Denial[0])
		return &f
	}
	sec, err := l.v.Validate(context.Background(), junk(7))
	wantSecurity(t, "7 bad records, then the proof", sec, err, dnssec.Secure)
	sec, err = l.v.Validate(context.Background(), junk(8))
	wantBogus(t, "8 bad records, then the proof", sec, err, "bad signature")
	if !errors.Is(err, dnssec.ErrDenialNotProven) {
		t.Errorf("want ErrDenialNotProven: %v", err)
	}
	// 200 bad records cost no more than 8: the per-validation budget of
	// signature verifications (32) is not what stops them.
	sec, err = l.v.Validate(context.Background(), junk(200))
	if errors.Is(err, dnssec.ErrBudgetExceeded) || !errors.Is(err, dnssec.ErrDenialNotProven) {
		t.Errorf("200 bad records: %v %v, want denial not proven within the bound", sec, err)
	}
}
