package resolver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/testkit"
)

// namesRegistry is a real registry over TLS with a certificate for
// *.names.test, so one server can be reached under any number of distinct
// TLS server names (as unauthenticated SRV targets are), and a count of the
// connections open to it.
type namesRegistry struct {
	srv      *httptest.Server
	pool     *x509.CertPool
	open     atomic.Int64 // connections open now
	accepted atomic.Int64 // connections ever accepted
	digest   digest.Digest
}

func startNamesRegistry(t testing.TB) *namesRegistry {
	t.Helper()
	cert, pool := testkit.SelfSignedCert(t, "*.names.test")
	nr := &namesRegistry{pool: pool}
	nr.srv = httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	nr.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	nr.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	nr.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			nr.open.Add(1)
			nr.accepted.Add(1)
		case http.StateClosed, http.StateHijacked:
			nr.open.Add(-1)
		}
	}
	nr.srv.StartTLS()
	t.Cleanup(func() { nr.srv.CloseClientConnections(); nr.srv.Close() })

	tr := nr.srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: nr.pool, ServerName: "push.names.test"}
	target := registrytest.Target{URL: nr.srv.URL, Transport: tr}
	var err error
	if nr.digest, err = target.PushImage(context.Background(), "org/app", "v1"); err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
	return nr
}

// resolveNames resolves org/app:v1 at nr under n distinct TLS server names,
// as n unauthenticated SRV targets of n names would be.
func resolveNames(t testing.TB, r *Resolver, nr *namesRegistry, n int) {
	t.Helper()
	for i := range n {
		ep := discovery.Endpoint{URL: nr.srv.URL, Repository: "org/app", Caps: discovery.CapAll,
			TLSServerName: fmt.Sprintf("n%d.names.test", i)}
		res, err := r.active().registryFor(ep).resolve(context.Background(), ep, "r", "v1", "", nil, false, nil)
		if err != nil {
			t.Fatalf("name %d: %v", i, err)
		}
		if res.Digest != nr.digest {
			t.Fatalf("name %d: digest %s, want %s", i, res.Digest, nr.digest)
		}
	}
}

// Per-name state is bounded: resolving through many distinct TLS server
// names keeps at most maxTLSNameClients transports, and a transport pushed
// out closes its idle connections. Close releases the rest.
func TestTransportsPerTLSNameAreBounded(t *testing.T) {
	nr := startNamesRegistry(t)
	r, err := New(WithDNSServers("127.0.0.1:9"), WithRootCAs(nr.pool), WithDockerConfig(emptyDockerConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	resolveNames(t, r, nr, n)
	// The server sees a closed connection a moment after the client
	// closes it: wait for the count to settle, within a bound.
	const bound = maxTLSNameClients + maxIdleConnsPerHost
	deadline := time.Now().Add(10 * time.Second)
	for nr.open.Load() > bound && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := nr.open.Load(); got > bound {
		t.Fatalf("after %d TLS names the registry still has %d connections open, want at most %d", n, got, bound)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for nr.open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := nr.open.Load(); got != 0 {
		t.Fatalf("after Close the registry still has %d connections open", got)
	}
	// The Resolver still works after Close; it opens new connections.
	resolveNames(t, r, nr, 1)
}

// BenchmarkStatePerTLSName reports the heap, goroutines and server-side
// connections left after resolving 2,000 distinct TLS server names:
//
//	go test -run '^$' -bench StatePerTLSName -benchtime 1x ./resolver/
func BenchmarkStatePerTLSName(b *testing.B) {
	const n = 2000
	nr := startNamesRegistry(b)
	for b.Loop() {
		r, err := New(WithDNSServers("127.0.0.1:9"), WithRootCAs(nr.pool), WithDockerConfig(emptyDockerConfig(b)))
		if err != nil {
			b.Fatal(err)
		}
		g0, h0 := runtime.NumGoroutine(), heap()
		resolveNames(b, r, nr, n)
		time.Sleep(200 * time.Millisecond) // let closed connections' goroutines exit
		b.ReportMetric(float64(heap()-h0)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines")
		b.ReportMetric(float64(nr.open.Load()), "server-conns")
		runtime.KeepAlive(r)
		nr.srv.CloseClientConnections()
	}
}

// emptyDockerConfig writes an empty Docker config, so tests never read the
// user's own credentials.
func emptyDockerConfig(t testing.TB) string {
	t.Helper()
	p := t.TempDir() + "/config.json"
	if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
