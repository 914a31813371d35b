package discovery

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// A host with no HTTPS server (connection refused) or no address at all
// publishes no document: absent, so discovery falls through to the host's
// own registry — never to another host.
func TestWellKnownWithoutServerIsAbsent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	srv := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{{Origin: "noaddr.test.", Text: "$ORIGIN noaddr.test.\n@ 300 SOA ns hm 1 3600 600 86400 60\n@ 300 NS ns\n"}}})
	dc := dnstest.ClientT(t, 0, srv.Addr())
	client := &http.Client{Transport: &http.Transport{DialContext: dc.DialContext}}

	for _, host := range []string{closed, "www.noaddr.test"} {
		doc, err := FetchWellKnown(context.Background(), client, host, ParseOptions{})
		if err != nil || doc != nil {
			t.Errorf("FetchWellKnown(%s) = %v, %v; want absent (nil, nil)", host, doc, err)
		}
	}
}
