package resolver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// installHelper writes docker-credential-<name> as a shell script into a
// directory put first on $PATH, and returns that directory. The script
// sees $HELPER_DIR; its stdin is the server URL.
func installHelper(t *testing.T, name, script string) string {
	t.Helper()
	dir := t.TempDir()
	body := "#!/bin/sh\nHELPER_DIR='" + dir + "'\n" + script
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// storeHelper is a helper that keeps one login: it answers user/secret
// for server and "credentials not found" for anything else, and logs
// every server URL it was asked for, one a line, in $HELPER_DIR/asked.
func storeHelper(server, user, secret string) string {
	return `in=$(cat)
printf '%s\n' "$in" >> "$HELPER_DIR/asked"
if [ "$1" != get ]; then echo "unsupported: $1"; exit 1; fi
if [ "$in" = '` + server + `' ]; then
	printf '{"ServerURL":"%s","Username":"` + user + `","Secret":"` + secret + `"}\n' "$in"
	exit 0
fi
echo "credentials not found in native keychain"
exit 1
`
}

// asked returns the server URLs the helper in dir was asked for.
func asked(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "asked"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// credsFrom writes a Docker config.json and reads it as the only
// credentials file, with the given helper timeout.
func credsFrom(t *testing.T, config string, timeout time.Duration) *credentials {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadCredentials([]credPath{{path: path, kind: dockerFile, required: true}}, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A registry whose token realm wants a login gets the one a credHelpers
// entry's helper keeps; the helper is asked once for the host, whatever
// the scopes, while its answer is cached.
func TestCredHelpersEntryLogsIntoTokenRegistry(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, Username: "alice", Password: "helper-pw"}})
	want := reg.MustPushImage(t, "org/app", "v1")
	reg.MustPushImage(t, "org/other", "v1")
	dir := installHelper(t, "ocidnstest", storeHelper(reg.Host(), "alice", "helper-pw"))
	creds := credsFrom(t, `{"auths": {}, "credHelpers": {"`+reg.Host()+`": "ocidnstest"}}`, 0)
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })

	tr := trace.New(nil)
	res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, tr)
	if err != nil || res.Digest != want {
		t.Fatalf("resolve: %v %v", res.Digest, err)
	}
	resolveTag(t, c, reg, "org/other", "v1", nil) // another scope: another token
	if got := asked(t, dir); len(got) != 1 || got[0] != reg.Host() {
		t.Errorf("helper asked for %q, want once for %s", got, reg.Host())
	}
	if n := reg.Requests(); n.Token != 2 {
		t.Errorf("token requests %d, want 2", n.Token)
	}
	var helperEv, tokenEv bool
	for _, ev := range tr.Events() {
		helperEv = helperEv || (ev.Query == "docker-credential-ocidnstest get "+reg.Host() && ev.Outcome == "credentials")
		tokenEv = tokenEv || strings.Contains(ev.Decision, "credentials for "+reg.Host()+" from docker-credential-ocidnstest (credHelpers of ")
		if strings.Contains(ev.String(), "helper-pw") {
			t.Errorf("trace event shows the secret: %s", ev)
		}
	}
	if !helperEv || !tokenEv {
		t.Errorf("trace lacks the helper's run or the token's source:\n%v", tr.Events())
	}
}

// credsStore is the helper for every registry without a credHelpers
// entry, and Basic challenges get its login too. Docker Hub is asked for
// under the key `docker login` stores it by.
func TestCredsStoreIsTheDefaultHelper(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthBasic, Username: "bob", Password: "store-pw"}})
	want := reg.MustPushImage(t, "org/app", "v1")
	dir := installHelper(t, "ocidnstest", storeHelper(reg.Host(), "bob", "store-pw"))
	creds := credsFrom(t, `{"auths": {"`+reg.Host()+`": {}}, "credsStore": "ocidnstest"}`, 0)
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	if _, ok, err := creds.lookup(context.Background(), "registry-1.docker.io", "library/alpine"); ok || err != nil {
		t.Errorf("Docker Hub: ok=%v err=%v, want none", ok, err)
	}
	if got := asked(t, dir); len(got) != 2 || got[0] != reg.Host() || got[1] != "https://index.docker.io/v1/" {
		t.Errorf("helper asked for %q", got)
	}
}

// Username "<token>" means the secret is an identity token: it goes to the
// token realm as an OAuth2 refresh token, as Docker sends it.
func TestHelperIdentityTokenIsARefreshToken(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	want := reg.MustPushImage(t, "org/app", "v1")
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken, RefreshToken: "refresh-from-helper"})
	installHelper(t, "ocidnstest", storeHelper(reg.Host(), "<token>", "refresh-from-helper"))
	creds := credsFrom(t, `{"credHelpers": {"`+reg.Host()+`": "ocidnstest"}}`, 0)
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	if posts := tokenPOSTs(reg); posts != 1 {
		t.Fatalf("refresh-token POSTs %d: %+v", posts, reg.Log())
	}
}

// "credentials not found" from the helper means anonymous: a registry
// that serves anonymous tokens still answers. An absent helper program
// passes the search on to the file's own entries.
func TestHelperWithoutCredentialsMeansAnonymous(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	want := reg.MustPushImage(t, "org/app", "v1")
	installHelper(t, "ocidnstest", storeHelper("elsewhere.example", "u", "p"))
	creds := credsFrom(t, `{"credsStore": "ocidnstest"}`, 0)
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	for _, q := range reg.Log() {
		if q.Path == "/token" && q.Authorization != "" {
			t.Fatalf("token request carried %q: want anonymous", q.Authorization)
		}
	}

	basic := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthBasic, Username: "carol", Password: "inline-pw"}})
	want = basic.MustPushImage(t, "org/app", "v1")
	creds = credsFrom(t, `{"auths": {"`+basic.Host()+`": {"username": "carol", "password": "inline-pw"}},
		"credHelpers": {"`+basic.Host()+`": "ocidns-test-absent"}}`, 0)
	c, _ = testClient(t, basic, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, basic, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("absent helper, inline entry: got %s", res.Digest)
	}
}

// Helpers misbehave within bounds: one that hangs is killed at the
// timeout (its children too), one that prints megabytes is cut off, one
// that fails is named — and nothing it printed, where a secret may be, is
// repeated.
func TestMisbehavingHelpersAreBounded(t *testing.T) {
	const secret = "hunter2-SECRET-in-output"
	for _, tc := range []struct {
		name, script, want string
	}{
		{"hangs", `sleep 60 & echo $! > "$HELPER_DIR/child"; wait`, "no answer within 300ms"},
		{"megabytes", `head -c 8000000 /dev/zero | tr '\0' x`, "printed more than 65536 bytes"},
		{"fails with the secret on stderr and stdout", `echo "the secret is ` + secret + `" >&2; echo '` + secret + `'; exit 3`, "exit status 3; its output is not shown"},
		{"answers garbage", `echo '` + secret + `'`, "output is not a credentials object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
			reg.MustPushImage(t, "org/app", "v1")
			dir := installHelper(t, "ocidnstest", tc.script)
			creds := credsFrom(t, `{"credHelpers": {"`+reg.Host()+`": "ocidnstest"}}`, 300*time.Millisecond)
			c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
			_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
			e := wantKind(t, err, ErrUnauthorized)
			msg := e.Error()
			if !strings.Contains(msg, "credential helper docker-credential-ocidnstest get (for "+reg.Host()+")") ||
				!strings.Contains(msg, tc.want) || !strings.Contains(msg, "named by credHelpers of ") {
				t.Errorf("error %q, want the helper named and %q", msg, tc.want)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, "xxxx") {
				t.Errorf("error repeats the helper's output: %q", msg)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if alive(pid) {
					t.Errorf("the hanging helper's child %d outlived it", pid)
				}
			}
		})
	}
}

// alive reports whether pid is a process that is not a zombie.
func alive(pid int) bool {
	for range 50 { // the kill is asynchronous: give it a moment
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Many token requests at once for one host run its helper once.
func TestConcurrentLookupsShareOneHelperRun(t *testing.T) {
	dir := installHelper(t, "ocidnstest", "sleep 0.2\n"+storeHelper("reg.example:5000", "u", "p"))
	creds := credsFrom(t, `{"credsStore": "ocidnstest"}`, 0)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			a, ok, err := creds.lookup(context.Background(), "reg.example:5000", "org/app")
			if !ok || err != nil || a.Username != "u" {
				t.Errorf("lookup: %v %v %v", a, ok, err)
			}
		})
	}
	wg.Wait()
	if got := asked(t, dir); len(got) != 1 {
		t.Errorf("helper ran %d times, want 1", len(got))
	}
}

// A helper name is a name: a file cannot make ocidns run a path.
func TestHelperNamesThatArePathsAreRefused(t *testing.T) {
	for _, cfg := range []string{
		`{"credsStore": "../../tmp/evil"}`,
		`{"credHelpers": {"reg.example": "/bin/sh"}}`,
		`{"credHelpers": {"reg.example": "-x"}}`,
	} {
		t.Run(cfg, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadCredentials([]credPath{{path: path, kind: dockerFile, required: true}}, 0)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "is not a helper name") {
				t.Errorf("%s: %v", cfg, err)
			}
		})
	}
}
