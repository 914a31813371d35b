package dnstest

import (
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

// ClientT returns the stub client of package dnsclient for a test: it asks
// servers (host:port, typically Server.Addr) in order, one attempt each,
// each exchange bounded by timeout — 5s when 0, generous enough for a
// loaded CI machine; tests that expect a timeout pass a short one. One
// attempt keeps the server's query counts exact.
func ClientT(t testing.TB, timeout time.Duration, servers ...string) *dnsclient.Client {
	t.Helper()
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	c, err := dnsclient.New(dnsclient.Config{Servers: servers, Timeout: timeout, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
