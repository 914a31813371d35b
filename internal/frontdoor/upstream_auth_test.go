package frontdoor

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/resolver"
)

// recorder keeps every response header and body the engine received.
type recorder struct {
	base http.RoundTripper
	seen strings.Builder
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		r.seen.WriteString("ENGINE SENT AUTHORIZATION\n")
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	for k, v := range resp.Header {
		r.seen.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.seen.Write(body)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp, err
}

// Upstream authentication happens inside ocidns: a registry behind token
// auth, whose token endpoint wants the user's credentials from the docker
// config, is pulled from through the front door by an engine that sends
// none, and no credential, token or challenge ever reaches the engine or
// the log.
func TestTokenAuthUpstreamStaysInsideTheFrontDoor(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true,
		Auth: registrytest.Auth{Mode: registrytest.AuthToken, Username: "puller", Password: "s3cret-pa55"}})
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	cfg := `{"auths":{"` + reg.Host() + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("puller:s3cret-pa55")) + `"}}}`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startLab(t, labConfig{extra: []string{reg.Host()}, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}/acme"`+"\n", true),
	}, opts: append(rootsOf(reg), resolver.WithDockerConfig(cfgPath))})

	want := reg.MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("token"))
	rec := &recorder{base: http.DefaultTransport}
	img, err := remote.Image(l.pathRef(t, "example.test/org/app:v1"), remote.WithTransport(rec))
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, l.logs)
	}
	if d, _ := img.Digest(); d.String() != want.String() {
		t.Fatalf("digest %s, want %s", d, want)
	}
	pullImage(t, img)

	var tokens []string
	for _, q := range reg.Log() {
		if tok, ok := strings.CutPrefix(q.Authorization, "Bearer "); ok {
			tokens = append(tokens, tok)
		}
	}
	if len(tokens) == 0 {
		t.Fatal("the registry saw no bearer token: the test does not exercise token auth")
	}
	engine, logs := rec.seen.String(), l.logs.String()
	secrets := append([]string{"s3cret-pa55", base64.StdEncoding.EncodeToString([]byte("puller:s3cret-pa55"))}, tokens...)
	for _, s := range secrets {
		if strings.Contains(engine, s) {
			t.Errorf("the engine received a secret (%.12s...)", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the log holds a secret (%.12s...)", s)
		}
	}
	for _, h := range []string{"Www-Authenticate", "Authorization", "ENGINE SENT"} {
		if strings.Contains(engine, h) {
			t.Errorf("the engine saw %s", h)
		}
	}
}

// A registry that redirects blobs to storage signs the target URL in its
// query; when that fetch fails, the error (in the daemon's log) must not
// carry the grant.
func TestRedirectGrantNeverReachesTheLog(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // storage that refuses connections
	redirector := startTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, "https://"+closed+"/bucket/blob?X-Signature=grant-s3cret&X-Expires=60", http.StatusTemporaryRedirect)
			return
		}
		proxyTo(reg).ServeHTTP(w, r)
	}))
	l := startLab(t, labConfig{extra: []string{redirector, closed}, opts: rootsOf(reg), zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true),
	}})
	resp, body := l.do(t, "GET", "/v2/example.test/org/app/blobs/sha256:"+strings.Repeat("6", 64), nil)
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "grant-s3cret") {
		t.Fatalf("%d %s, want 502 without the grant", resp.StatusCode, body)
	}
	if strings.Contains(l.logs.String(), "grant-s3cret") {
		t.Errorf("the log holds the redirect's grant:\n%s", l.logs)
	}
	if !logHas(l, "/bucket/blob") {
		t.Errorf("the log does not name the failing URL at all:\n%s", l.logs)
	}
}
