package check

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// TestSRVFindings pins the findings about _oci-registry._tcp records.
func TestSRVFindings(t *testing.T) {
	l := newLab(t, nil)
	tests := []struct {
		host   string
		want   []string
		wantNo []string
	}{
		// A signed SRV record to a working registry.
		{host: "srv.example.com", want: []string{"info SRV_TARGET", "info REGISTRY_OK"}, wantNo: []string{CodeSRVTLSName}},
		// Port 0 is no port.
		{host: "srvport0.example.com", want: []string{"error SRV_MALFORMED"}},
		// A target without A/AAAA records.
		{host: "srvbad.example.com", want: []string{"error SRV_UNRESOLVED"}},
		// Target "." : no registry at this host.
		{host: "srvnone.example.com", want: []string{"info SRV_NO_REGISTRY"}, wantNo: []string{CodeNothingPublished}},
		// More records than clients read: the answer is unknown.
		{host: "srvtoolarge.example.com", want: []string{"error SRV_TOO_LARGE"}, wantNo: []string{CodeSRVTarget, CodeNothingPublished}},
		// An unsigned SRV record may move the connection, not the identity:
		// the target must present a certificate valid for the host.
		{host: "srvtls.other.test", want: []string{"error SRV_TLS_NAME"}, wantNo: []string{CodeRegistryOK}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			fs := l.check(t, tt.host, nil)
			want(t, fs, tt.want...)
			wantNo(t, fs, tt.wantNo...)
		})
	}
}

// TestSRVLookupFailure: SERVFAIL for the SRV question is an error for a
// host whose paths depend on it.
func TestSRVLookupFailure(t *testing.T) {
	l := newLab(t, nil)
	l.server.SetFault("_oci-registry._tcp.srv.example.com.", dns.TypeSRV, dnstest.FaultServFail)
	want(t, l.check(t, "srv.example.com", nil), "error SRV_LOOKUP_FAILED")
}

// TestSRVShadowedByTXT: with a TXT mapping for every path, SRV is never
// consulted; a failure there is only a warning.
func TestSRVShadowedByTXT(t *testing.T) {
	l := newLab(t, nil)
	l.server.SetFault("_oci-registry._tcp.good.example.com.", dns.TypeSRV, dnstest.FaultServFail)
	fs := l.check(t, "good.example.com", nil)
	want(t, fs, "warning SRV_LOOKUP_FAILED")
}
