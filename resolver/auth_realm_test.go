package resolver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: a Bearer token realm MUST be HTTPS unless the
// registry is marked insecure.
func TestPlainHTTPTokenRealmRefusedForSecureRegistry(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken, Realm: registrytest.RealmPlainHTTP})
	c, _ := testClient(t, reg, nil)
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	e := wantKind(t, err, ErrUnauthorized)
	if !strings.Contains(e.Error(), "plain http") || !strings.Contains(e.Error(), "not marked insecure") {
		t.Fatalf("error %q", e)
	}
	if got := reg.RequestsTo("plain"); len(got) != 0 {
		t.Fatalf("the http realm was contacted: %+v", got)
	}
}

func TestPlainHTTPTokenRealmAllowedForInsecureRegistry(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{Auth: registrytest.Auth{Mode: registrytest.AuthToken, Realm: registrytest.RealmPlainHTTP}})
	want := reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil) // plain registry: marked insecure
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
	if got := reg.RequestsTo("plain"); len(got) != 1 {
		t.Fatalf("realm requests %+v", got)
	}
}

func TestMalformedChallengeIsUnauthorized(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	c, _ := testClient(t, reg, nil)
	rq := &regRequest{t: &target{refName: "r", host: reg.Host(), origin: "https://x:443", scope: "repository:a:pull"}, step: "HEAD manifest"}
	for _, h := range []string{`Bearer realm="unterminated`, `Negotiate abc`, `Bearer service="x"`, `Bearer realm="ftp://x/token"`, `Bearer realm="/relative"`} {
		t.Run(h, func(t *testing.T) {
			_, err := c.authorize(context.Background(), rq, []string{h})
			wantKind(t, err, ErrUnauthorized)
		})
	}
}

// A registry on a public name pointing its token realm at a loopback or
// private address would make ocidns (possibly a daemon) request internal
// services on its behalf. The registry here is reached as example.com
// (the test certificate's name) through a dialer that goes to 127.0.0.1.
func TestInternalRealmRefusedForNamedRegistry(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken, Realm: registrytest.RealmOtherHost})
	_, port, _ := net.SplitHostPort(reg.Host())
	tr := reg.Transport()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != "example.com:"+port {
			return nil, fmt.Errorf("test dialer: unexpected address %s", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, reg.Host())
	}
	c := newRegistryClient(registryConfig{HTTP: &http.Client{Transport: tr}})
	ep := endpointFor(reg, "org/app")
	ep.URL = "https://example.com:" + port
	_, err := c.resolve(context.Background(), ep, "r", "v1", "", nil, false, nil)
	e := wantKind(t, err, ErrUnauthorized)
	if !strings.Contains(e.Error(), "internal address") {
		t.Fatalf("error %q", e)
	}
	if got := reg.RequestsTo("other"); len(got) != 0 {
		t.Fatalf("internal realm contacted: %+v", got)
	}

	// The registry's own address written as an IP literal is still
	// another host than example.com:port: refused too.
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthToken})
	_, err = c.resolve(context.Background(), ep, "r", "v1", "", nil, false, nil)
	wantKind(t, err, ErrUnauthorized)
}

func TestInternalIPClassification(t *testing.T) {
	for h, want := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "192.168.0.1": true, "169.254.169.254": true, "[::1]": true,
		"fd00:ec2::254": true, "::ffff:127.0.0.1": true, "0.0.0.0": true,
		"8.8.8.8": false, "example.com": false, "localhost": false, "2001:4860::1": false,
	} {
		if got := internalIP(h); got != want {
			t.Errorf("internalIP(%q) = %v", h, got)
		}
	}
}
