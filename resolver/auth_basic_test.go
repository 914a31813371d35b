package resolver

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// writeDockerConfig writes config.json into a temporary DOCKER_CONFIG and
// points the environment at it.
func writeDockerConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	return filepath.Join(dir, "config.json")
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// docs/protocol.md §12: a Basic challenge is answered with the credentials
// of a docker config file.
func TestBasicAuthCredentialsFromDockerConfig(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthBasic, Username: "alice", Password: "s3cret:with:colons"}})
	want := reg.MustPushImage(t, "org/app", "v1")
	writeDockerConfig(t, `{"auths": {
		"https://`+reg.Host()+`/v1/": {"auth": "`+b64("alice:s3cret:with:colons")+`"},
		"`+reg.OtherHost()+`": {"auth": "`+b64("mallory:nope")+`"}}}`)
	creds, err := loadDockerConfig("")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	// Second resolution: Basic sent up front, no second 401.
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if n := reg.Requests(); n.Unauthorized != 1 || n.ManifestHEAD != 3 {
		t.Fatalf("requests %+v", n)
	}
}

func TestBasicAuthWithoutCredentialsIsUnauthorized(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthBasic, Username: "alice", Password: "pw"}})
	reg.MustPushImage(t, "org/app", "v1")
	for name, cfg := range map[string]string{
		"no entry":    `{"auths": {"registry.example.com": {"auth": "` + b64("alice:pw") + `"}}}`,
		"helper":      `{"auths": {}, "credHelpers": {"` + reg.Host() + `": "ocidns-test-absent"}}`,
		"wrong creds": `{"auths": {"` + reg.Host() + `": {"username": "alice", "password": "wrong"}}}`,
	} {
		path := writeDockerConfig(t, cfg)
		creds, err := loadDockerConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
		_, err = c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
		e := wantKind(t, err, ErrUnauthorized)
		switch name {
		case "no entry":
			if !strings.Contains(e.Error(), "no credentials for "+reg.Host()) {
				t.Errorf("%s: %q", name, e)
			}
		case "helper":
			if !strings.Contains(e.Error(), `docker-credential-ocidns-test-absent (credHelpers of `+path+`) is not installed`) {
				t.Errorf("%s: %q", name, e)
			}
		case "wrong creds":
			if !strings.Contains(e.Error(), "refused after authenticating") {
				t.Errorf("%s: %q", name, e)
			}
		}
		if strings.Contains(e.Error(), "pw") && name != "helper" {
			// "pw" appears in no message; guard against echoing secrets.
			t.Errorf("%s: error %q may leak a password", name, e)
		}
	}
}

// Credentials go to the token realm (that is the protocol) — and only
// credentials for the registry's own host.
func TestTokenRealmGetsTheRegistrysCredentials(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true,
		Auth: registrytest.Auth{Mode: registrytest.AuthToken, Username: "bob", Password: "pw", Realm: registrytest.RealmOtherHost}})
	want := reg.MustPushImage(t, "org/app", "v1")
	path := writeDockerConfig(t, `{"auths": {"`+reg.Host()+`": {"username": "bob", "password": "pw"}}}`)
	creds, err := loadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	var sawBasic bool
	for _, q := range reg.RequestsTo("other") {
		if q.Path == "/token" && q.Authorization == "Basic "+b64("bob:pw") {
			sawBasic = true
		}
	}
	if !sawBasic {
		t.Fatalf("token realm did not receive the credentials: %+v", reg.RequestsTo("other"))
	}
	for _, q := range reg.RequestsTo("registry") {
		if strings.HasPrefix(q.Authorization, "Basic") {
			t.Fatalf("registry got Basic credentials on a Bearer challenge: %+v", q)
		}
	}
}

// Docker's identity tokens are OAuth2 refresh tokens, exchanged by POST.
func TestIdentityTokenUsesOAuth2RefreshGrant(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	want := reg.MustPushImage(t, "org/app", "v1")
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken, RefreshToken: "refresh-me"})
	path := writeDockerConfig(t, `{"auths": {"`+reg.Host()+`": {"auth": "`+b64("<token>:")+`", "identitytoken": "refresh-me"}}}`)
	creds, err := loadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	if posts := tokenPOSTs(reg); posts != 1 {
		t.Fatalf("token POSTs %d: %+v", posts, reg.Log())
	}
}
