package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/testkit"
	"github.com/ocidns/ocidns/resolver"
)

// Resolvers that cannot give a validator the root's keys: dnsmasq, a
// forwarder without DNSSEC (it passes on named's REFUSED for the root),
// and unbound without the lab's anchor given to ocidns (it SERVFAILs the
// root, which the lab does not serve). Under --dnssec on, ocidns says so
// once on stderr and in -o json, takes answers as unauthenticated — the
// signed mapping of lab.test to the registry on another host is skipped,
// the name goes to its own host — and never fails as bogus; --dnssec
// require makes it an error. Through unbound, --trust-ad (the remedy the
// warning names) authenticates the mapping by unbound's AD bit.
func TestResolversWithoutDNSSECSkipDNSMappingsAndWarn(t *testing.T) {
	l := needLab(t)
	for _, r := range []struct {
		name, server, why string
	}{
		{"dnsmasq", l.dnsmasq, "refuses the root zone's DNSKEY query"},
		{"unbound", l.unbound, "cannot answer the root zone's DNSKEY query, with the DNSSEC OK bit or without"},
	} {
		t.Run(r.name, func(t *testing.T) {
			args := append([]string{"discover", "-o", "json", "--dns", r.server}, cliCommon(l)...)
			out, errOut, code := runCLI(t, append(args, "lab.test/app")...)
			var res struct {
				DNSSEC    string
				Endpoints []discovery.Endpoint
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
				t.Fatalf("discover: exit %d, %v\nstdout %s\nstderr %s", code, err, out, errOut)
			}
			if res.DNSSEC != "unavailable" || len(res.Endpoints) != 1 || res.Endpoints[0].Source != discovery.SourceDirect ||
				res.Endpoints[0].URL != "https://lab.test" {
				t.Errorf("discover: %s", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "warning: DNSSEC unavailable") || !strings.Contains(lines[0], r.why) ||
				!strings.Contains(lines[0], r.server) {
				t.Errorf("stderr %q: want one warning naming %s and saying %q", errOut, r.server, r.why)
			}

			args = append([]string{"resolve", "--dnssec", "require", "--dns", r.server}, cliCommon(l)...)
			out, errOut, code = runCLI(t, append(args, "lab.test/app:v1")...)
			if code != 1 || out != "" || !strings.Contains(errOut, "cannot serve DNSSEC data") || !strings.Contains(errOut, r.why) {
				t.Errorf("--dnssec require: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}

	args := append([]string{"resolve", "-o", "json", "--dns", l.unbound, "--trust-ad"}, cliCommon(l)...)
	out, errOut, code := runCLI(t, append(args, "lab.test/app:v1")...)
	var res resolver.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Authenticated != discovery.AuthDNSSEC ||
		res.Digest.String() != l.digest(t, "LAB_APP") || strings.Contains(errOut, "warning") {
		t.Errorf("unbound with --trust-ad: exit %d, %v, %s, stderr %q", code, err, out, errOut)
	}
}

// A well-known document over verified TLS authenticates its mapping
// whatever the resolver: through dnsmasq, registry.lab.test:PORT's
// document sends the name to the lab's registry, authenticated https, while
// lab.test's DNS-only mapping is skipped.
func TestWellKnownStillAuthenticatesThroughAResolverWithoutDNSSEC(t *testing.T) {
	l := needLab(t)
	doc := `{"version": 1, "namespaces": [{"prefix": "", "registries": [{"url": "http://` + l.plain() + `/lab"}]}]}`
	wk, pool := testkit.StartTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, doc)
	}), "registry.lab.test")
	_, port, _ := net.SplitHostPort(wk.Listener.Addr().String())

	var mu sync.Mutex
	var warnings []string
	r, err := resolver.New(resolver.WithDNSServers(l.dnsmasq), resolver.WithRootCAs(pool),
		resolver.WithInsecureRegistries(l.insecure()...), resolver.WithDockerConfig(emptyDockerConfig(t)),
		resolver.WithTimeout(30*time.Second), resolver.WithDNSSECWarning(func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, msg)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	disc, err := r.Discover(ctx, "lab.test", "app")
	if err != nil || disc.DNSSEC != "unavailable" || disc.Endpoints[0].Source != discovery.SourceDirect {
		t.Fatalf("lab.test: %+v %v", disc, err)
	}
	res, err := resolveTraced(t, r, "registry.lab.test:"+port+"/app:v1")
	if err != nil || res.Digest.String() != l.digest(t, "LAB_APP") || res.Authenticated != discovery.AuthHTTPS ||
		res.Registry != "http://"+l.plain() {
		t.Errorf("well-known name: %+v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 1 {
		t.Errorf("%d warnings, want one: %q", len(warnings), warnings)
	}
}
