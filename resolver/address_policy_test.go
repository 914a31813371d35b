package resolver

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/testkit"
)

// policyLab is a signed zone names.test whose names lead to servers on
// 127.0.0.1: app.names.test maps to a registry by TXT, wk.names.test has
// an A record 127.0.0.1 and serves a well-known document mapping to the
// same registry.
type policyLab struct {
	*lab
	reg       *registrytest.Registry
	wk        *httptest.Server
	wkHost    string // wk.names.test:port
	wkHits    atomic.Int64
	pool      *x509.CertPool
	app, site digest.Digest
}

func startPolicyLab(t *testing.T, auth registrytest.Auth) *policyLab {
	t.Helper()
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: auth})
	pl := &policyLab{reg: reg}
	pl.app = reg.MustPushImage(t, "org/app", "v1")
	pl.site = reg.MustPushImage(t, "web/site", "1.0", registrytest.WithSeed("site"))

	doc := `{"version": 1, "namespaces": [{"prefix": "", "registries": [{"url": "https://` + reg.Host() + `/web", "priority": 5}]}]}`
	pl.wk, _ = testkit.StartTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		pl.wkHits.Add(1)
		if req.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc))
	}), "*.names.test")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(pl.wk.URL, "https://"))
	pl.wkHost = "wk.names.test:" + port

	pl.lab = startLab(t, []*registrytest.Registry{reg}, zone("names.test.",
		`_oci-discovery.app TXT "v=oci1; registry=https://{{REG0}}"`+"\n"+
			"wk A 127.0.0.1\n", true))
	pl.pool = reg.Transport().TLSClientConfig.RootCAs.Clone()
	pl.pool.AddCert(pl.wk.Certificate())
	return pl
}

func (pl *policyLab) resolver(t *testing.T, allow ...string) *Resolver {
	t.Helper()
	r := pl.lab.resolver(t, WithRootCAs(pl.pool), WithAddressPolicy(AddressPolicy{Allow: allow}))
	t.Cleanup(func() { r.Close() })
	return r
}

// wantRefused resolves ref with a trace and checks that it failed with the
// policy's message for target (host:port) at addr, in the error and in
// the trace.
func wantRefused(t *testing.T, r *Resolver, ref, target, addr string) {
	t.Helper()
	_, events, err := r.Trace(context.Background(), ref)
	want := "refused to connect to " + addr + " (loopback) for " + target + ": allow it with --allow-local-registry " + target
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: error %v, want one saying %q", ref, err, want)
	}
	var refusal *AddressRefusedError
	if !errors.As(err, &refusal) || refusal.Class != "loopback" || refusal.Addr.String() != addr {
		t.Errorf("%s: error does not carry the refusal as an *AddressRefusedError: %#v", ref, refusal)
	}
	for _, ev := range events {
		if strings.Contains(ev.Decision, want) {
			return
		}
	}
	t.Errorf("%s: no trace event says %q", ref, want)
}

// In `ocidns serve` (WithAddressPolicy), registries, well-known hosts,
// redirect targets and token realms whose address is loopback are refused
// when connecting — nothing reaches them — unless allowed by name.
func TestAddressPolicyRefusesLocalTargets(t *testing.T) {
	t.Run("registry named by a TXT record", func(t *testing.T) {
		pl := startPolicyLab(t, registrytest.Auth{})
		wantRefused(t, pl.resolver(t), "app.names.test/org/app:v1", pl.reg.Host(), pl.reg.Host())
		if n := len(pl.reg.Log()); n != 0 {
			t.Fatalf("the refused registry received %d requests", n)
		}
		res := mustResolve(t, pl.resolver(t, pl.reg.Host()), "app.names.test/org/app:v1")
		if res.Digest != pl.app {
			t.Fatalf("allowed: digest %s, want %s", res.Digest, pl.app)
		}
	})
	t.Run("registry given as an IP literal", func(t *testing.T) {
		pl := startPolicyLab(t, registrytest.Auth{})
		ref := pl.reg.Host() + "/org/app:v1"
		wantRefused(t, pl.resolver(t), ref, pl.reg.Host(), pl.reg.Host())
		if n := len(pl.reg.Log()); n != 0 {
			t.Fatalf("the refused registry received %d requests", n)
		}
		if res := mustResolve(t, pl.resolver(t, "127.0.0.1"), ref); res.Digest != pl.app {
			t.Fatalf("allowed (host without port): digest %s, want %s", res.Digest, pl.app)
		}
	})
	t.Run("well-known host", func(t *testing.T) {
		pl := startPolicyLab(t, registrytest.Auth{})
		_, port, _ := net.SplitHostPort(pl.wkHost)
		wantRefused(t, pl.resolver(t), pl.wkHost+"/site:1.0", pl.wkHost, "127.0.0.1:"+port)
		if n := pl.wkHits.Load(); n != 0 {
			t.Fatalf("the refused well-known host received %d requests", n)
		}
		res := mustResolve(t, pl.resolver(t, pl.wkHost, pl.reg.Host()), pl.wkHost+"/site:1.0")
		if res.Digest != pl.site {
			t.Fatalf("allowed: digest %s, want %s", res.Digest, pl.site)
		}
	})
	t.Run("redirect target", func(t *testing.T) {
		pl := startPolicyLab(t, registrytest.Auth{})
		pl.reg.SetFaults(registrytest.Faults{Redirect: true})
		r := pl.resolver(t, pl.reg.Host())
		wantRefused(t, r, "app.names.test/org/app:v1", pl.reg.OtherHost(), pl.reg.OtherHost())
		if got := pl.reg.RequestsTo("other"); len(got) != 0 {
			t.Fatalf("the refused redirect target received %+v", got)
		}
		if len(pl.reg.RequestsTo("registry")) == 0 {
			t.Fatal("the allowed registry was never asked: the test proves nothing")
		}
		res := mustResolve(t, pl.resolver(t, pl.reg.Host(), pl.reg.OtherHost()), "app.names.test/org/app:v1")
		if res.Digest != pl.app {
			t.Fatalf("allowed: digest %s, want %s", res.Digest, pl.app)
		}
	})
	t.Run("token realm", func(t *testing.T) {
		pl := startPolicyLab(t, registrytest.Auth{Mode: registrytest.AuthToken, Realm: registrytest.RealmOtherHost})
		r := pl.resolver(t, pl.reg.Host())
		wantRefused(t, r, "app.names.test/org/app:v1", pl.reg.OtherHost(), pl.reg.OtherHost())
		if got := pl.reg.RequestsTo("other"); len(got) != 0 {
			t.Fatalf("the refused token realm received %+v", got)
		}
		res := mustResolve(t, pl.resolver(t, pl.reg.Host(), pl.reg.OtherHost()), "app.names.test/org/app:v1")
		if res.Digest != pl.app {
			t.Fatalf("allowed: digest %s, want %s", res.Digest, pl.app)
		}
	})
}

// rebindLab serves names.test unsigned, with rebind.names.test and
// multi.names.test pointing at 192.0.2.10 (TEST-NET-1: a public address as
// far as the policy knows). The test's connect function stands the names
// registry on 127.0.0.1 in for that address and records every address it
// is asked to connect to.
type rebindLab struct {
	*lab
	nr        *namesRegistry
	port      string
	mu        sync.Mutex
	connected []string
}

func startRebindLab(t *testing.T) *rebindLab {
	t.Helper()
	rl := &rebindLab{nr: startNamesRegistry(t)}
	_, rl.port, _ = net.SplitHostPort(strings.TrimPrefix(rl.nr.srv.URL, "https://"))
	rl.lab = startLab(t, nil, zone("names.test.", "rebind A 192.0.2.10\nmulti A 192.0.2.10\nmulti A 127.0.0.1\n", false))
	return rl
}

func (rl *rebindLab) resolver(t *testing.T, publicAddr string) *Resolver {
	t.Helper()
	connect := func(ctx context.Context, network, addr string) (net.Conn, error) {
		rl.mu.Lock()
		rl.connected = append(rl.connected, addr)
		rl.mu.Unlock()
		host, port, _ := net.SplitHostPort(addr)
		if host == "192.0.2.10" {
			addr = net.JoinHostPort(publicAddr, port)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	r := rl.lab.resolver(t, WithRootCAs(rl.nr.pool), WithWellKnown(false), WithAddressPolicy(AddressPolicy{}),
		func(o *options) error { o.connect = connect; return nil })
	t.Cleanup(func() { r.Close() })
	return r
}

func (rl *rebindLab) dialled() []string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return append([]string(nil), rl.connected...)
}

// DNS rebinding: a name that was public when first resolved, then answers
// 127.0.0.1, is refused on the next connection; a name that answers a
// public and a loopback address together is only ever connected to at the
// public one, even when that one fails.
func TestAddressPolicyHoldsWhenTheNameRebinds(t *testing.T) {
	t.Run("answer changes between connections", func(t *testing.T) {
		rl := startRebindLab(t)
		r := rl.resolver(t, "127.0.0.1")
		ref := "rebind.names.test:" + rl.port + "/org/app:v1"
		if res := mustResolve(t, r, ref); res.Digest != rl.nr.digest {
			t.Fatalf("while public: digest %s, want %s", res.Digest, rl.nr.digest)
		}
		err := rl.dns.TamperFunc("rebind.names.test.", dns.TypeA, func(rr dns.RR) (dns.RR, error) {
			a := dns.Copy(rr).(*dns.A)
			a.A = net.IPv4(127, 0, 0, 1)
			return a, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // no idle connection to reuse: the next request dials
		before := rl.nr.accepted.Load()
		wantRefused(t, r, ref, "rebind.names.test:"+rl.port, "127.0.0.1:"+rl.port)
		if n := rl.nr.accepted.Load() - before; n != 0 {
			t.Fatalf("after rebinding to loopback the registry accepted %d connections", n)
		}
	})
	t.Run("public and loopback answers together", func(t *testing.T) {
		rl := startRebindLab(t)
		closed, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2 to stand in for a public host that refuses: %v", err)
		}
		refusing, _, _ := net.SplitHostPort(closed.Addr().String())
		closed.Close()
		r := rl.resolver(t, refusing)
		before := rl.nr.accepted.Load()
		ref := "multi.names.test:" + rl.port + "/org/app:v1"
		_, events, err := r.Trace(context.Background(), ref)
		if err == nil {
			t.Fatal("resolved although the only allowed address refuses connections")
		}
		for _, a := range rl.dialled() {
			if strings.HasPrefix(a, "127.0.0.1:") {
				t.Fatalf("connected to the loopback address %s: dialled %q", a, rl.dialled())
			}
		}
		if n := rl.nr.accepted.Load() - before; n != 0 {
			t.Fatalf("the registry on loopback accepted %d connections", n)
		}
		var noted bool
		for _, ev := range events {
			noted = noted || strings.Contains(ev.Decision, "1 of its addresses refused, e.g. 127.0.0.1:"+rl.port+" (loopback)")
		}
		if !noted {
			t.Errorf("the trace does not say an address was refused")
		}
	})
}

func TestAddressClassification(t *testing.T) {
	for _, tc := range []struct {
		ip             string
		class, private string // without and with DenyPrivate
	}{
		{"127.0.0.1", "loopback", "loopback"},
		{"127.1.2.3", "loopback", "loopback"},
		{"::1", "loopback", "loopback"},
		{"::ffff:127.0.0.1", "loopback", "loopback"},
		{"64:ff9b::7f00:1", "loopback", "loopback"},
		{"169.254.169.254", "link-local", "link-local"},
		{"64:ff9b::a9fe:a9fe", "link-local", "link-local"},
		{"fe80::1", "link-local", "link-local"},
		{"0.0.0.0", "unspecified", "unspecified"},
		{"0.1.2.3", "unspecified", "unspecified"},
		{"::", "unspecified", "unspecified"},
		{"224.0.0.1", "multicast", "multicast"},
		{"ff02::1", "multicast", "multicast"},
		{"10.1.2.3", "", "private"},
		{"172.16.0.1", "", "private"},
		{"192.168.1.1", "", "private"},
		{"100.100.100.200", "", "private"},
		{"fd00:ec2::254", "", "private"},
		{"8.8.8.8", "", ""},
		{"192.0.2.10", "", ""},
		{"2001:4860::1", "", ""},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			if got := (&addressPolicy{}).refuses(ip); got != tc.class {
				t.Errorf("default policy: %q, want %q", got, tc.class)
			}
			if got := (&addressPolicy{denyPrivate: true}).refuses(ip); got != tc.private {
				t.Errorf("DenyPrivate: %q, want %q", got, tc.private)
			}
		})
	}
}

func TestAddressPolicyAllowList(t *testing.T) {
	p, err := AddressPolicy{Allow: []string{"registry.local", "Mirror.Local.:5000", "[::1]:5001", "::2", "127.0.0.1:6000"}}.compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, port string
		want       bool
	}{
		{"registry.local", "443", true},
		{"REGISTRY.local.", "5000", true},
		{"mirror.local", "5000", true},
		{"mirror.local", "5001", false},
		{"::1", "5001", true},
		{"::1", "5000", false},
		{"::2", "1", true},
		{"127.0.0.1", "6000", true},
		{"127.0.0.1", "6001", false},
		{"evil.local", "5000", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			if got := p.allows(tc.host, tc.port); got != tc.want {
				t.Errorf("allows(%s, %s) = %v, want %v", tc.host, tc.port, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "host:0", "host:http", "host:70000", "a/b:1", ":5000"} {
		t.Run(bad, func(t *testing.T) {
			if _, err := (AddressPolicy{Allow: []string{bad}}).compile(); err == nil {
				t.Errorf("allow entry %q accepted", bad)
			}
		})
	}
	if _, err := New(WithHTTPClient(http.DefaultClient), WithAddressPolicy(AddressPolicy{})); err == nil {
		t.Error("New accepted an address policy with a caller's HTTP client, which it cannot apply")
	}
}
