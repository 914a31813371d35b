package frontdoor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// The front door is no open proxy. The namespace is a name to discover,
// never an address: an IP in ns or in the path gets 404 without a
// connection. And the resolver's address policy holds for every front-door
// request: a name whose records point at a loopback registry the operator
// did not allow is refused (502) with no request reaching it; allowed by
// name, the same registry serves.
func TestFrontDoorConnectsOnlyWhereDiscoveryAndThePolicyAllow(t *testing.T) {
	zones := func() []dnstest.Zone {
		return []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true)}
	}
	denied := startLab(t, labConfig{regs: 1, deny: true, zones: zones()})
	reg := denied.regs[0]
	d := reg.MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("policy"))
	reg.ResetRequests()

	for _, path := range []string{
		"/v2/example.test/org/app/manifests/v1",
		"/v2/example.test/org/app/manifests/" + d.String(),
		"/v2/example.test/org/app/blobs/" + d.String(),
		"/v2/example.test/org/app/tags/list",
		"/v2/acme/org/app/manifests/v1?ns=" + reg.Host(),
		"/v2/" + reg.Host() + "/acme/org/app/manifests/v1",
		"/v2/" + reg.Host() + "/acme/org/app/blobs/" + d.String(),
	} {
		t.Run("denied "+path, func(t *testing.T) {
			resp, body := denied.do(t, "GET", path, nil)
			if resp.StatusCode != 502 && resp.StatusCode != 404 {
				t.Fatalf("status %d %s, want 502 (refused by policy) or 404 (an address)", resp.StatusCode, body)
			}
			code, msg := ociError(t, body)
			if strings.Contains(msg, "127.0.0.1") && code != codeNameUnknown {
				t.Errorf("the engine learns about the daemon's network: %q", msg)
			}
		})
	}
	if n := len(reg.Log()); n != 0 {
		t.Errorf("the registry the policy refuses got %d requests", n)
	}
	if !logHas(denied, "refused to connect") {
		t.Errorf("the log does not say the policy refused the connection:\n%s", denied.logs)
	}

	allowed := startLab(t, labConfig{extra: []string{reg.Host()}, opts: rootsOf(reg), zones: []dnstest.Zone{
		zone("example.test.", fmt.Sprintf(`_oci-discovery TXT "v=oci1; registry=https://%s/acme"`+"\n", reg.Host()), true),
	}})
	resp, body := allowed.do(t, "GET", "/v2/example.test/org/app/manifests/v1", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != d.String() {
		t.Fatalf("allowed: %d %s", resp.StatusCode, body)
	}
}

// The cap on registry attempts holds for front-door requests: a name with
// twenty mirrors, none of which has a blob, costs at most 16 registry
// requests per blob request, and the answer is still a 404.
func TestFrontDoorAsksAtMost16Registries(t *testing.T) {
	var txt strings.Builder
	var mirrors []*counting
	var hosts []string
	for i := 0; i < 20; i++ {
		c := down(404)
		mirrors = append(mirrors, c)
		hosts = append(hosts, startTLS(t, c))
		fmt.Fprintf(&txt, `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA%c}}; priority=%d"`+"\n", rune('0'+i), i)
	}
	// {{EXTRAn}} takes one digit: spell the hosts out instead.
	text := txt.String()
	for i := len(hosts) - 1; i >= 0; i-- {
		text = strings.ReplaceAll(text, fmt.Sprintf("{{EXTRA%c}}", rune('0'+i)), hosts[i])
	}
	l := startLab(t, labConfig{regs: 1, extra: hosts, zones: []dnstest.Zone{zone("example.test.", text, true)}})
	d := "sha256:" + strings.Repeat("1", 64)
	for _, path := range []string{"/v2/example.test/org/app/blobs/" + d, "/v2/example.test/org/app/manifests/" + d} {
		resp, body := l.do(t, "GET", path, nil)
		if resp.StatusCode != 404 {
			t.Fatalf("%s: status %d %s, want 404", path, resp.StatusCode, body)
		}
	}
	var total int64
	for _, m := range mirrors {
		total += m.n.Load()
	}
	if total != 2*16 {
		t.Errorf("%d registry requests for two requests, want 16 each", total)
	}
}
