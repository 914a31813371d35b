package check

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// TestUnauthenticatedCrossHostMappingIsAnError: a client with --dnssec on
// skips a mapping to another host that DNSSEC does not authenticate, so the
// delegation does not work for default clients.
func TestUnauthenticatedCrossHostMappingIsAnError(t *testing.T) {
	l := newLab(t, nil)
	l.validate = false // no validator, AD not trusted: nothing is authenticated
	fs := l.check(t, "good.example.com", nil)
	want(t, fs, "error UNAUTHENTICATED")
	f, _ := find(fs, CodeUnauthenticated)
	if !strings.Contains(f.Message, "https://good.example.com itself") {
		t.Errorf("the finding does not say where clients go instead: %s", f)
	}
}

// TestSignedCrossHostMappingIsFollowed: the same mapping, validated up to
// the trust anchor, is authenticated.
func TestSignedCrossHostMappingIsFollowed(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "good.example.com", nil)
	wantNo(t, fs, CodeUnauthenticated)
	f, _ := find(fs, CodeDNSSECStatus)
	if !strings.Contains(f.Message, "secure") || strings.Contains(f.Message, "insecure") {
		t.Errorf("DNSSEC status: %s", f)
	}
}

// TestTrustedADBitAuthenticates: a resolver's AD bit, when trusted, is as
// good as in-process validation.
func TestTrustedADBitAuthenticates(t *testing.T) {
	l := newLab(t, nil, func(c *dnstest.Config) { c.AD = true })
	l.validate = false
	fs := l.check(t, "good.example.com", func(c *Config) { c.TrustAD = true })
	wantNo(t, fs, CodeUnauthenticated)
	f, _ := find(fs, CodeDNSSECStatus)
	if !strings.Contains(f.Message, "AD bit") {
		t.Errorf("DNSSEC status: %s", f)
	}
}

// TestBogusTXTIsAnError: a TXT RRset changed after signing fails
// validation; clients reject it rather than fall through.
func TestBogusTXTIsAnError(t *testing.T) {
	l := newLab(t, nil)
	if err := l.server.Tamper("_oci-discovery.bogus.example.com.", dns.TypeTXT); err != nil {
		t.Fatal(err)
	}
	fs := l.check(t, "bogus.example.com", nil)
	want(t, fs, "error TXT_BOGUS")
	wantNo(t, fs, CodeTXTMapping)
}

// TestUnauthenticatedHopFurtherDown: the signed host delegates to a host
// in an unsigned zone, whose mapping default clients skip; the finding is
// about the delegate's record.
func TestUnauthenticatedHopFurtherDown(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "deleg.example.com", nil)
	f, ok := find(fs, CodeUnauthenticated)
	if !ok || f.Severity != Error || f.Host != "child.other.test" || !strings.Contains(f.Record, "/child") {
		t.Errorf("want an UNAUTHENTICATED error about child.other.test's record; got:\n%s", dump(fs))
	}
}

// TestDNSSECOffDoesNotAssess: as a --dnssec off client, authentication is
// not judged, and the check says so.
func TestDNSSECOffDoesNotAssess(t *testing.T) {
	l := newLab(t, nil)
	l.validate = false
	fs := l.check(t, "deleg.example.com", func(c *Config) { c.DNSSECOff = true })
	want(t, fs, "info DNSSEC_NOT_CHECKED", "info DELEGATION")
	wantNo(t, fs, CodeUnauthenticated)
}

// TestUnauthenticatedSaysWhereClientsGoInstead: where a --dnssec on client
// sends the names of a TXT mapping it skips is what the discovery
// algorithm decides for them, read from its hop report: the same place
// through the well-known document (a warning), another place (an error),
// or nowhere when the next source's answer is unknown — where a copy of
// the precedence rules said "direct".
func TestUnauthenticatedSaysWhereClientsGoInstead(t *testing.T) {
	l := newLab(t, wellKnownSites())
	l.validate = false // nothing is authenticated
	for _, tc := range []struct {
		host    string
		sev     Severity
		instead string
	}{
		{"good.example.com", Warning, "go to the same place through the well-known document (authenticated by HTTPS)"},
		{"disagree.example.com", Error, "go to where the well-known document sends them, every path → registry https://reg.example.com:"},
		{"reset.good.example.com", Error, "go to no registry: discovery fails ("},
	} {
		t.Run(tc.host, func(t *testing.T) {
			fs := l.check(t, tc.host, func(c *Config) { c.NoRegistryProbe = true })
			f, ok := find(fs, CodeUnauthenticated)
			if !ok || f.Severity != tc.sev || !strings.Contains(f.Message, tc.instead) {
				t.Errorf("want an UNAUTHENTICATED %s saying %q; got:\n%s", tc.sev, tc.instead, dump(fs))
			}
		})
	}
}
