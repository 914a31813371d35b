package check

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// TestTXTFindings pins what check says about each kind of TXT RRset, read
// by discovery.ParseTXT and judged by discovery.Select as clients do.
func TestTXTFindings(t *testing.T) {
	l := newLab(t, nil)
	tests := []struct {
		host   string
		want   []string
		wantNo []string
	}{
		// A valid, signed mapping to a working registry: nothing to fix.
		{host: "good.example.com", want: []string{"info TXT_MAPPING", "info DNSSEC_STATUS", "info REGISTRY_OK"},
			wantNo: []string{CodeUnauthenticated, CodeTXTMalformed}},
		// "a duplicated key or a malformed value makes that record invalid".
		{host: "malformed.example.com", want: []string{"error TXT_MALFORMED", "info TXT_MAPPING"}},
		// http:// only for hosts the client marked insecure.
		{host: "http.example.com", want: []string{"error TXT_MALFORMED"}},
		// "two records with the same prefix and different targets are an error
		// unless both are registry=".
		{host: "conflict.example.com", want: []string{"error TXT_CONFLICT"}},
		// "records with another v are ignored".
		{host: "versions.example.com", want: []string{"warning TXT_IGNORED_VERSION", "warning TXT_MISSING_VERSION", "info TXT_NOT_OCI", "info TXT_MAPPING"},
			wantNo: []string{CodeTXTMalformed}},
		// Only resolve endpoints may turn a tag into a digest.
		{host: "pullonly.example.com", want: []string{"warning NO_RESOLVE_ENDPOINT", "warning DUPLICATE_MAPPING"}},
		{host: "nothing.example.com", want: []string{"info TXT_NONE"}},
		// An RRset over the limits clients read is refused whole: unknown.
		{host: "toolarge.example.com", want: []string{"error TXT_TOO_LARGE"},
			wantNo: []string{CodeTXTMapping, CodeNothingPublished}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			fs := l.check(t, tt.host, nil)
			want(t, fs, tt.want...)
			wantNo(t, fs, tt.wantNo...)
		})
	}
}

// TestTXTFindingRecordsAndFixes: a finding about a record carries the
// record as published, and every problem says how to fix it.
func TestTXTFindingRecordsAndFixes(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "conflict.example.com", nil)
	f, ok := find(fs, CodeTXTConflict)
	if !ok {
		t.Fatalf("no conflict found:\n%s", dump(fs))
	}
	if !strings.Contains(f.Record, "delegate=good.example.com") || !strings.Contains(f.Record, "registry=https://reg.example.com") {
		t.Errorf("conflict record %q does not name both records", f.Record)
	}
	if f.Host != "conflict.example.com" {
		t.Errorf("host %q", f.Host)
	}
	for _, f := range fs {
		if f.Severity > Info && f.Fix == "" {
			t.Errorf("%s has no fix", f)
		}
	}
}

// TestTXTInsecureRegistryAllowed: with the host marked insecure, as the
// client would be told with --insecure-registry, an http:// registry is a
// valid mapping.
func TestTXTInsecureRegistryAllowed(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "http.example.com", func(c *Config) {
		c.Insecure = func(h string) bool { return strings.HasPrefix(h, "reg.example.com") }
		c.NoRegistryProbe = true
	})
	want(t, fs, "info TXT_MAPPING")
	wantNo(t, fs, CodeTXTMalformed)
}

// TestTXTLookupFailureIsAnError: SERVFAIL makes the answer unknown, and
// clients fail rather than fall through ("never a silent downgrade").
func TestTXTLookupFailureIsAnError(t *testing.T) {
	l := newLab(t, nil)
	l.server.SetFault("_oci-discovery.good.example.com.", dns.TypeTXT, dnstest.FaultServFail)
	fs := l.check(t, "good.example.com", nil)
	want(t, fs, "error TXT_LOOKUP_FAILED")
	wantNo(t, fs, CodeTXTMapping, CodeNothingPublished)
}
