package frontdoor

import (
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// Every request the front door cannot serve gets a distribution-spec error
// with a status an engine acts on, and names what is wrong. None of them
// reaches DNS or a registry.
func TestBadInputGetsAClearOCIError(t *testing.T) {
	l := startLab(t, labConfig{regs: 1, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true),
	}})
	dgst := "sha256:" + strings.Repeat("a", 64)
	for _, tc := range []struct {
		name, method, path string
		status             int
		code, says         string
	}{
		{"traversal", "GET", "/v2/example.test/org/../../secret/manifests/v1", 400, codeNameInvalid, `".."`},
		{"dot segment", "GET", "/v2/example.test/./app/manifests/v1", 400, codeNameInvalid, `"."`},
		{"empty segment", "GET", "/v2/example.test//app/manifests/v1", 400, codeNameInvalid, "empty"},
		{"encoded slash", "GET", "/v2/example.test/org%2Fapp/manifests/v1", 400, codeNameInvalid, "encoded slash"},
		{"encoded slash in ns form", "GET", "/v2/org%2fapp/manifests/v1?ns=example.test", 400, codeNameInvalid, "encoded slash"},
		{"bad ns", "GET", "/v2/org/app/manifests/v1?ns=exa%20mple.test", 400, codeNameInvalid, "namespace host"},
		{"ns with a path", "GET", "/v2/org/app/manifests/v1?ns=example.test/evil", 400, codeNameInvalid, "namespace host"},
		{"ns is a URL", "GET", "/v2/org/app/manifests/v1?ns=http://127.0.0.1:1", 400, codeNameInvalid, "namespace host"},
		{"two ns", "GET", "/v2/org/app/manifests/v1?ns=example.test&ns=other.test", 400, codeNameInvalid, "more than one ns"},
		{"undecodable query", "GET", "/v2/org/app/manifests/v1?ns=%zz", 400, codeNameInvalid, "query string"},
		{"ns is an IP address", "GET", "/v2/org/app/manifests/v1?ns=127.0.0.1:5000", 404, codeNameUnknown, "IP address"},
		{"host segment is an IP address", "GET", "/v2/127.0.0.1:5000/org/app/manifests/v1", 404, codeNameUnknown, "IP address"},
		{"IPv6 host segment", "GET", "/v2/[::1]:5000/org/app/manifests/v1", 404, codeNameUnknown, "IP address"},
		{"no host in the path", "GET", "/v2/org/app/manifests/v1", 404, codeNameUnknown, "does not start with a host"},
		{"no repository under the host", "GET", "/v2/example.test/manifests/v1", 400, codeNameInvalid, "no repository"},
		{"overlong path", "GET", "/v2/example.test/" + strings.Repeat("a/", 1100) + "manifests/v1", 414, codeNameInvalid, "longer than 2048"},
		{"overlong name", "GET", "/v2/example.test/" + strings.Repeat("abcdefgh/", 40) + "manifests/v1", 400, codeNameInvalid, "longer than 255"},
		{"uppercase repository", "GET", "/v2/example.test/Org/app/manifests/v1", 400, codeNameInvalid, "example.test/Org/app"},
		{"bad tag", "GET", "/v2/example.test/org/app/manifests/-v1", 400, codeNameInvalid, `tag "-v1"`},
		{"bad digest", "GET", "/v2/example.test/org/app/manifests/sha256:abc", 400, codeDigestInvalid, "sha256:abc"},
		{"bad blob digest", "GET", "/v2/example.test/org/app/blobs/md5:abc", 400, codeDigestInvalid, "md5:abc"},
		{"bad referrers digest", "GET", "/v2/example.test/org/app/referrers/latest", 400, codeDigestInvalid, "latest"},
		{"push", "POST", "/v2/example.test/org/app/blobs/uploads/", 405, codeUnsupported, "read-only"},
		{"upload session", "PATCH", "/v2/example.test/org/app/blobs/uploads/1234", 405, codeUnsupported, "read-only"},
		{"manifest put", "PUT", "/v2/example.test/org/app/manifests/v1", 405, codeUnsupported, "PUT"},
		{"delete", "DELETE", "/v2/example.test/org/app/blobs/" + dgst, 405, codeUnsupported, "DELETE"},
		{"catalog", "GET", "/v2/_catalog", 404, codeNameUnknown, "not a distribution API path"},
		{"not v2", "GET", "/v2x/example.test/org/app/manifests/v1", 404, codeNameUnknown, "not a distribution API path"},
		{"bad tags n", "GET", "/v2/example.test/org/app/tags/list?n=-1", 400, codeUnsupported, "n="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := l.do(t, tc.method, tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			code, msg := ociError(t, body)
			if code != tc.code || !strings.Contains(msg, tc.says) {
				t.Errorf("error %s %q, want %s saying %q", code, msg, tc.code, tc.says)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if n := l.dns.TotalQueries(); n != 0 {
		t.Errorf("%d DNS queries: bad input must be refused before any lookup", n)
	}
	if log := l.regs[0].Log(); len(log) != 0 {
		t.Errorf("the registry got %d requests", len(log))
	}
}
