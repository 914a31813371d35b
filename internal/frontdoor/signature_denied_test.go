package frontdoor

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// protocol.md §14 and §15: the front door applies the owner's signing
// policy. Under sign=required a manifest, by tag or by digest, whose
// signature does not verify is refused with 403 DENIED and the reason, so
// a stock engine gets verified pulls only; a signed one is served; under
// optional nothing is refused.
func TestFrontDoorDeniesWhatThePolicyRefuses(t *testing.T) {
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l := startLab(t, labConfig{regs: 1, zones: []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"
_oci-discovery TXT "v=ocisig1; prefix=org; k=ecdsa-p256; p=`+owner.PublicBase64()+`; sign=required"
_oci-discovery TXT "v=ocisig1; prefix=opt; k=ecdsa-p256; p=`+owner.PublicBase64()+`"
`, true)}})
	reg := l.regs[0]
	s := signtest.Signer{Target: reg.Target()}
	push := func(repo string, sign bool) string {
		d := reg.MustPushImage(t, repo, "v1", registrytest.WithSeed(repo))
		if sign {
			if _, err := s.SignTag(context.Background(), repo, d, owner, signtest.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		return d.String()
	}
	for _, c := range []struct {
		repo   string
		signed bool
		denied string // the code the message names; "" when served
	}{
		{"org/app", true, ""},
		{"org/unsigned", false, "SIGNATURE_MISSING"},
		{"opt/unsigned", false, ""},
	} {
		d := push(c.repo, c.signed)
		for _, ref := range []string{"v1", d} {
			t.Run(c.repo+"@"+ref[:min(len(ref), 10)], func(t *testing.T) {
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					resp, body := l.do(t, method, "/v2/example.test/"+c.repo+"/manifests/"+ref, nil)
					if c.denied == "" {
						if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != d {
							t.Fatalf("%s: %d %s, want 200 with %s", method, resp.StatusCode, body, d)
						}
						continue
					}
					if resp.StatusCode != http.StatusForbidden {
						t.Fatalf("%s: %d %s, want 403", method, resp.StatusCode, body)
					}
					if method == http.MethodHead {
						continue
					}
					code, msg := ociError(t, body)
					if code != "DENIED" || !strings.Contains(msg, c.denied) || !strings.Contains(msg, d) || !strings.Contains(msg, "required by example.test") {
						t.Errorf("error %s %q: want DENIED naming %s, the digest and who requires it", code, msg, c.denied)
					}
				}
			})
		}
	}
}
