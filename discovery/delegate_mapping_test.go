package discovery_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
)

// DESIGN §2: "registry=<https URL> ... the URL path is a repository prefix:
// example.com/tools/x → ghcr.io, repository example-tools/x". One TXT
// record maps the whole host; the chain has one step with that record.
func TestSingleMappingSendsTheNameToTheRegistry(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			const record = "v=oci1; registry=https://registry.example/single"
			// The host is matched case-insensitively and without its root dot.
			for _, name := range []string{"single.mapping.test/app", "Single.Mapping.Test./app"} {
				res, evs := dlMust(t, d, name)
				if res.Name != name {
					t.Errorf("Name %q, want %q", res.Name, name)
				}
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: "https://registry.example", Repository: "single/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				dlWantChain(t, res.Chain, []discovery.Step{
					{Host: "single.mapping.test", Path: "app", Source: discovery.SourceTXT, Record: record, Authenticated: mode.auth},
				})
				if res.DNSSECOff != !mode.sign {
					t.Errorf("DNSSECOff %v, want %v", res.DNSSECOff, !mode.sign)
				}
				if res.TTL != 1800*time.Second || res.Chain[0].TTL != 1800*time.Second {
					t.Errorf("TTL %v, step TTL %v, want the record's 30m", res.TTL, res.Chain[0].TTL)
				}
				dlWantDecision(t, evs, "mapping "+record)
				dlWantDecision(t, evs, "1 endpoint(s) after 1 hop(s), authenticated: "+string(mode.auth))
			}
		})
	}
}

// DESIGN §2: "caps=resolve,pull (default both; only resolve endpoints may
// turn a tag into a digest)"; "Keys are case-insensitive".
func TestMappingCapsPriorityAndCanonicalURL(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "caps.mapping.test/tools/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://cache.example", Repository: "tools/x", Priority: 1, Caps: discovery.CapPull, Source: discovery.SourceTXT, Authenticated: mode.auth},
				{URL: "https://origin.example:5000", Repository: "org/tools/x", Priority: 2, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
		})
	}
}

// DESIGN §2: "records with another v are ignored (other protocols share
// TXT space)". They are noted in the trace, and the v=oci1 record decides.
func TestOtherTXTRecordsAreIgnored(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)

			res, evs := dlMust(t, d, "ignored.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "ignored/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
			for _, rec := range []string{"v=spf1 -all", "google-site-verification=abc123", "v=oci2; registry=https://future.example"} {
				dlWantDecision(t, evs, "ignored TXT record that is not v=oci1", rec)
			}

			// Only other protocols' records: the host is its own registry.
			res, evs = dlMust(t, d, "onlyspf.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://onlyspf.mapping.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			dlWantDecision(t, evs, "ignored TXT record that is not v=oci1", "v=spf1 -all")
			dlWantDecision(t, evs, "onlyspf.mapping.test is its own registry")
		})
	}
}

// DESIGN §2: "two records with the same prefix and different targets are
// an error unless both are registry= (then they are mirrors)"; the error
// names both records and the step. Other prefixes of the host still work.
func TestConflictingRecordsAreAnErrorNamingBoth(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, tc := range []struct {
				name string
				a, b string
			}{
				{"conflict.mapping.test/acme/app", "v=oci1; prefix=acme; delegate=acme.example", "v=oci1; prefix=acme; registry=https://acme-registry.example"},
				{"conflict.mapping.test/tools/x", "v=oci1; prefix=tools; delegate=tools-a.example", "v=oci1; prefix=tools; delegate=tools-b.example"},
			} {
				de, _ := dlFail(t, d, tc.name)
				if !errors.Is(de, discovery.ErrConflict) {
					t.Errorf("%s: %v, want ErrConflict", tc.name, de)
				}
				var ce *discovery.ConflictError
				if !errors.As(de, &ce) || ce.A.Record != tc.a || ce.B.Record != tc.b {
					t.Errorf("%s: ConflictError %+v, want A %q, B %q", tc.name, ce, tc.a, tc.b)
				}
				if de.Host != "conflict.mapping.test" || de.Step != "TXT _oci-discovery.conflict.mapping.test." {
					t.Errorf("%s: Host %q, Step %q", tc.name, de.Host, de.Step)
				}
				for _, s := range []string{tc.name, tc.a, tc.b, "_oci-discovery.conflict.mapping.test."} {
					if !strings.Contains(de.Error(), s) {
						t.Errorf("%s: error %q does not name %q", tc.name, de, s)
					}
				}
			}
			res, _ := dlMust(t, d, "conflict.mapping.test/other/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "conflict/other/x", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
		})
	}
}

// DESIGN §2 "Algorithm": "valid TXT mapping → SRV → well-known mapping →
// direct". A TXT mapping wins for its prefix; the SRV serves the rest.
func TestTXTMappingTakesPrecedenceOverSRV(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)

			res, _ := dlMust(t, d, "txtsrv.mapping.test/tools/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://tools.example", Repository: "x", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})

			res, evs := dlMust(t, d, "txtsrv.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.txtsrv.mapping.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceSRV, Authenticated: mode.auth},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "txtsrv.mapping.test", Path: "app", Source: discovery.SourceSRV, Record: "0 0 443 registry.txtsrv.mapping.test.", Authenticated: mode.auth},
			})
			dlWantDecision(t, evs, `no v=oci1 prefix matches path "app"`)
			dlWantDecision(t, evs, "registry located by SRV: https://registry.txtsrv.mapping.test")
		})
	}
}
