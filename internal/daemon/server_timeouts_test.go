package daemon

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/resolver"
)

// The server's write timeout is derived from the request timeout: a request
// that runs into its timeout (the DNS server never answers) gets its 504
// and the JSON body, never an empty reply while the log says 504.
func TestAnswerAtTheRequestTimeoutReachesTheClient(t *testing.T) {
	silent := dnstest.StartSilent(t)
	cfg := t.TempDir() + "/config.json"
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := resolver.New(resolver.WithDNSServers(silent), resolver.WithDockerConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, timeout := range []time.Duration{300 * time.Millisecond, time.Second} {
		t.Run(timeout.String(), func(t *testing.T) {
			h := New(Config{Resolver: r, RequestTimeout: timeout, Logger: slog.New(slog.DiscardHandler)})
			srv := NewServer(h)
			if srv.WriteTimeout <= timeout || srv.ReadHeaderTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
				t.Fatalf("server timeouts %+v for a request timeout of %v", srv, timeout)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			resp, err := http.Get("http://" + ln.Addr().String() + "/v1/resolve?ref=" + url.QueryEscape("hangs.example/app:v1"))
			if err != nil {
				t.Fatalf("no answer at the request timeout: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e errorBody
			if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusGatewayTimeout || e.Code != "TIMEOUT" {
				t.Errorf("%d %q; want 504 with a TIMEOUT body", resp.StatusCode, body)
			}
		})
	}
}
