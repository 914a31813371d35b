package daemon

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ocidns/ocidns/internal/testkit"
	"github.com/ocidns/ocidns/internal/tracepage"
)

// notTLS listens on loopback and answers every connection with a line of
// text: a service that is not HTTPS (SSH, SMTP, a database).
func notTLS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	})
	return ln.Addr().String()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A caller of /v1/resolve must not learn what the daemon's network looks
// like from error text: "connection refused" against "first record does not
// look like a TLS handshake" tells a closed port from a listening service.
// Callers get the reference and the class of failure; the log line of the
// request and /v1/trace keep the detail for the operator.
func TestUpstreamErrorsAreGenericForCallers(t *testing.T) {
	var logs testkit.SyncBuffer
	srv, _ := startDaemon(t, Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	for _, tt := range []struct {
		name, addr, detail string
	}{
		{"closed port", closedPort(t), "connection refused"},
		{"not TLS", notTLS(t), "tls"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ref := tt.addr + "/probe:v1"
			var body errorBody
			resp := get(t, srv, "/v1/resolve?ref="+url.QueryEscape(ref), &body)
			if resp.StatusCode != 502 {
				t.Fatalf("status %d %+v; want 502", resp.StatusCode, body)
			}
			rest, ok := strings.CutPrefix(body.Error, ref+": ")
			if !ok || strings.Contains(rest, "127.0.0.1") || strings.Contains(strings.ToLower(rest), "refused") ||
				strings.Contains(strings.ToLower(rest), "tls") || strings.Contains(rest, "HTTP") {
				t.Errorf("error text %q: want the reference and the class of failure only", body.Error)
			}
			if want := []string{"upstream error (", "discovery failed ("}; !strings.HasPrefix(rest, want[0]) && !strings.HasPrefix(rest, want[1]) {
				t.Errorf("error text %q: want one of the generic texts %q", body.Error, want)
			}

			var trace tracepage.Body
			get(t, srv, "/v1/trace?ref="+url.QueryEscape(ref), &trace)
			events, _ := json.Marshal(trace.Events)
			if !strings.Contains(strings.ToLower(trace.Error+string(events)), tt.detail) {
				t.Errorf("/v1/trace lacks the detail %q: %s %s", tt.detail, trace.Error, events)
			}
			if !strings.Contains(strings.ToLower(logs.String()), tt.detail) {
				t.Errorf("the log lacks the detail %q:\n%s", tt.detail, logs.String())
			}
		})
	}
}
