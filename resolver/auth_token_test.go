package resolver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: a 401 is answered with the registry's challenge,
// here a Bearer one, by an anonymous token.
func TestAnonymousBearerTokenIsFetchedAndUsed(t *testing.T) {
	for _, realm := range []registrytest.RealmMode{registrytest.RealmSameHost, registrytest.RealmOtherHost} {
		t.Run(fmt.Sprint("realm mode ", int(realm)), func(t *testing.T) {
			reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, Realm: realm}})
			want := reg.MustPushImage(t, "org/app", "v1")
			c, _ := testClient(t, reg, nil)
			tr := trace.New(nil)
			res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, tr)
			if err != nil || res.Digest != want {
				t.Fatalf("realm %v: %+v %v", realm, res, err)
			}
			n := reg.Requests()
			if n.Token != 1 || n.TokenByScope["repository:org/app:pull"] != 1 || n.Unauthorized != 1 || n.ManifestHEAD != 2 {
				t.Fatalf("realm %v: requests %+v", realm, n)
			}
			// Anonymous: nothing but the token request itself carried no
			// Authorization; the retried HEAD carried the token.
			for _, q := range reg.Log() {
				if q.Path == "/token" && q.Authorization != "" {
					t.Fatalf("anonymous token request sent Authorization %q", q.Authorization)
				}
			}
			ev := tr.Events()
			if len(ev) != 3 || ev[0].Outcome != "401" || !strings.HasPrefix(ev[1].Query, "GET https://") ||
				!strings.Contains(ev[1].Query, "/token?") || !strings.Contains(ev[1].Decision, "anonymous token for repository:org/app:pull") ||
				ev[2].Outcome != "200" {
				t.Fatalf("trace %+v", ev)
			}
		})
	}
}

// Brief: "Cache tokens per (host, scope) until expires_in (default 60s per
// the spec, bound it)".
func TestTokensAreCachedPerHostAndScope(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, ExpiresIn: 300}})
	reg.MustPushImage(t, "org/app", "v1")
	reg.MustPushImage(t, "org/app", "v2")
	reg.MustPushImage(t, "org/other", "v1")
	other := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	other.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Now = clock })
	scope := "repository:org/app:pull"

	resolveTag(t, c, reg, "org/app", "v1", nil)
	resolveTag(t, c, reg, "org/app", "v2", nil) // same scope: cached token
	if n := reg.Requests(); n.TokenByScope[scope] != 1 || n.Unauthorized != 1 {
		t.Fatalf("same scope: %+v", n)
	}
	resolveTag(t, c, reg, "org/other", "v1", nil) // new scope: new token, without a 401 first
	if n := reg.Requests(); n.TokenByScope["repository:org/other:pull"] != 1 || n.Unauthorized != 1 {
		t.Fatalf("new scope: %+v", n)
	}
	// Same scope at another host is another token.
	resolveTag(t, c, other, "org/app", "v1", nil)
	if n := other.Requests(); n.TokenByScope[scope] != 1 {
		t.Fatalf("other host: %+v", n)
	}
	// Reused until just before expires_in (300s, less a 10s margin), then
	// renewed.
	advance(289 * time.Second)
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if n := reg.Requests().TokenByScope[scope]; n != 1 {
		t.Fatalf("token renewed early: %d requests", n)
	}
	advance(2 * time.Second)
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if n := reg.Requests().TokenByScope[scope]; n != 2 {
		t.Fatalf("token not renewed after expiry: %d requests", n)
	}
}

func TestTokenWithoutExpiresInLivesSixtySeconds(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Now = clock })
	resolveTag(t, c, reg, "org/app", "v1", nil)
	mu.Lock()
	now = now.Add(55 * time.Second)
	mu.Unlock()
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if n := reg.Requests().Token; n != 2 {
		t.Fatalf("token requests %d: a token without expires_in must not outlive 60s", n)
	}
}

func TestConcurrentResolvesShareOneTokenRequest(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, ExpiresIn: 300}})
	want := reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil)
	// Teach the client the challenge first, so every goroutine goes
	// straight for a token of the new scope.
	resolveTag(t, c, reg, "org/app", "v1", nil)
	reg.MustPushImage(t, "org/app2", "v1")
	reg.ResetRequests()

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.resolve(context.Background(), endpointFor(reg, "org/app2"), "r", "v1", "", nil, false, nil)
			if err == nil && res.Digest != want {
				err = context.Canceled
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := reg.Requests(); n.Token != 1 || n.Unauthorized != 0 {
		t.Fatalf("requests %+v: want one shared token request", n)
	}
}

// A token the registry stops accepting (revoked, clock skew) is dropped and
// replaced once; a second refusal is an error, not a loop.
func TestRefusedCachedTokenIsRenewedOnce(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, ExpiresIn: 300}})
	reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil)
	resolveTag(t, c, reg, "org/app", "v1", nil)
	// A new service name invalidates every issued token.
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken, Service: "rotated"})
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if n := reg.Requests(); n.Token != 2 {
		t.Fatalf("requests %+v", n)
	}
}

func TestTokenEndpointRefusalIsUnauthorized(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken, Username: "u", Password: "p"})
	c, _ := testClient(t, reg, nil)
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	e := wantKind(t, err, ErrUnauthorized)
	if e.Step != "token" || !strings.Contains(e.Error(), "HTTP 401") || !strings.Contains(e.Error(), "no credentials files loaded") {
		t.Fatalf("error %q", e)
	}
}
