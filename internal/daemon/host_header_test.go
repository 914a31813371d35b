package daemon

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// DNS rebinding: a web page at http://evil.example:PORT whose name the
// attacker re-points at 127.0.0.1 makes the browser send the daemon
// requests with Host: evil.example:PORT, and lets the page read the
// answers. The daemon answers only Host headers that name it: IP literals
// (a page cannot be served from an address it does not own), localhost,
// the listen host and the operator's --allowed-host names; anything else
// is 421 on every path.
func TestRequestsForAnotherHostAreRefused(t *testing.T) {
	srv, _ := startDaemon(t, Config{
		ListenAddr:   "daemon.lan:5080",
		AllowedHosts: []string{"resolver.internal", "proxy.internal:8443"},
	})
	port := srv.Listener.Addr().String()[strings.LastIndexByte(srv.Listener.Addr().String(), ':')+1:]
	for _, tt := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200},
		{"[::1]:" + port, 200},
		{"localhost:" + port, 200},
		{"LocalHost.:" + port, 200},
		{"localhost", 200},
		{"10.1.2.3:" + port, 200}, // a health probe addressing the pod
		{"daemon.lan:5080", 200},
		{"resolver.internal", 200},
		{"resolver.internal:9999", 200},
		{"proxy.internal:8443", 200},
		{"proxy.internal:" + port, 421},
		{"evil.example:" + port, 421},
		{"evil.example", 421},
		{"resolver.internal.evil.example:" + port, 421},
		{"localhost.evil.example:" + port, 421},
		{"127.0.0.1.nip.io:" + port, 421},
	} {
		t.Run(tt.host, func(t *testing.T) {
			for _, path := range []string{"/healthz", "/metrics", "/v1/resolve?ref=example.test/org/app:v1.0.0", "/v1/trace?ref=x", "/", "/assets/trace.js"} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Host = tt.host
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case tt.want == 421 && (resp.StatusCode != 421 || !strings.Contains(string(body), `"code":"HOST_NOT_ALLOWED"`)):
					t.Errorf("GET %s with Host %q: %d %s; want 421 HOST_NOT_ALLOWED", path, tt.host, resp.StatusCode, body)
				case tt.want == 200 && resp.StatusCode == 421:
					t.Errorf("GET %s with Host %q refused: %s", path, tt.host, body)
				}
			}
		})
	}
	var metrics strings.Builder
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(&metrics, resp.Body)
	resp.Body.Close()
	if !strings.Contains(metrics.String(), `ocidns_requests_rejected_total{reason="host"} 36`) {
		t.Errorf("metrics do not count the 36 refused requests:\n%s", metrics.String())
	}
}
