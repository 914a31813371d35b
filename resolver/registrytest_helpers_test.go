package resolver

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/reference"
)

// sleeps records the waits the client asked for instead of sleeping, so
// retry tests neither take time nor depend on it.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// tokenPOSTs counts the OAuth2 token requests (POST /token) reg granted:
// the exchanges of a refresh token or a password.
func tokenPOSTs(reg *registrytest.Registry) int {
	n := 0
	for _, q := range reg.Log() {
		if q.Path == "/token" && q.Method == "POST" && q.Status == 200 {
			n++
		}
	}
	return n
}

// testClient returns a client for reg: its transport (trusting the test
// certificate), plain HTTP allowed for reg's hosts when reg is plain, and
// sleeps recorded.
func testClient(t testing.TB, reg *registrytest.Registry, mod func(*registryConfig)) (*registryClient, *sleeps) {
	t.Helper()
	s := &sleeps{}
	plain := strings.HasPrefix(reg.URL(), "http://")
	cfg := registryConfig{
		HTTP:     reg.Client(),
		Insecure: func(h string) bool { return plain && (h == reg.Host() || h == reg.OtherHost()) },
		Sleep:    s.sleep,
	}
	if mod != nil {
		mod(&cfg)
	}
	return newRegistryClient(cfg), s
}

func endpointFor(reg *registrytest.Registry, repo string) discovery.Endpoint {
	return discovery.Endpoint{URL: reg.URL(), Repository: repo, Caps: discovery.CapAll,
		Source: discovery.SourceDirect, Authenticated: discovery.AuthNone}
}

// resolveTag resolves repo:tag at reg, failing the test on error.
func resolveTag(t testing.TB, c *registryClient, reg *registrytest.Registry, repo, tag string, plat *reference.Platform) manifestResult {
	t.Helper()
	res, err := c.resolve(context.Background(), endpointFor(reg, repo), reg.Host()+"/"+repo+":"+tag, tag, "", plat, false, nil)
	if err != nil {
		t.Fatalf("resolve %s:%s: %v", repo, tag, err)
	}
	return res
}

// wantKind asserts err is an *Error of the given kind and returns it.
func wantKind(t testing.TB, err, kind error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if !errors.Is(err, kind) || e.Kind != kind {
		t.Fatalf("error %q has kind %v, want %v", err, e.Kind, kind)
	}
	return e
}

func platform(t testing.TB, s string) *reference.Platform {
	t.Helper()
	p, err := reference.ParsePlatform(s)
	if err != nil {
		t.Fatal(err)
	}
	return &p
}
