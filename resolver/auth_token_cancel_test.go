package resolver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// slowTokenFront is an HTTPS server in front of a registrytest registry that
// advertises itself as the token realm and holds every token request until
// release is closed (or the client goes away).
type slowTokenFront struct {
	*httptest.Server
	tokenArrived chan struct{} // closed when the first token request arrives
	release      chan struct{}
	abandoned    chan struct{} // closed when a held token request's client goes away
}

func startSlowTokenFront(t *testing.T, reg *registrytest.Registry) *slowTokenFront {
	t.Helper()
	f := &slowTokenFront{tokenArrived: make(chan struct{}), release: make(chan struct{}), abandoned: make(chan struct{})}
	regURL, _ := url.Parse(reg.URL())
	proxy := httputil.NewSingleHostReverseProxy(regURL)
	proxy.Transport = reg.Transport()
	proxy.ModifyResponse = func(resp *http.Response) error {
		if v := resp.Header.Get("WWW-Authenticate"); v != "" {
			resp.Header.Set("WWW-Authenticate", strings.ReplaceAll(v, reg.URL(), f.URL))
		}
		return nil
	}
	var once, abandon sync.Once
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/token" {
			once.Do(func() { close(f.tokenArrived) })
			select {
			case <-f.release:
			case <-req.Context().Done():
				abandon.Do(func() { close(f.abandoned) })
				return
			}
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(f.Close)
	return f
}

// A caller that gives up while a token request it started is in flight must
// not fail the other callers waiting for the same token: the shared fetch
// belongs to no single caller, and no error names another caller's
// reference. Two tags of one repository are resolved concurrently behind a
// slow token server; the first caller (whose request fetches the token) is
// cancelled before the token arrives.
func TestCancelledCallerDoesNotFailTheSharedTokenFetch(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, ExpiresIn: 300}})
	reg.MustPushImage(t, "org/app", "v1")
	want := reg.MustPushImage(t, "org/app", "v2", registrytest.WithSeed("v2"))
	front := startSlowTokenFront(t, reg)
	c := newRegistryClient(registryConfig{HTTP: reg.Client()})
	ep := discovery.Endpoint{URL: front.URL, Repository: "org/app", Caps: discovery.CapAll}

	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	errA := make(chan error, 1)
	go func() {
		_, err := c.resolve(ctxA, ep, "caller-a/org/app:v1", "v1", "", nil, false, nil)
		errA <- err
	}()
	<-front.tokenArrived // A leads the token fetch

	type result struct {
		res manifestResult
		err error
	}
	resB := make(chan result, 1)
	trB := trace.New(nil)
	go func() {
		res, err := c.resolve(context.Background(), ep, "caller-b/org/app:v2", "v2", "", nil, false, trB)
		resB <- result{res, err}
	}()
	// B joins the shared fetch (through the challenge A's 401 taught the
	// client, or after a 401 of its own). The pause only makes the old
	// behaviour show; the outcome asserted below must hold however the two
	// callers interleave.
	time.Sleep(150 * time.Millisecond)

	cancelA()
	err := <-errA
	if err == nil || !strings.Contains(err.Error(), "caller-a") {
		t.Fatalf("cancelled caller: error %v, want one naming caller-a", err)
	}
	close(front.release)

	b := <-resB
	if b.err != nil {
		t.Fatalf("caller B failed because caller A gave up: %v", b.err)
	}
	if b.res.Digest != want {
		t.Fatalf("caller B: digest %s, want %s", b.res.Digest, want)
	}
	var sawToken bool
	for _, ev := range trB.Events() {
		if strings.Contains(ev.Query, "/token") {
			sawToken = true
		}
		if strings.Contains(ev.Decision, "caller-a") || strings.Contains(ev.Query, "caller-a") {
			t.Errorf("caller B's trace names caller A: %+v", ev)
		}
	}
	if !sawToken {
		t.Errorf("caller B's trace does not show the token request it waited for: %+v", trB.Events())
	}
}

// The shared fetch outlives the caller that started it but not the last
// caller waiting for it: when every caller has left, the token request is
// abandoned rather than kept open until its own timeout.
func TestTokenFetchIsAbandonedWhenEveryCallerLeaves(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	reg.MustPushImage(t, "org/app", "v1")
	front := startSlowTokenFront(t, reg)
	c := newRegistryClient(registryConfig{HTTP: reg.Client()})
	ep := discovery.Endpoint{URL: front.URL, Repository: "org/app", Caps: discovery.CapAll}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.resolve(ctx, ep, "r", "v1", "", nil, false, nil)
		done <- err
	}()
	<-front.tokenArrived
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled resolution succeeded")
	}
	select {
	case <-front.abandoned:
	case <-time.After(10 * time.Second): // a liveness bound, far above the expected few milliseconds
		t.Fatal("the token request was still open 10s after its only caller left")
	}
	if n := c.auth.flights.Len(); n != 0 {
		t.Fatalf("%d token fetches still registered after every caller left", n)
	}
}
