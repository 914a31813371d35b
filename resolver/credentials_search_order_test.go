package resolver

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// credEnv points every variable the default search reads at fresh
// directories and returns the files it would read, in order.
type credEnv struct {
	authFile, runtime, config, docker string
}

func setCredEnv(t *testing.T, withAuthFile bool) credEnv {
	t.Helper()
	root := t.TempDir()
	e := credEnv{
		runtime: filepath.Join(root, "run", "containers", "auth.json"),
		config:  filepath.Join(root, "config", "containers", "auth.json"),
		docker:  filepath.Join(root, "docker", "config.json"),
	}
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(root, "run"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(root, "docker"))
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("REGISTRY_AUTH_FILE", "")
	if withAuthFile {
		e.authFile = filepath.Join(root, "explicit.json")
		t.Setenv("REGISTRY_AUTH_FILE", e.authFile)
	}
	return e
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func pathsOf(ps []credPath) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.path)
	}
	return out
}

// The default search reads containers' files, then Docker's, as podman
// and skopeo do (containers-auth.json(5)); $REGISTRY_AUTH_FILE takes the
// place of the per-user runtime file. Without $XDG_RUNTIME_DIR that file
// is /run/containers/$UID/auth.json, and without $XDG_CONFIG_HOME and
// $DOCKER_CONFIG the home directory's.
func TestDefaultCredentialFilesInContainersOrder(t *testing.T) {
	e := setCredEnv(t, false)
	if got, want := pathsOf(defaultCredPaths()), []string{e.runtime, e.config, e.docker}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("paths %q, want %q", got, want)
	}
	e = setCredEnv(t, true)
	if got, want := pathsOf(defaultCredPaths()), []string{e.authFile, e.config, e.docker}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("with REGISTRY_AUTH_FILE: paths %q, want %q", got, want)
	}
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("HOME", "/home/u")
	want := []string{"/run/containers/" + strconv.Itoa(os.Getuid()) + "/auth.json", "/home/u/.config/containers/auth.json", "/home/u/.docker/config.json"}
	if got := pathsOf(defaultCredPaths()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("from HOME: paths %q, want %q", got, want)
	}
}

// Files are searched in order, the first with credentials for the
// repository winning; within a file the most specific key wins, and a
// namespace key applies only under its namespace, on whole path segments.
func TestCredentialSearchOrderAndNamespaces(t *testing.T) {
	e := setCredEnv(t, false)
	host := "reg.example:5000"
	writeFile(t, e.runtime, `{"auths": {"`+host+`/team": {"auth": "`+b64("runtime-team:pw")+`"}}}`)
	writeFile(t, e.config, `{"auths": {
		"`+host+`": {"auth": "`+b64("config-host:pw")+`"},
		"`+host+`/team/app": {"auth": "`+b64("config-team-app:pw")+`"},
		"`+host+`/org": {"auth": "`+b64("config-org:pw")+`"},
		"`+host+`/org/app": {"auth": "`+b64("config-org-app:pw")+`"}}}`)
	writeFile(t, e.docker, `{"auths": {"https://`+host+`/v1/": {"auth": "`+b64("docker-host:pw")+`"}, "other.example": {"auth": "`+b64("docker-other:pw")+`"}}}`)
	creds, err := loadCredentials(defaultCredPaths(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, repo, user string }{
		{host, "team/app", "runtime-team"},        // the first file's namespace beats a later file's exact repository
		{host, "team/sub/app", "runtime-team"},    // a namespace covers everything under it
		{host, "org/app", "config-org-app"},       // exact repository over its namespace
		{host, "org/tool", "config-org"},          // the namespace
		{host, "organisation/app", "config-host"}, // "org" is not a prefix of "organisation"
		{host, "app", "config-host"},
		{"other.example", "x/y", "docker-other"}, // Docker's file last
	} {
		t.Run(tc.host, func(t *testing.T) {
			a, ok, err := creds.lookup(context.Background(), tc.host, tc.repo)
			if err != nil || !ok || a.Username != tc.user {
				t.Errorf("%s/%s: %v ok=%v err=%v, want %s", tc.host, tc.repo, a, ok, err, tc.user)
			}
		})
	}
	if _, ok, _ := creds.lookup(context.Background(), "nobody.example", "a"); ok {
		t.Error("nobody.example: found credentials")
	}
	if m := creds.missing("nobody.example"); m != "no credentials for nobody.example in "+e.runtime+", "+e.config+", "+e.docker {
		t.Errorf("missing: %q", m)
	}
}

// A malformed file in the search is an error naming it; a missing one is
// skipped, but an explicitly named one must exist.
func TestCredentialFilesErrors(t *testing.T) {
	e := setCredEnv(t, false)
	writeFile(t, e.config, "{\n \"auths\": {\n  \"x\": {\"auth\": 12}}}")
	if _, err := New(WithDNSServers("127.0.0.1:1")); err == nil || !strings.Contains(err.Error(), e.config+":3:") {
		t.Errorf("malformed default file: %v", err)
	}
	os.Remove(e.config)
	r, err := New(WithDNSServers("127.0.0.1:1"))
	if err != nil {
		t.Fatalf("no files at all: %v", err)
	}
	r.Close()
	missing := filepath.Join(t.TempDir(), "nope.json")
	for _, opt := range []Option{WithAuthFile(missing), WithDockerConfig(missing)} {
		if _, err := New(WithDNSServers("127.0.0.1:1"), opt); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("missing named file: %v", err)
		}
	}
}

// Through a Resolver: WithAuthFile's namespace entry logs into a token
// registry for its repositories only, and replaces the default search.
func TestAuthFileNamespaceLogsIntoRegistry(t *testing.T) {
	e := setCredEnv(t, false)
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, Username: "dave", Password: "team-pw"}})
	want := reg.MustPushImage(t, "team/app", "v1")
	reg.MustPushImage(t, "solo/app", "v1")
	// The default search would find the right login for every repository.
	writeFile(t, e.docker, `{"auths": {"`+reg.Host()+`": {"auth": "`+b64("dave:team-pw")+`"}}}`)
	authFile := filepath.Join(t.TempDir(), "auth.json")
	writeFile(t, authFile, `{"auths": {"`+reg.Host()+`/team": {"auth": "`+b64("dave:team-pw")+`"}}}`)
	r, err := New(WithHTTPClient(reg.Client()), WithDNSServers("127.0.0.1:1"), WithWellKnown(false), WithAuthFile(authFile))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := r.active().registry
	res, err := c.resolve(context.Background(), endpointFor(reg, "team/app"), "r", "v1", "", nil, false, nil)
	if err != nil || res.Digest != want {
		t.Fatalf("team/app: %v %v", res.Digest, err)
	}
	_, err = c.resolve(context.Background(), endpointFor(reg, "solo/app"), "r", "v1", "", nil, false, nil)
	if e := wantKind(t, err, ErrUnauthorized); !strings.Contains(e.Error(), "no credentials for "+reg.Host()+" in "+authFile) {
		t.Errorf("solo/app: %v", e)
	}
}
