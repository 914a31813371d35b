package resolver

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// active returns the engine calls start with now, for tests that reach
// inside it.
func (r *Resolver) active() *engine { return r.cur.Load() }

// waitFor polls cond every 10 ms until it holds or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Reload swaps credentials and trust anchors in; resolutions cached
// before stay cached, a resolution in flight finishes under the options
// it started with, and a Reload that fails changes nothing.
func TestReloadKeepsCachesAndCallsInFlight(t *testing.T) {
	regs := startRegistries(t, 1)
	reg := regs[0]
	want := map[string]string{}
	for _, ref := range []string{"app:1.0", "app:2.0", "app:3.0", "slow:1.0"} {
		repo, tag, _ := strings.Cut(ref, ":")
		want[ref] = push(t, reg, repo, tag).String()
	}
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthBasic, Username: "alice", Password: "pw-1"})
	l := startLab(t, regs,
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true),
		zone("slow.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true),
		zone("a.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true),
		zone("b.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true),
		zone("c.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	cfg := filepath.Join(t.TempDir(), "config.json")
	writeFile(t, cfg, `{"auths": {"`+reg.Host()+`": {"username": "alice", "password": "pw-1"}}}`)
	opts := func(anchors ...dns.RR) []Option {
		return []Option{
			WithDNSServers(l.dns.Addr()),
			WithTrustAnchors(anchors...),
			WithRootCAs(reg.Transport().TLSClientConfig.RootCAs),
			WithDockerConfig(cfg),
			WithDNSTimeout(time.Second),
		}
	}
	r, err := New(opts(l.dns.TrustAnchors()...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if res := mustResolve(t, r, "example.test/app:1.0"); res.Digest.String() != want["app:1.0"] || res.Cached {
		t.Fatalf("first resolution: %+v", res)
	}

	// A resolution in flight: its first DNS query goes unanswered; the
	// client's second try will be answered.
	slowTXT := "_oci-discovery.slow.test."
	l.dns.SetFault(slowTXT, dns.TypeTXT, dnstest.FaultDrop)
	type outcome struct {
		res Result
		err error
	}
	inFlight := make(chan outcome, 1)
	go func() {
		res, err := r.Resolve(ctx, "slow.test/slow:1.0")
		inFlight <- outcome{res, err}
	}()
	waitFor(t, "the slow resolution's first query", func() bool { return l.dns.QueryCount(slowTXT, dns.TypeTXT) >= 1 })

	// The password is rotated in the file, then at the registry.
	writeFile(t, cfg, `{"auths": {"`+reg.Host()+`": {"username": "alice", "password": "pw-2"}}}`)
	if err := r.Reload(opts(l.dns.TrustAnchors()...)...); err != nil {
		t.Fatal(err)
	}
	l.dns.SetFault(slowTXT, dns.TypeTXT, dnstest.FaultNone)
	got := <-inFlight
	if got.err != nil || got.res.Digest.String() != want["slow:1.0"] {
		t.Fatalf("the resolution in flight across the reload: %+v %v", got.res, got.err)
	}
	reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthBasic, Username: "alice", Password: "pw-2"})
	requests := reg.Requests().Manifests()
	if res := mustResolve(t, r, "example.test/app:1.0"); !res.Cached || res.Digest.String() != want["app:1.0"] {
		t.Errorf("cached before the reload: %+v, want it cached", res)
	}
	if n := reg.Requests().Manifests(); n != requests {
		t.Errorf("a cached answer asked the registry (%d manifest requests, was %d)", n, requests)
	}
	if res := mustResolve(t, r, "example.test/app:2.0"); res.Digest.String() != want["app:2.0"] {
		t.Errorf("with the new password: %+v", res)
	}

	// Trust anchors: without the lab's, its names can no longer be
	// validated; what is cached (resolutions, and discovery answers such
	// as example.test's) still serves. Each step asks about a name not
	// seen before, whose discovery no cache answers.
	if err := r.Reload(opts()...); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, "a.test/app:3.0"); err == nil {
		t.Error("resolved a name of the lab's signed zone without its trust anchor")
	}
	if res := mustResolve(t, r, "example.test/app:2.0"); !res.Cached {
		t.Errorf("cached before the second reload: %+v", res)
	}

	// A reload that cannot read its files keeps the options in force.
	missing := filepath.Join(t.TempDir(), "missing.json")
	err = r.Reload(append(opts(l.dns.TrustAnchors()...), WithDockerConfig(missing))...)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("reload with a missing file: %v", err)
	}
	if _, err := r.Resolve(ctx, "b.test/app:3.0"); err == nil {
		t.Error("a failed reload changed the options")
	}
	if err := r.Reload(opts(l.dns.TrustAnchors()...)...); err != nil {
		t.Fatal(err)
	}
	if res := mustResolve(t, r, "c.test/app:3.0"); res.Digest.String() != want["app:3.0"] {
		t.Errorf("with the anchors back: %+v", res)
	}
}

// countedConn counts itself among the open connections until closed.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// Each Reload leaves the engine it replaces to its calls in flight and
// closes its idle connections: a hundred reloads, each followed by a
// resolution on a connection of its own, leave none open.
func TestReloadsLeaveNoConnectionsBehind(t *testing.T) {
	regs := startRegistries(t, 1)
	for i := range 100 {
		push(t, regs[0], "app", "v"+strconv.Itoa(i))
	}
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	noLogins := filepath.Join(t.TempDir(), "config.json")
	writeFile(t, noLogins, "{}")
	var open atomic.Int64
	connect := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		open.Add(1)
		return &countedConn{Conn: c, open: &open}, nil
	}
	opts := []Option{
		WithDNSServers(l.dns.Addr()),
		WithTrustAnchors(l.dns.TrustAnchors()...),
		WithRootCAs(regs[0].Transport().TLSClientConfig.RootCAs),
		WithDockerConfig(noLogins),
		WithAddressPolicy(AddressPolicy{Allow: []string{regs[0].Host()}}),
		func(o *options) error { o.connect = connect; return nil },
	}
	r, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range 100 {
		mustResolve(t, r, "example.test/app:v"+strconv.Itoa(i))
		if err := r.Reload(opts...); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the replaced engines' connections to close", func() bool { return open.Load() == 0 })
}
