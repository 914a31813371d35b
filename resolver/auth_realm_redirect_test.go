package resolver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ocidns/ocidns/discovery"
)

// recorder is an HTTPS server that records every request it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path Authorization"
}

func startRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, req.Method+" "+req.URL.Path+" "+req.Header.Get("Authorization"))
		rec.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.seen...)
}

// protocol.md §12: a challenge is the registry's own only when it comes from
// the registry's origin. Here the registry redirects every manifest request
// to a CDN host, which answers 401 with a Bearer challenge whose realm is an
// attacker's server. The user has credentials for the registry in the
// Docker config; the attacker must never see them, nor any request, on this
// resolution or later ones (no token fetched "ahead" from a realm learned
// from the CDN).
func TestChallengeFromRedirectTargetIsNotAnswered(t *testing.T) {
	attacker := startRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"token":"attacker-token","expires_in":300}`))
	})
	cdn := startRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+attacker.URL+`/token",service="cdn"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	registry := startRecorder(t, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, cdn.URL+req.URL.Path, http.StatusTemporaryRedirect)
	})
	regHost := strings.TrimPrefix(registry.URL, "https://")
	creds, err := parseDockerConfig("test", []byte(`{"auths":{"`+regHost+`":{"auth":"`+b64("alice:s3cret")+`"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := newRegistryClient(registryConfig{HTTP: registry.Client(), Creds: creds})

	for _, repo := range []string{"org/app", "org/other"} {
		ep := discovery.Endpoint{URL: registry.URL, Repository: repo, Caps: discovery.CapAll}
		for _, verify := range []bool{false, true} { // HEAD, then GET
			_, err := c.resolve(context.Background(), ep, "ref-"+repo, "v1", "", nil, verify, nil)
			e := wantKind(t, err, ErrUnauthorized)
			cdnHost := strings.TrimPrefix(cdn.URL, "https://")
			if !strings.Contains(e.Error(), cdnHost) || !strings.Contains(e.Error(), "not the registry") {
				t.Errorf("%s verify=%v: error %q should name %s and say it is not the registry", repo, verify, e, cdnHost)
			}
		}
		if got := attacker.requests(); len(got) != 0 {
			t.Fatalf("after resolving %s the attacker's realm received %q", repo, got)
		}
	}
	if len(cdn.requests()) == 0 {
		t.Fatal("the registry's redirect was never followed: the test proves nothing")
	}
}
