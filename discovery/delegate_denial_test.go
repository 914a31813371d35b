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
