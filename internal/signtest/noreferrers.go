package signtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// WithoutReferrers serves the registry at upstream (http(s)://host:port)
// through a plain-HTTP proxy on 127.0.0.1 that answers 404 to the referrers
// API, as a registry older than distribution spec v1.1 does; everything
// else passes through unchanged. Pushing through it makes
// go-containerregistry (and so cosign) write the referrers tag schema's
// index; reading through it makes a client fall back to that index. It
// returns the proxy's URL and closes it when the test ends.
func WithoutReferrers(t testing.TB, upstream string, transport http.RoundTripper) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = transport
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/referrers/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"NOT_FOUND","message":"no referrers API here"}]}`))
			return
		}
		proxy.ServeHTTP(w, r)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s.URL
}
