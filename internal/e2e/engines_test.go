package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/testkit"
)

// The registry front door with real engines: containerd (started here as
// root, its root and state in a temporary directory), skopeo and podman pull
// names that only resolve through the lab's signed DNS delegations, through
// an `ocidns serve` started here, configured with the files `ocidns
// engine-config` prints. What they store must be what the registry holds.

// enginesPath is how the engines' `ocidns serve` reaches DNS: through
// unbound, as a host's resolver would be.
var enginesPath = resolverPaths[1]

// frontDoorNames are the lab names the engines pull; each needs discovery
// (two signed hops for lab.test/acme, a token-auth registry for
// lab.test/secure).
var frontDoorNames = []struct {
	ref, digest, repo string
	port              func(*lab) string
}{
	{"lab.test/acme/app:v1", "ACME_APP", "acme/app", func(l *lab) string { return l.plainPort }},
	{"acme.lab.test/app:v1", "ACME_APP", "acme/app", func(l *lab) string { return l.plainPort }},
	{"lab.test/acme/multi:v1", "ACME_MULTI", "acme/multi", func(l *lab) string { return l.plainPort }},
	{"lab.test/secure/app:v1", "SECURE_APP", "secure/app", func(l *lab) string { return l.tokenPort }},
}

// engineConfig runs `ocidns engine-config` and returns the file it prints
// (comment lines dropped).
func engineConfig(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, append([]string{"engine-config"}, args...)...)
	if code != 0 {
		t.Fatalf("engine-config %q: exit %d: %s", args, code, errOut)
	}
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// run runs a command (bounded) and returns its standard output, failing
// the test with both outputs when it fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// needProgram fails (never skips: CI installs them) when name is missing.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: .ci/run installs it (apt-get install containerd skopeo podman)", name)
	}
	return p
}

// registryContent returns the digests of everything an image pull of
// digest d at repo needs from the registry itself: the manifest, and for an
// image its config and layers (for an index, each child's too).
func registryContent(t *testing.T, hostport, repo, d string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+hostport+"/v2/"+repo+"/manifests/"+d, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
	if strings.HasPrefix(repo, "secure/") {
		req.Header.Set("Authorization", "Bearer "+labToken(t, repo))
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Manifests []struct{ Digest string }
		Config    *struct{ Digest string }
		Layers    []struct{ Digest string }
	}
	if resp.StatusCode != 200 || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m) != nil {
		t.Fatalf("registry %s/%s@%s: status %d", hostport, repo, d, resp.StatusCode)
	}
	out := []string{d}
	for _, c := range m.Manifests {
		out = append(out, registryContent(t, hostport, repo, c.Digest)...)
	}
	if m.Config != nil {
		out = append(out, m.Config.Digest)
	}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// labToken gets an anonymous pull token for repo from the lab's token
// service.
func labToken(t *testing.T, repo string) string {
	t.Helper()
	realm := os.Getenv("OCIDNS_E2E_TOKEN_REALM")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(realm + "?service=ocidns-e2e-registry&scope=repository:" + repo + ":pull")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("token for %s: %v", repo, err)
	}
	return tok.Token
}

// containerd, started as root with everything under a temporary directory,
// fetches each name's manifest, config and layers through the front door
// (certs.d/_default/hosts.toml: HEAD and GET with ?ns=HOST); its content
// store then holds exactly the registry's digests. A tampered zone makes
// the fetch fail with the front door's 502, never served from elsewhere.
func TestContainerdPullsThroughTheFrontDoor(t *testing.T) {
	l := needLab(t)
	if os.Geteuid() != 0 {
		t.Fatal("containerd needs root: run the e2e tests as .ci/run does")
	}
	containerd, ctr := needProgram(t, "containerd"), needProgram(t, "ctr")
	s := startServe(t, l, enginesPath)

	dir, err := os.MkdirTemp("", "ctrd-") // short: the socket path has a 108-byte limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "certs.d"))
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts := filepath.Join(dir, "certs.d", "_default")
	if err := os.MkdirAll(hosts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hosts, "hosts.toml"), []byte(engineConfig(t, "containerd", "--listen", s.addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctrdLog := &testkit.SyncBuffer{}
	startDaemon(t, "containerd", exec.Command(containerd, "--config", filepath.Join(dir, "config.toml")), nil, ctrdLog, nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("containerd log:\n%s", ctrdLog)
		}
	})
	ready := false
	for i := 0; i < 150 && !ready; i++ {
		ready = exec.Command(ctr, "--address", sock, "version").Run() == nil
		if !ready {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !ready {
		t.Fatal("containerd not ready after 15 s")
	}

	for _, n := range frontDoorNames {
		t.Run(n.ref, func(t *testing.T) {
			run(t, nil, ctr, "--address", sock, "content", "fetch", "--all-platforms", "--hosts-dir", filepath.Join(dir, "certs.d"), n.ref)
			have := run(t, nil, ctr, "--address", sock, "content", "ls", "-q")
			for _, d := range registryContent(t, "127.0.0.1:"+n.port(l), n.repo, l.digest(t, n.digest)) {
				if !strings.Contains(have, d) {
					t.Errorf("containerd's store lacks %s (the registry's)", d)
				}
			}
			host, path, _ := strings.Cut(strings.TrimSuffix(n.ref, ":v1"), "/")
			if want := "method=HEAD path=/v2/" + path + "/manifests/v1 ns=" + host + " status=200"; !strings.Contains(s.log.String(), want) {
				t.Errorf("the front door's log has no %q: containerd did not ask it", want)
			}
		})
	}
	cmd := exec.Command(ctr, "--address", sock, "content", "fetch", "--hosts-dir", filepath.Join(dir, "certs.d"), "lab.test/bogus/app:v1")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("a name under a tampered zone was fetched:\n%s", out)
	}
	if !strings.Contains(s.log.String(), "ns=lab.test status=502 outcome=DISCOVERY_FAILED") {
		t.Error("the front door did not answer the tampered name with 502 DISCOVERY_FAILED")
	}
}

// registriesConf is the containers/image configuration of engine-config
// for the lab's domains, made self-contained for CONTAINERS_REGISTRIES_CONF.
func registriesConf(t *testing.T, s served) string {
	t.Helper()
	conf := "unqualified-search-registries = []\n" +
		engineConfig(t, "podman", "--listen", s.addr, "--domain", "lab.test", "--domain", "acme.lab.test")
	p := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// skopeo reads each name's manifest through the front door (a
// registries.conf mirror: GET /v2/HOST/REPO/...) byte for byte, and copies
// the image, every platform of an index included, to a directory.
func TestSkopeoCopiesThroughTheFrontDoor(t *testing.T) {
	l := needLab(t)
	skopeo := needProgram(t, "skopeo")
	s := startServe(t, l, enginesPath)
	conf := registriesConf(t, s)
	for _, n := range frontDoorNames {
		t.Run(n.ref, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "image")
			raw := run(t, nil, skopeo, "--registries-conf", conf, "inspect", "--raw", "docker://"+n.ref)
			if got, want := sha256Hex([]byte(raw)), l.digest(t, n.digest); got != want {
				t.Errorf("skopeo read a manifest hashing to %s, the registry holds %s", got, want)
			}
			// skopeo 1.9 rewrites an index it copies (not its children):
			// the index is checked by the raw read above.
			run(t, nil, skopeo, "--registries-conf", conf, "copy", "--all", "docker://"+n.ref, "dir:"+dir)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			for _, d := range registryContent(t, "127.0.0.1:"+n.port(l), n.repo, l.digest(t, n.digest))[1:] {
				if !strings.Contains(strings.Join(names, " "), strings.TrimPrefix(d, "sha256:")) {
					t.Errorf("the copy lacks %s (has %v)", d, names)
				}
			}
			host, path, _ := strings.Cut(strings.TrimSuffix(n.ref, ":v1"), "/")
			if want := "method=GET path=/v2/" + host + "/" + path + "/manifests/v1 ns=" + host + " status=200"; !strings.Contains(s.log.String(), want) {
				t.Errorf("the front door's log has no %q", want)
			}
		})
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// podman (vfs storage under a temporary directory) pulls each name through
// the front door and stores the registry's digest.
func TestPodmanPullsThroughTheFrontDoor(t *testing.T) {
	l := needLab(t)
	podman := needProgram(t, "podman")
	s := startServe(t, l, enginesPath)
	conf := registriesConf(t, s)
	dir, err := os.MkdirTemp("", "podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env := []string{"CONTAINERS_REGISTRIES_CONF=" + conf, "TMPDIR=" + dir}
	base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs",
		"--events-backend", "file", "--cgroup-manager", "cgroupfs", "--tmpdir", filepath.Join(dir, "tmp")}
	for _, n := range frontDoorNames {
		t.Run(n.ref, func(t *testing.T) {
			run(t, env, podman, append(base, "pull", "--quiet", n.ref)...)
			got := strings.TrimSpace(run(t, env, podman, append(base, "image", "inspect", "--format", "{{.Digest}}", n.ref)...))
			if want := l.digest(t, n.digest); got != want {
				t.Errorf("podman stored %s, the registry holds %s", got, want)
			}
		})
	}
}
