package main

import (
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// checkLab serves example.com (signed) with a good and a broken host, a
// registry at reg.example.com, and a well-known document at
// wk.example.com:PORT; flags are the resolver flags that reach them.
type checkLab struct {
	flags  []string
	wkHost string
}

func newCheckLab(t *testing.T) checkLab {
	t.Helper()
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	_, regPort, _ := net.SplitHostPort(reg.Host())
	regHost := "reg.example.com:" + regPort
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"version": 1, "namespaces": [{"registries": [{"url": "https://` + regHost + `/wk"}]}]}`))
	}))
	t.Cleanup(web.Close)
	_, webPort, _ := net.SplitHostPort(web.Listener.Addr().String())

	zone := `$ORIGIN example.com.
@ 300 IN SOA ns hostmaster 1 3600 600 86400 60
@ 300 IN NS ns
ns 300 IN A 127.0.0.1
reg 300 IN A 127.0.0.1
wk 300 IN A 127.0.0.1
_oci-discovery.good 300 IN TXT "v=oci1; registry=https://` + regHost + `/good"
_oci-discovery.bad 300 IN TXT "v=oci1; registry=https://` + regHost + `/bad; registry=https://` + regHost + `/again"
`
	srv := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{{Origin: "example.com.", Text: zone, Sign: true}}})

	dir := t.TempDir()
	var anchors strings.Builder
	for _, rr := range srv.TrustAnchors() {
		anchors.WriteString(rr.String() + "\n")
	}
	anchorFile := filepath.Join(dir, "anchors.zone")
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(anchorFile, []byte(anchors.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// httptest's servers, the registry's included, share one certificate.
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: web.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	return checkLab{
		flags:  []string{"--dns", srv.Addr(), "--trust-anchor", anchorFile, "--ca-file", caFile, "--timeout", "5s"},
		wkHost: "wk.example.com:" + webPort,
	}
}

func (l checkLab) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, "", append(append([]string{"check"}, l.flags...), args...)...)
}

var findingLine = regexp.MustCompile(`^(error|warning|info) +[A-Z_]+  \S.*$`)

// TestCheckCLIExitStatus: 0 without error findings, 1 with, and one
// finding a line in the documented shape.
func TestCheckCLIExitStatus(t *testing.T) {
	l := newCheckLab(t)

	code, out, errOut := l.run(t, "--no-well-known", "good.example.com")
	if code != 0 {
		t.Errorf("good host: exit %d\n%s%s", code, out, errOut)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !findingLine.MatchString(line) {
			t.Errorf("line %q is not SEVERITY  CODE  message", line)
		}
	}
	if !strings.Contains(out, "REGISTRY_OK") || !strings.Contains(errOut, "ocidns check: good.example.com: 0 errors") {
		t.Errorf("good host:\n%s%s", out, errOut)
	}

	code, out, errOut = l.run(t, "--no-well-known", "bad.example.com")
	if code != 1 || !strings.Contains(out, "error    TXT_MALFORMED  ") || !strings.Contains(out, " — fix: ") || !strings.Contains(errOut, "1 error") {
		t.Errorf("bad host: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCheckCLIJSON: -o json prints one object a line with the six keys.
func TestCheckCLIJSON(t *testing.T) {
	l := newCheckLab(t)
	code, out, errOut := l.run(t, "-o", "json", l.wkHost)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []string
	for _, m := range jsonLines(t, out) {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"code", "fix", "host", "message", "record", "severity"}) {
			t.Errorf("keys %q", keys)
		}
		got = append(got, m["severity"].(string)+" "+m["code"].(string))
	}
	for _, w := range []string{"info PORT_NO_DNS", "info WELLKNOWN_OK", "info REGISTRY_OK"} {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q in %q", w, got)
		}
	}
}

// TestCheckCLIUsage: usage errors exit 2.
func TestCheckCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check"},
		{"check", "a.example", "Not A Name"},
		{"check", "example.com/acme/app"},
		{"check", "--dnssec", "maybe", "example.com"},
		{"check", "-o", "yaml", "example.com"},
		{"check", "--bogus", "example.com"},
		{"check", "--ca-file", "/nonexistent/ca.pem", "example.com"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", args...)
			if code != 2 || out != "" || errOut == "" {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		})
	}
	code, out, _ := runCLI(t, "", "check", "--help")
	if code != 0 || !strings.Contains(out, "usage: ocidns check") || strings.Contains(out, "--platform") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}
