package resolver

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// Debian's docker-credential-pass (package golang-docker-credential-helpers)
// keeps logins in pass(1), encrypted with a GnuPG key: with a key without
// passphrase it runs headless. `docker-credential-pass store` saves a
// login as `docker login` would, and credsStore "pass" finds it. CI
// installs the programs (.ci/run); elsewhere the test is skipped without
// them.
func TestDebianPassHelperLogsIntoRegistry(t *testing.T) {
	for _, prog := range []string{"docker-credential-pass", "pass", "gpg", "gpgconf"} {
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI installs %s (.ci/run), but: %v", prog, err)
			}
			t.Skipf("%s not installed: apt-get install golang-docker-credential-helpers pass", prog)
		}
	}
	// A short GnuPG home: gpg-agent's socket path must fit in sun_path.
	gnupg, err := os.MkdirTemp("", "ocidns-gpg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GNUPGHOME", gnupg)
	t.Setenv("PASSWORD_STORE_DIR", t.TempDir())
	t.Cleanup(func() {
		// The agent gpg started for this home, and only it.
		exec.Command("gpgconf", "--kill", "gpg-agent").Run()
		os.RemoveAll(gnupg)
	})
	run := func(stdin, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("", "gpg", "--batch", "--passphrase", "", "--quick-gen-key", "ocidns-test@example.invalid", "default", "default", "never")
	run("", "pass", "init", "ocidns-test@example.invalid")

	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthBasic, Username: "erin", Password: "pass-kept-pw"}})
	want := reg.MustPushImage(t, "org/app", "v1")
	run(`{"ServerURL":"`+reg.Host()+`","Username":"erin","Secret":"pass-kept-pw"}`, "docker-credential-pass", "store")

	creds := credsFrom(t, `{"auths": {"`+reg.Host()+`": {}}, "credsStore": "pass"}`, 0)
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	// pass answers an empty login for a server it has none for.
	if a, ok, err := creds.lookup(context.Background(), "other.example", "org/app"); ok || err != nil {
		t.Errorf("other.example: %v ok=%v err=%v, want none", a, ok, err)
	}
}
