package frontdoor

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// gate relays reg, except that blob GETs and manifest GETs by digest send
// their headers and first bytes and then wait for release: a slow or stuck
// registry.
type gate struct {
	reg     *registrytest.Registry
	release chan struct{}
	started chan struct{}
	once    sync.Once
}

func newGate(reg *registrytest.Registry) *gate {
	return &gate{reg: reg, release: make(chan struct{}), started: make(chan struct{}, 16)}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (strings.Contains(r.URL.Path, "/blobs/") || strings.Contains(r.URL.Path, "/manifests/sha256:")) {
		g.started <- struct{}{}
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		select {
		case <-g.release:
		case <-r.Context().Done():
		}
		return
	}
	proxyTo(g.reg).ServeHTTP(w, r)
}

// Blob streams are bounded: beyond MaxStreams a request waits StreamWait
// for a turn, then gets 429 TOOMANYREQUESTS with Retry-After. Short
// requests are bounded by MaxInFlight, refused at once beyond it.
func TestStreamsAndRequestsAreBounded(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	d := reg.MustPushImage(t, "org/app", "v1", registrytest.WithSeed("limits"))
	g := newGate(reg)
	defer g.open()
	host := startTLS(t, g)
	l := startLab(t, labConfig{extra: []string{host}, opts: rootsOf(reg),
		cfg:   Config{MaxStreams: 1, StreamWait: 50 * time.Millisecond, MaxInFlight: 1},
		zones: []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true)}})

	blob := l.srv.URL + "/v2/example.test/org/app/blobs/sha256:" + strings.Repeat("2", 64)
	first, err := http.Get(blob)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	<-g.started
	resp, body := l.do(t, "GET", "/v2/example.test/org/app/blobs/sha256:"+strings.Repeat("3", 64), nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second stream: %d %s, want 429 with Retry-After", resp.StatusCode, body)
	}
	if code, _ := ociError(t, body); code != codeTooManyRequests {
		t.Errorf("code %s", code)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(l.srv.URL + "/v2/example.test/org/app/manifests/" + d.String())
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-g.started
	resp, body = l.do(t, "GET", "/v2/example.test/org/app/manifests/v1", nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second manifest request: %d %s, want 429", resp.StatusCode, body)
	}
	g.open()
	<-done
	resp, body = l.do(t, "GET", "/v2/example.test/org/app/tags/list", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the others finished: %d %s", resp.StatusCode, body)
	}
}

// A registry that stops sending mid-blob does not hold the stream: after
// IdleTimeout without a byte the transfer is cut, and the engine sees an
// error, not a clean end.
func TestStalledUpstreamIsCutAfterIdleTimeout(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	g := newGate(reg)
	defer g.open()
	host := startTLS(t, g)
	l := startLab(t, labConfig{extra: []string{host}, opts: rootsOf(reg),
		cfg:   Config{IdleTimeout: 200 * time.Millisecond},
		zones: []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true)}})
	resp, err := http.Get(l.srv.URL + "/v2/example.test/org/app/blobs/sha256:" + strings.Repeat("4", 64))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatalf("a stalled stream ended cleanly after %d bytes", n)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("cut after %v", d)
	}
	if !logHas(l, "no data from the registry") {
		t.Errorf("the log does not say why:\n%s", l.logs)
	}
}

// A blob transfer longer than the server's read and write timeouts goes
// through: the relay keeps its own deadline per write, and the request's
// read deadline does not end it.
func TestLongTransferOutlivesServerTimeouts(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	d := reg.MustPushImage(t, "org/app", "v1", registrytest.WithSeed("long"), registrytest.WithLayerSize(64<<10))
	slow := startTLS(t, slowBlobs(reg, 20*time.Millisecond))
	l := startLab(t, labConfig{extra: []string{slow}, opts: rootsOf(reg),
		server: func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = 150*time.Millisecond, 150*time.Millisecond },
		zones:  []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true)}})
	img := mustImage(t, l, "example.test/org/app@"+d.String())
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	resp, body := l.do(t, "GET", "/v2/example.test/org/app/blobs/"+ld.String(), nil)
	size, _ := layers[0].Size()
	if resp.StatusCode != 200 || int64(len(body)) != size {
		t.Fatalf("status %d, %d of %d bytes", resp.StatusCode, len(body), size)
	}
}
