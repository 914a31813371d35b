package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// gatedRegistry is an OCI registry whose manifest requests, while armed,
// wait at the door until released: a request held in flight for as long
// as a test needs.
type gatedRegistry struct {
	next     http.Handler
	mu       sync.Mutex
	armed    bool
	entered  chan struct{} // one value per held request
	released chan struct{}
}

func (g *gatedRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	hold := g.armed && strings.Contains(r.URL.Path, "/manifests/") && (r.Method == http.MethodGet || r.Method == http.MethodHead)
	g.mu.Unlock()
	if hold {
		g.entered <- struct{}{}
		<-g.released
	}
	g.next.ServeHTTP(w, r)
}

// waitLog waits until the daemon's log holds substr at least n times.
func (d *serveProcess) waitLog(t *testing.T, substr string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); strings.Count(d.logs.String(), substr) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not log %q %d times:\n%s", substr, n, d.logs.String())
		}
	}
}

// resolveResult is what /v1/resolve answers, in the fields the test reads.
type resolveResult struct {
	Digest, Code, Error string
	Cached              bool
}

func serveResolve(t *testing.T, base, ref string) (int, resolveResult) {
	t.Helper()
	resp, err := http.Get(base + "/v1/resolve?ref=" + url.QueryEscape(ref))
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	defer resp.Body.Close()
	var res resolveResult
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return resp.StatusCode, res
}

// SIGHUP makes a running serve read its config file and the files it
// names again: new credentials and allow-lists apply to what is resolved
// next, while cached answers stay and a request in flight completes. A
// file that does not parse is logged, naming its line, and the settings in
// force stay.
func TestServeReloadsOnSIGHUP(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	digests := map[string]string{}
	for _, tag := range []string{"v1", "v2", "v3", "v4"} {
		digests[tag] = reg.MustPushImage(t, "org/app", tag).String()
	}
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthBasic, Username: "alice", Password: "pw-1"})

	g := &gatedRegistry{next: registry.New(registry.Logger(log.New(io.Discard, "", 0))), entered: make(chan struct{}, 1), released: make(chan struct{})}
	gate := httptest.NewTLSServer(g)
	t.Cleanup(gate.Close)
	gateHost := strings.TrimPrefix(gate.URL, "https://")
	gateDigest, err := registrytest.Target{URL: gate.URL, Transport: gate.Client().Transport.(*http.Transport)}.PushImage(t.Context(), "gate/app", "v1")
	if err != nil {
		t.Fatal(err)
	}

	// The names are the registries' addresses: DNS has nothing to say.
	dns := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{{Origin: "example.test.",
		Text: "$ORIGIN example.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n"}}})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeFile(t, caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: gate.Certificate().Raw})))
	dockerConfig := filepath.Join(dir, "docker.json")
	writeFile(t, dockerConfig, `{"auths": {"`+reg.Host()+`": {"username": "alice", "password": "pw-1"}}}`)
	common := `# ocidns serve, as the test runs it
dns = ["` + dns.Addr() + `"]
ca-file = ["` + caFile + `"]
docker-config = "` + dockerConfig + `"
no-well-known = true
`
	config := writeConfig(t, common+`allow-local-registry = ["`+reg.Host()+`", "`+gateHost+`"]`+"\n")
	d := startServeProcess(t, "--config", config)

	regRef := func(tag string) string { return reg.Host() + "/org/app:" + tag }
	if code, res := serveResolve(t, d.url, regRef("v1")); code != 200 || res.Digest != digests["v1"] {
		t.Fatalf("before any reload: %d %+v\n%s", code, res, d.logs.String())
	}

	// A request held at the registry while serve reloads.
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	type answer struct {
		code int
		res  resolveResult
	}
	held := make(chan answer, 1)
	go func() {
		code, res := serveResolve(t, d.url, gateHost+"/gate/app:v1")
		held <- answer{code, res}
	}()
	<-g.entered

	// The password changes in the file: reload.
	writeFile(t, dockerConfig, `{"auths": {"`+reg.Host()+`": {"username": "alice", "password": "pw-2"}}}`)
	if err := syscall.Kill(d.pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, "msg=reloaded", 1)
	close(g.released)
	if a := <-held; a.code != 200 || a.res.Digest != gateDigest.String() {
		t.Errorf("the request in flight across the reload: %d %+v", a.code, a.res)
	}
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthBasic, Username: "alice", Password: "pw-2"})
	if code, res := serveResolve(t, d.url, regRef("v1")); code != 200 || !res.Cached {
		t.Errorf("answer cached before the reload: %d %+v", code, res)
	}
	if code, res := serveResolve(t, d.url, regRef("v2")); code != 200 || res.Digest != digests["v2"] {
		t.Errorf("with the new password: %d %+v", code, res)
	}

	// The registry leaves the allow-list; max-in-flight changes, which
	// needs a restart.
	writeFile(t, config, common+"max-in-flight = 5\n")
	syscall.Kill(d.pid, syscall.SIGHUP)
	d.waitLog(t, "msg=reloaded", 2)
	d.waitLog(t, "setting=max-in-flight", 1)
	if code, res := serveResolve(t, d.url, regRef("v3")); code == 200 {
		t.Errorf("resolved at a registry no longer allowed: %+v", res)
	}
	if code, res := serveResolve(t, d.url, regRef("v2")); code != 200 || !res.Cached {
		t.Errorf("answer cached before the second reload: %d %+v", code, res)
	}

	// A file with a mistake: logged with its line; nothing changes.
	writeFile(t, config, common+`allow-local-registry = ["`+reg.Host()+`"]`+"\nlisen = \"127.0.0.1:1\"\n")
	syscall.Kill(d.pid, syscall.SIGHUP)
	d.waitLog(t, "msg=\"reload failed; the settings in force stay\"", 1)
	if !strings.Contains(d.logs.String(), config+`:7: unknown setting \"lisen\"`) {
		t.Errorf("the failed reload's log does not name the line:\n%s", d.logs.String())
	}
	if code, res := serveResolve(t, d.url, regRef("v4")); code == 200 {
		t.Errorf("a failed reload applied part of its file: %+v", res)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
