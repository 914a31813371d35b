package daemon

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/tracepage"
)

// GET / is the trace page and /assets/ its script and style sheet, each
// with a Content-Security-Policy that runs only the daemon's own script,
// loads nothing from another origin and forbids framing, and with
// nosniff; other paths under /assets/ are not found, and the page is GET
// only.
func TestTracePageIsServedWithItsPolicy(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	for _, c := range []struct{ path, ctype, holds string }{
		{"/", "text/html; charset=utf-8", `<script src="/assets/trace.js"></script>`},
		{"/?ref=" + url.QueryEscape("example.test/org/app:v1.0.0"), "text/html; charset=utf-8", `<input id="ref"`},
		{"/assets/trace.js", "text/javascript; charset=utf-8", "textContent"},
		{"/assets/trace.css", "text/css; charset=utf-8", ".wf-track"},
	} {
		t.Run(c.path, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Type") != c.ctype || !strings.Contains(string(body), c.holds) {
				t.Errorf("status %d, type %q, body holds %q: %t", resp.StatusCode, h.Get("Content-Type"), c.holds, strings.Contains(string(body), c.holds))
			}
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
				t.Errorf("Content-Security-Policy %q allows inline code or any origin", csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", h.Get("X-Content-Type-Options"))
			}
		})
	}
	for _, path := range []string{"/assets/", "/assets/other.js", "/index.html"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
}

// /v1/trace takes the platform a page asks for, and says it in the body.
func TestTraceTakesAPlatform(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	var body tracepage.Body
	resp := get(t, srv, "/v1/trace?ref="+url.QueryEscape("example.test/org/app:v1.0.0")+"&platform=linux/arm64", &body)
	if resp.StatusCode != 200 || body.Result == nil || body.Platform != "linux/arm64" ||
		body.Result.PlatformDigest.String() != theLab.Digests["example/org/app:v1.0.0@linux/arm64"].String() {
		t.Fatalf("status %d platform %q result %+v", resp.StatusCode, body.Platform, body.Result)
	}
	if len(body.Hops) != 1 || body.Hops[0].Host != "example.test" {
		t.Errorf("hops %+v", body.Hops)
	}
	resp = get(t, srv, "/v1/trace?ref=x&platform=linux/", nil)
	if resp.StatusCode != 400 {
		t.Errorf("a bad platform: %d, want 400", resp.StatusCode)
	}
}
