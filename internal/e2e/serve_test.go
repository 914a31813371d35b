package e2e

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ocidns/ocidns/internal/daemon"
)

// The daemon's handler, in-process on 127.0.0.1:0, answers /v1/resolve for
// every lab name through unbound with the registry's own digests, serves
// the second request from its cache, and maps a tampered zone to 502.
func TestServeHandlerAnswersResolve(t *testing.T) {
	l := needLab(t)
	r := newResolver(t, l, resolverPaths[1])
	srv := httptest.NewServer(daemon.New(daemon.Config{Resolver: r, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()

	for _, c := range labCases() {
		q := url.Values{"ref": {c.ref}}
		if c.platform != "" {
			q.Set("platform", c.platform)
		}
		for round := 0; round < 2; round++ {
			var res struct {
				Digest, PlatformDigest string
				Cached                 bool
			}
			if status := getJSON(t, srv.URL+"/v1/resolve?"+q.Encode(), &res); status != http.StatusOK {
				t.Errorf("/v1/resolve %s: status %d", q.Encode(), status)
				break
			}
			if res.Digest != l.digest(t, c.digest) {
				t.Errorf("/v1/resolve %s: digest %s, want %s", q.Encode(), res.Digest, l.digest(t, c.digest))
			}
			if c.platDigest != "" && res.PlatformDigest != l.digest(t, c.platDigest) {
				t.Errorf("/v1/resolve %s: platformDigest %s, want %s", q.Encode(), res.PlatformDigest, l.digest(t, c.platDigest))
			}
			if round == 1 && !res.Cached {
				t.Errorf("/v1/resolve %s: second request not served from cache", q.Encode())
			}
		}
	}
	var e struct{ Ref, Code string }
	ref := "lab.test/bogus/app:v1"
	if status := getJSON(t, srv.URL+"/v1/resolve?ref="+url.QueryEscape(ref), &e); status != http.StatusBadGateway || e.Code != "DISCOVERY_FAILED" || e.Ref != ref {
		t.Errorf("/v1/resolve %s: status %d %+v, want 502 DISCOVERY_FAILED naming the ref", ref, status, e)
	}
}
