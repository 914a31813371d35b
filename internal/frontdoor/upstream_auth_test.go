package frontdoor

import (
	"encoding/base64"
	"io"
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
