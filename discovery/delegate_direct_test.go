package discovery_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// DESIGN §2 item 4: "Direct — none of the above: https://<host> itself is
// the registry (today's Docker behaviour, docker.io → registry-1.docker.io).
// A name works with zero configuration wherever it works today."
func TestDirectFallbackWhenNothingIsPublished(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, evs := dlMust(t, discovery.New(o), "direct.mapping.test/team/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://direct.mapping.test", Repository: "team/app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "direct.mapping.test", Path: "team/app", Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			// Both denials were consulted: the answer lives as long as they do.
			if res.TTL != 900*time.Second {
				t.Errorf("TTL %v, want 15m", res.TTL)
			}
			dlWantDecision(t, evs, "no mapping published: direct.mapping.test is its own registry (https://direct.mapping.test)")
		})
	}
}

// docker.io publishes nothing, and its registry is registry-1.docker.io.
// Nothing connects to it: discovery only names the endpoint.
func TestDirectFallbackOfDockerHub(t *testing.T) {
	l := dlStart(t, dnstest.Config{Zones: []dnstest.Zone{dlZone("docker.io.", "docker.io.zone")}})
	d := discovery.New(l.options())
	for _, name := range []string{"docker.io/library/ubuntu", "index.docker.io/library/ubuntu"} {
		res, _ := dlMust(t, d, name)
		dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
			{URL: "https://registry-1.docker.io", Repository: "library/ubuntu", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
		})
	}
}

// A host with a port or an IP literal has no DNS names to ask
// (_oci-discovery.localhost:5000 is not a name): it is its own registry,
// without a single query, and the trace says why. An insecure registry is
// plain HTTP whether the operator marked host:port or the bare host.
func TestDirectForHostsWithAPortOrAnIPAddress(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	for _, tc := range []struct {
		name     string
		insecure string
		url      string
		auth     discovery.Auth
	}{
		{"localhost:5000/app", "", "https://localhost:5000", discovery.AuthHTTPS},
		{"127.0.0.1/app", "", "https://127.0.0.1", discovery.AuthHTTPS},
		{"[::1]:5000/app", "", "https://[::1]:5000", discovery.AuthHTTPS},
		{"localhost:5000/app", "localhost:5000", "http://localhost:5000", discovery.AuthNone},
		{"localhost:5000/app", "localhost", "http://localhost:5000", discovery.AuthNone},
		{"127.0.0.1:5000/app", "127.0.0.1", "http://127.0.0.1:5000", discovery.AuthNone},
		{"direct.mapping.test/app", "direct.mapping.test", "http://direct.mapping.test", discovery.AuthNone},
		{"localhost:5000/app", "localhost:5001", "https://localhost:5000", discovery.AuthHTTPS},
	} {
		l.srv.ResetCounts()
		o := l.options()
		o.Insecure = func(h string) bool { return h == tc.insecure }
		res, evs := dlMust(t, discovery.New(o), tc.name)
		want := discovery.Endpoint{URL: tc.url, Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: tc.auth}
		if len(res.Endpoints) != 1 || res.Endpoints[0] != want {
			t.Errorf("%s, insecure %q: endpoints\n%swant\n%s", tc.name, tc.insecure, dlEndpoints(res.Endpoints), dlEndpoints([]discovery.Endpoint{want}))
		}
		if tc.name == "direct.mapping.test/app" {
			continue
		}
		if n := l.srv.TotalQueries(); n != 0 {
			t.Errorf("%s: %d DNS queries, want none", tc.name, n)
		}
		dlWantDecision(t, evs, "no DNS discovery for an IP address or a host with a port")
	}
}

// A name whose host is not a host is an error naming it, before any query.
func TestInvalidHostIsAnError(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	d := discovery.New(l.options())
	for _, name := range []string{"/app", "exa_mple..test/app", "host:0/app", "host:99999/app", "host:+80/app", "[::1/app", "[::1]x/app", "[::1]:/app", "[example.test]/app", "::1/app", "a b.test/app"} {
		res, _, err := dlDiscover(d, name)
		var de *discovery.Error
		if !errors.Is(err, discovery.ErrInvalidName) || !errors.As(err, &de) || de.Step != "parse name" {
			t.Errorf("%s: (%v, %v), want ErrInvalidName at step parse name", name, res, err)
		}
	}
	if n := l.srv.TotalQueries(); n != 0 {
		t.Errorf("%d DNS queries for invalid names", n)
	}
}
