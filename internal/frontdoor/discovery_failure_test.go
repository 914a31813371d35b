package frontdoor

import (
	"net/http"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// What discovery decides reaches the engine as a status it acts on:
//   - a name whose records cannot be trusted (bogus DNSSEC) or read
//     (SERVFAIL) is 502 with the reason, never served from somewhere else;
//   - a host that publishes no delegation is 404 NAME_UNKNOWN, without
//     asking any registry, so the engine goes to the host itself.
func TestDiscoveryOutcomesBecomeStatuses(t *testing.T) {
	expired := zone("expired.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true)
	expired.Expired = true
	l := startLab(t, labConfig{regs: 1, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true),
		expired,
		zone("servfail.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true),
		zone("plain.test.", "@ A 127.0.0.1\n", true),
	}})
	d := l.regs[0].MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("disc"))
	l.dns.SetFault("_oci-discovery.servfail.test.", dns.TypeTXT, dnstest.FaultServFail)
	l.regs[0].ResetRequests()

	for _, tc := range []struct {
		name, path string
		status     int
		code, says string
	}{
		{"bogus signatures", "/v2/expired.test/org/app/manifests/v1", 502, codeDiscovery, "bogus"},
		{"bogus signatures, blob", "/v2/org/app/blobs/" + d.String() + "?ns=expired.test", 502, codeDiscovery, "bogus"},
		{"SERVFAIL", "/v2/servfail.test/org/app/manifests/v1", 502, codeDiscovery, "SERVFAIL"},
		{"no delegation published", "/v2/plain.test/org/app/manifests/v1", 404, codeNameUnknown, "publishes no delegation"},
		{"no delegation published, blob", "/v2/org/app/blobs/" + d.String() + "?ns=plain.test", 404, codeNameUnknown, "publishes no delegation"},
		{"no such host", "/v2/nowhere.example.test/org/app/manifests/v1", 404, codeNameUnknown, "publishes no delegation"},
		{"unknown tag", "/v2/example.test/org/app/manifests/v9", 404, codeManifestUnknown, "not found"},
		{"unknown blob", "/v2/example.test/org/app/blobs/sha256:" + strings.Repeat("0", 64), 404, codeBlobUnknown, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := l.do(t, "GET", tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			code, msg := ociError(t, body)
			if code != tc.code || !strings.Contains(msg, tc.says) {
				t.Errorf("%s %q, want %s saying %q", code, msg, tc.code, tc.says)
			}
		})
	}
	if c := l.regs[0].Requests(); c.Manifests()+c.BlobGET != 2 {
		// Only the unknown tag and the unknown blob reach the registry.
		t.Errorf("the registry got %d manifest and %d blob requests, want 1 and 1", c.Manifests(), c.BlobGET)
	}
	resp, _ := l.do(t, "GET", "/v2/example.test/org/app/manifests/v1", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the healthy name: %d", resp.StatusCode)
	}
}
