package e2e

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// dnsPath is one way of reaching the lab's DNS: BIND directly with
// in-process validation against the lab's anchor, or unbound with its AD
// bit trusted.
type dnsPath struct {
	name string
	opts func(t *testing.T, l *lab, dnssecOff bool) discovery.Options
}

var dnsPaths = []dnsPath{
	{"bind+anchor", func(t *testing.T, l *lab, off bool) discovery.Options {
		dc := dnstest.ClientT(t, 0, l.bind)
		o := discovery.Options{DNS: dc, NoWellKnown: true, Insecure: l.insecureFunc(), DNSSECOff: off}
		if !off {
			o.Validator = dnssec.NewValidator(dc, append(dnssec.RootAnchors(), labAnchors(t, l)...), nil)
		}
		return o
	}},
	{"unbound+trust-ad", func(t *testing.T, l *lab, off bool) discovery.Options {
		dc := dnstest.ClientT(t, 0, l.unbound)
		return discovery.Options{DNS: dc, NoWellKnown: true, Insecure: l.insecureFunc(), DNSSECOff: off, TrustAD: !off}
	}},
}

func labAnchors(t *testing.T, l *lab) []dns.RR {
	t.Helper()
	f, err := os.Open(l.anchor)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rrs, err := dnssec.ParseAnchors(f, l.anchor)
	if err != nil {
		t.Fatalf("the lab's anchor (dnssec-signzone's dsset) does not parse: %v", err)
	}
	return rrs
}

func discover(t *testing.T, o discovery.Options, host, path string) (*discovery.Result, []trace.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr := trace.New(nil)
	res, err := discovery.New(o).Discover(trace.NewContext(ctx, tr), host, path)
	return res, tr.Events(), err
}

func logTrace(t *testing.T, events []trace.Event) {
	t.Helper()
	for _, e := range events {
		t.Logf("  %-9s %-50s %-10s %-8s %s", e.Source, e.Query, e.Outcome, e.DNSSEC, e.Decision)
	}
}

// Signed mappings are followed across hosts and report "dnssec", over
// either path: the anchor validates BIND's answers in-process, and
// unbound's AD bit is trusted when asked to.
func TestSignedMappingsAreFollowedAndAuthenticated(t *testing.T) {
	l := needLab(t)
	type hop struct {
		host   string
		source discovery.Source
	}
	cases := []struct {
		host, path string
		url, repo  string
		source     discovery.Source
		chain      []hop
	}{
		{"lab.test", "app", "http://" + l.plain(), "lab/app", discovery.SourceTXT,
			[]hop{{"lab.test", discovery.SourceTXT}}},
		// Two hops across two signed zones: lab.test delegates acme/ to
		// acme.lab.test, whose DS is in lab.test.
		{"lab.test", "acme/app", "http://" + l.plain(), "acme/app", discovery.SourceTXT,
			[]hop{{"lab.test", discovery.SourceTXT}, {"acme.lab.test", discovery.SourceTXT}}},
		{"lab.test", "secure/app", "http://" + l.token(), "secure/app", discovery.SourceTXT,
			[]hop{{"lab.test", discovery.SourceTXT}}},
		{"srv.lab.test", "acme/app", "http://" + l.plain(), "acme/app", discovery.SourceSRV,
			[]hop{{"srv.lab.test", discovery.SourceSRV}}},
	}
	for _, p := range dnsPaths {
		for _, c := range cases {
			t.Run(p.name+"/"+c.host+"/"+c.path, func(t *testing.T) {
				res, events, err := discover(t, p.opts(t, l, false), c.host, c.path)
				if err != nil {
					logTrace(t, events)
					t.Fatalf("Discover(%s/%s): %v", c.host, c.path, err)
				}
				if len(res.Endpoints) == 0 {
					t.Fatalf("no endpoints: %+v", res)
				}
				ep := res.Endpoints[0]
				if ep.URL != c.url || ep.Repository != c.repo || ep.Source != c.source || ep.Authenticated != discovery.AuthDNSSEC {
					logTrace(t, events)
					t.Fatalf("endpoint = %+v, want %s repository %s from %s, authenticated dnssec", ep, c.url, c.repo, c.source)
				}
				if len(res.Chain) != len(c.chain) {
					t.Fatalf("chain = %+v, want %d steps", res.Chain, len(c.chain))
				}
				for i, h := range c.chain {
					s := res.Chain[i]
					if s.Host != h.host || s.Source != h.source || s.Authenticated != discovery.AuthDNSSEC {
						t.Errorf("chain[%d] = %+v, want host %s source %s authenticated dnssec", i, s, h.host, h.source)
					}
				}
				if res.DNSSECOff {
					t.Error("DNSSECOff set with dnssec on")
				}
			})
		}
	}
}

// A zone tampered with after signing makes discovery fail with the cause
// named — never fall through to the SRV record (validly signed, pointing at
// a registry that holds the path) or to the direct registry.
func TestTamperedZoneFailsWithoutFallThrough(t *testing.T) {
	l := needLab(t)
	for _, p := range dnsPaths {
		for _, name := range [][2]string{{"bogus.lab.test", "direct/app"}, {"lab.test", "bogus/app"}} {
			t.Run(p.name+"/"+name[0]+"/"+name[1], func(t *testing.T) {
				res, events, err := discover(t, p.opts(t, l, false), name[0], name[1])
				if err == nil {
					logTrace(t, events)
					t.Fatalf("Discover(%s/%s) = %+v, want an error", name[0], name[1], res)
				}
				var de *discovery.Error
				if !errors.As(err, &de) || de.Host != "bogus.lab.test" || !strings.Contains(de.Step, "TXT _oci-discovery.bogus.lab.test.") {
					t.Fatalf("error = %v, want a *discovery.Error at host bogus.lab.test, step TXT _oci-discovery.bogus.lab.test.", err)
				}
				// In-process validation knows it is forged; through unbound
				// it is a SERVFAIL, i.e. "unknown" — both refuse to go on.
				want := dnssec.ErrBogus
				if p.name == "unbound+trust-ad" {
					want = dnsclient.ErrUnknown
				}
				if !errors.Is(err, want) {
					t.Fatalf("error = %v, want it to wrap %v", err, want)
				}
			})
		}
	}
}

// An unsigned child (no DS in the signed parent) is provably insecure: its
// mapping to another host is skipped under dnssec on, and discovery goes
// on to the host's own SRV record. Under dnssec off the mapping is followed
// and the result says so.
func TestUnsignedChildCrossHostMappingIsSkipped(t *testing.T) {
	l := needLab(t)
	for _, p := range dnsPaths {
		t.Run(p.name+"/dnssec-on", func(t *testing.T) {
			res, events, err := discover(t, p.opts(t, l, false), "unsigned.lab.test", "direct/app")
			if err != nil {
				logTrace(t, events)
				t.Fatal(err)
			}
			ep := res.Endpoints[0]
			if ep.URL != "http://unsigned.lab.test:"+l.plainPort || ep.Repository != "direct/app" || ep.Source != discovery.SourceSRV {
				logTrace(t, events)
				t.Fatalf("endpoint = %+v, want the host's own registry from SRV", ep)
			}
			if ep.Authenticated == discovery.AuthDNSSEC {
				t.Errorf("endpoint authenticated %q from an unsigned zone", ep.Authenticated)
			}
			skipped := false
			for _, e := range events {
				if strings.Contains(e.Decision, "skipped unauthenticated mapping") && strings.Contains(e.Decision, "registry.lab.test") {
					skipped = true
				}
			}
			if !skipped {
				logTrace(t, events)
				t.Error("the trace does not report the skipped mapping to registry.lab.test")
			}
		})
		t.Run(p.name+"/dnssec-off", func(t *testing.T) {
			res, events, err := discover(t, p.opts(t, l, true), "unsigned.lab.test", "direct/app")
			if err != nil {
				logTrace(t, events)
				t.Fatal(err)
			}
			ep := res.Endpoints[0]
			if ep.URL != "http://"+l.plain() || ep.Repository != "evil/direct/app" || !res.DNSSECOff {
				t.Fatalf("result = %+v, want registry.lab.test evil/direct/app with DNSSECOff", res)
			}
		})
	}
}
