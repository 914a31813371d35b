package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/demo"
	"github.com/ocidns/ocidns/internal/tracepage"
	"github.com/ocidns/ocidns/resolver"
)

var (
	labOnce sync.Once
	theLab  *demo.Lab
	labErr  error
)

// sharedLab starts the demo lab (DNS, HTTPS well-known, registry) once for
// the package's tests.
func sharedLab(t testing.TB) *demo.Lab {
	t.Helper()
	labOnce.Do(func() { theLab, labErr = demo.Start(context.Background()) })
	if labErr != nil {
		t.Fatal(labErr)
	}
	return theLab
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theLab != nil {
		theLab.Close()
	}
	os.Exit(code)
}

func startDaemon(t testing.TB, cfg Config, opts ...resolver.Option) (*httptest.Server, *demo.Lab) {
	t.Helper()
	lab := sharedLab(t)
	r, err := resolver.New(append(lab.Options(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Resolver = r
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return srv, lab
}

func get(t testing.TB, srv *httptest.Server, path string, into any) *http.Response {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v in %q", path, err, body)
		}
	}
	return resp
}

func TestResolveAnswersWithTheJSONOfResolve(t *testing.T) {
	srv, lab := startDaemon(t, Config{})
	var res resolver.Result
	resp := get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v1.0.0"), &res)
	if resp.StatusCode != 200 || res.Digest != lab.Digests["example/org/app:v1.0.0"] || res.Cached {
		t.Fatalf("status %d, %+v", resp.StatusCode, res)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v1.0.0"), &res)
	if !res.Cached {
		t.Error("second request not served from cache")
	}
	resp = get(t, srv, "/v1/resolve?platform=linux/arm64&ref="+url.QueryEscape("example.test/org/app:v1.0.0"), &res)
	if resp.StatusCode != 200 || res.PlatformDigest != lab.Digests["example/org/app:v1.0.0@linux/arm64"] {
		t.Fatalf("platform: status %d, %+v", resp.StatusCode, res)
	}
}

func TestErrorsMapToStatusAndCode(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	for _, c := range []struct {
		query  string
		status int
		code   string
	}{
		{"", 400, "INVALID_REFERENCE"},
		{"ref=" + url.QueryEscape("example.test/Org/app"), 400, "INVALID_REFERENCE"},
		{"ref=" + url.QueryEscape("example.test/org/app:v9"), 404, "NOT_FOUND"},
		{"ref=" + url.QueryEscape("no-such-host.test/app:1"), 502, "DISCOVERY_FAILED"},
		{"ref=x&platform=" + url.QueryEscape("linux/"), 400, "INVALID_PLATFORM"},
		{"ref=" + strings.Repeat("a", maxRefLength+1), 400, "INVALID_REFERENCE"},
	} {
		t.Run(c.query, func(t *testing.T) {
			var body errorBody
			resp := get(t, srv, "/v1/resolve?"+c.query, &body)
			if resp.StatusCode != c.status || body.Code != c.code || body.Error == "" {
				t.Errorf("%s: status %d %+v, want %d %s", c.query, resp.StatusCode, body, c.status, c.code)
			}
		})
	}
	resp, err := srv.Client().Post(srv.URL+"/v1/resolve?ref=x", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", resp.StatusCode)
	}
}

func TestTraceReturnsEveryStep(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	var body tracepage.Body
	resp := get(t, srv, "/v1/trace?ref="+url.QueryEscape("example.test/partners/acme/tool:1.0"), &body)
	if resp.StatusCode != 200 || body.Result == nil || len(body.Events) < 5 {
		t.Fatalf("status %d, result %v, %d events", resp.StatusCode, body.Result, len(body.Events))
	}
	sources := map[string]bool{}
	for _, e := range body.Events {
		sources[e.Source] = true
	}
	for _, s := range []string{"dns", "discovery", "registry"} {
		if !sources[s] {
			t.Errorf("no %s event in the trace", s)
		}
	}
	resp = get(t, srv, "/v1/trace?ref="+url.QueryEscape("example.test/org/app:v9"), &body)
	if resp.StatusCode != 404 || body.Code != "NOT_FOUND" || len(body.Events) == 0 {
		t.Errorf("failed trace: status %d code %s, %d events", resp.StatusCode, body.Code, len(body.Events))
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	if resp := get(t, srv, "/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v1.0.0"), nil)
	get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v1.0.0"), nil)
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`ocidns_cache_hits_total{cache="resolutions"} 1`,
		`ocidns_cache_misses_total{cache="resolutions"} 1`,
		`ocidns_cache_entries{cache="discovery"}`,
		`ocidns_request_duration_seconds_count{path="/v1/resolve",outcome="ok"} 2`,
		`ocidns_upstream_requests_total{source="dns",outcome="NOERROR"}`,
		`ocidns_upstream_requests_total{source="registry",outcome="200"} 1`,
		"# TYPE ocidns_request_duration_seconds histogram",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}

// Excess requests get 503 at once instead of queueing.
func TestOverloadIsShedWith503(t *testing.T) {
	srv, _ := startDaemon(t, Config{MaxInFlight: 1})
	h := srv.Config.Handler.(*Handler)
	h.sem <- struct{}{} // one request in flight
	defer func() { <-h.sem }()
	var body errorBody
	resp := get(t, srv, "/v1/resolve?ref=x", &body)
	if resp.StatusCode != 503 || body.Code != "OVERLOADED" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d %+v", resp.StatusCode, body)
	}
}

// Each request is bounded: a resolution past RequestTimeout is a 504.
func TestRequestTimeoutIs504(t *testing.T) {
	srv, _ := startDaemon(t, Config{RequestTimeout: time.Nanosecond})
	var body errorBody
	resp := get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/timeout/app:1"), &body)
	if resp.StatusCode != 504 || body.Code != "TIMEOUT" {
		t.Fatalf("status %d %+v", resp.StatusCode, body)
	}
}

// One log line per request, at info, with the outcome.
func TestOneLogLinePerRequest(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.WriteString(string(p))
	}), nil))
	srv, _ := startDaemon(t, Config{Logger: logger})
	get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v1.0.0"), nil)
	get(t, srv, "/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v9"), nil)
	mu.Lock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	mu.Unlock()
	if len(lines) != 2 || !strings.Contains(lines[0], `"status":200`) || !strings.Contains(lines[1], `"outcome":"NOT_FOUND"`) {
		t.Fatalf("log lines: %q", lines)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// The front door gets every /v2 request as sent: the daemon's own router
// would answer "/v2/a/../b" with a redirect to the cleaned path.
func TestFrontDoorGetsV2PathsUncleaned(t *testing.T) {
	var got []string
	door := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = append(got, r.URL.Path) })
	srv, _ := startDaemon(t, Config{FrontDoor: door})
	for _, p := range []string{"/v2", "/v2/", "/v2/example.test/a/../b/manifests/v1"} {
		t.Run(p, func(t *testing.T) {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", p, resp.StatusCode)
			}
		})
	}
	if len(got) != 3 || got[2] != "/v2/example.test/a/../b/manifests/v1" {
		t.Errorf("the front door got %q", got)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
}
