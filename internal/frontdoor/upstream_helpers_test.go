package frontdoor

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/resolver"
)

// startTLS serves h over TLS on 127.0.0.1 with httptest's certificate (the
// one the lab's resolver trusts) and returns its host:port.
func startTLS(t testing.TB, h http.Handler) string {
	t.Helper()
	s := httptest.NewTLSServer(h)
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

// counting wraps h and counts the requests it gets.
type counting struct {
	h http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

// down answers every request with status and a zero Retry-After (so the
// client's retries cost no time).
func down(status int) *counting {
	return &counting{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"errors":[{"code":"UNAVAILABLE","message":"down for the test"}]}`))
	})}
}

// proxyTo relays every request to reg (over its TLS transport).
func proxyTo(reg *registrytest.Registry) *httputil.ReverseProxy {
	u, _ := url.Parse(reg.URL())
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = reg.Transport()
	return p
}

// lyingBlobs relays reg, except that blob GETs get other bytes of the same
// length: a mirror that serves corrupt or forged layers. With chunked, the
// body goes without Content-Length.
func lyingBlobs(reg *registrytest.Registry, chunked bool) http.Handler {
	p := proxyTo(reg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
			p.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		forged := make([]byte, len(body))
		copy(forged, body)
		if len(forged) > 0 {
			forged[len(forged)/2] ^= 0xff
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if chunked {
			w.WriteHeader(rec.Code)
			w.(http.Flusher).Flush()
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(len(forged)))
			w.WriteHeader(rec.Code)
		}
		w.Write(forged)
	})
}

// rootsOf trusts reg's certificate (httptest's, shared by startTLS).
func rootsOf(reg *registrytest.Registry) []resolver.Option {
	return []resolver.Option{resolver.WithRootCAs(reg.Transport().TLSClientConfig.RootCAs)}
}

// logHas reports whether the front door's log contains s.
func logHas(l *lab, s string) bool { return strings.Contains(l.logs.String(), s) }

func manifestOfSize(n int) resolver.Manifest { return resolver.Manifest{Body: make([]byte, n)} }

// slowBlobs relays reg, sending blob bodies in 4 KiB pieces with a pause
// between them.
func slowBlobs(reg *registrytest.Registry, pause time.Duration) http.Handler {
	p := proxyTo(reg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
			p.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		for len(body) > 0 {
			n := min(4096, len(body))
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			body = body[n:]
			time.Sleep(pause)
		}
	})
}

func mustImage(t testing.TB, l *lab, ref string) v1.Image {
	t.Helper()
	img, err := remote.Image(l.pathRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
