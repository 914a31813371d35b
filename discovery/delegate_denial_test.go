package discovery_test

import (
	"errors"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// An attacker who can answer plain DNS for org.sec.test denies its signed
// TXT mappings with NXDOMAIN and the zone's signed SOA (which every
// negative answer of the zone carries) but no NSEC. Were that accepted as
// a secure denial, discovery would fall through to org's SRV record,
// stripping the mapping (and any signing policy published beside it).
// The denial is not proven: discovery fails naming the TXT question, and
// never falls through.
func TestForgedDenialOfASignedMappingIsAnError(t *testing.T) {
	l, o := dlSecLab(t, dnstest.Config{})
	l.srv.SetFault("_oci-discovery.org.sec.test.", dns.TypeTXT, dnstest.FaultDenyWithoutProof)
	de, evs := dlFail(t, discovery.New(o), "org.sec.test/acme/app")
	if !errors.Is(de, dnssec.ErrBogus) || !errors.Is(de, dnssec.ErrDenialNotProven) {
		t.Errorf("%v, want ErrBogus and ErrDenialNotProven", de)
	}
	if de.Step != "TXT _oci-discovery.org.sec.test." || de.Host != "org.sec.test" {
		t.Errorf("Step %q, Host %q", de.Step, de.Host)
	}
	if dlDecided(evs, "registry located by SRV") {
		t.Errorf("fell through to SRV:\n%s", dlTrace(evs))
	}
}

// With NSEC3 (salted, iterated) instead of NSEC, proven denials are what
// they say, absent, and discovery falls through to the next source; the
// denial of an unsigned child's DS makes its mapping insecure, skipped.
func TestNSEC3DenialsFallThrough(t *testing.T) {
	zones := dlSecZones()
	for i := range zones {
		if zones[i].Sign {
			zones[i].NSEC3, zones[i].NSEC3Iterations, zones[i].NSEC3Salt = true, 10, "feedbeef"
		}
	}
	l := dlStart(t, dnstest.Config{Zones: zones})
	o := l.options()
	for _, host := range []string{"nothing.signed.sec.test", "nothing.island.sec.test", "nothing.sec.test"} {
		res, evs := dlMust(t, discovery.New(o), host+"/app")
		if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://"+host {
			t.Errorf("%s: endpoints\n%s%s", host, dlEndpoints(res.Endpoints), dlTrace(evs))
		}
	}
	res, evs := dlMust(t, discovery.New(o), "org.sec.test/island/app")
	if res.Endpoints[0].URL != "https://island.sec.test" {
		t.Errorf("island: endpoints\n%s", dlEndpoints(res.Endpoints))
	}
	dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (registry.child.example)")
	l.srv.SetFault("_oci-discovery.signed.sec.test.", dns.TypeTXT, dnstest.FaultDenyWithoutProof)
	if de, _ := dlFail(t, discovery.New(o), "signed.sec.test/app"); !errors.Is(de, dnssec.ErrDenialNotProven) {
		t.Errorf("forged denial: %v", de)
	}
}
