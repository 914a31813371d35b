package dnsclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/internal/dnstest"
)

func TestLookupIPAsksAAndAAAAOfTheSameServers(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	for _, tc := range []struct {
		host string
		want []string
	}{
		{"registry.client.test", []string{"127.0.0.1"}},
		{"dual.client.test.", []string{"127.0.0.1", "::1"}},
		{"v6only.client.test", []string{"::1"}},
		{"fallback.client.test", []string{"127.0.0.2", "127.0.0.1"}},
	} {
		got, err := c.LookupIP(context.Background(), tc.host)
		if err != nil {
			t.Errorf("%s: %v", tc.host, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestLookupIPLiteralsAndLocalhostNeedNoQuery(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	for host, want := range map[string][]netip.Addr{
		"192.0.2.7":     {netip.MustParseAddr("192.0.2.7")},
		"::1":           {netip.MustParseAddr("::1")},
		"[2001:db8::1]": {netip.MustParseAddr("2001:db8::1")},
		"localhost":     {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"LocalHost.":    {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"reg.localhost": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	} {
		got, err := c.LookupIP(context.Background(), host)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, %v; want %v", host, got, err, want)
		}
	}
	if n := s.TotalQueries(); n != 0 {
		t.Errorf("%d queries for literals and localhost", n)
	}
}

func TestLookupIPOfAMissingNameIsNotFound(t *testing.T) {
	c := dnstest.ClientT(t, 0, dcStart(t, dnstest.Config{}).Addr())
	for _, host := range []string{"nothing.client.test", "multi.client.test"} { // NXDOMAIN, NODATA
		_, err := c.LookupIP(context.Background(), host)
		var ne *net.DNSError
		if !errors.As(err, &ne) || !ne.IsNotFound || ne.Name != host {
			t.Errorf("%s: err %v, want *net.DNSError IsNotFound", host, err)
		}
	}
}

func TestLookupIPUnknownAnswerIsADNSError(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	s.SetFault("registry.client.test", 0, dnstest.FaultServFail)
	c := dnstest.ClientT(t, 0, s.Addr())
	_, err := c.LookupIP(context.Background(), "registry.client.test")
	if !errors.Is(err, dnsclient.ErrUnknown) {
		t.Errorf("err %v, want ErrUnknown", err)
	}
}

// One DNS view: an HTTP client that dials through the DNS client reaches a
// host that only the test DNS server knows.
func TestDialContextConnectsThroughTheClientsDNS(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+r.Host)
	}))
	defer hs.Close()
	_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	hc := &http.Client{Transport: &http.Transport{DialContext: c.DialContext}}
	defer hc.CloseIdleConnections()
	// registry: one address; dual: 127.0.0.1 first; fallback: 127.0.0.2
	// refuses, 127.0.0.1 answers.
	for _, host := range []string{"registry.client.test", "dual.client.test", "fallback.client.test"} {
		url := "http://" + net.JoinHostPort(host, port) + "/"
		resp, err := hc.Get(url)
		if err != nil {
			t.Errorf("GET %s: %v", url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), host) {
			t.Errorf("GET %s: %q", url, body)
		}
	}
	if n := s.QueryCount("fallback.client.test", 1); n != 1 {
		t.Errorf("A fallback.client.test asked %d times, want 1", n)
	}
}

func TestDialContextErrors(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	ctx := context.Background()
	for _, tc := range []struct{ network, addr, want string }{
		{"tcp4", "v6only.client.test:80", "no suitable address"},
		{"tcp6", "registry.client.test:80", "no suitable address"},
		{"tcp", "nothing.client.test:80", "no such host"},
		{"tcp", "registry.client.test", "missing port"},
		{"unix", "/tmp/sock", "unknown network"},
	} {
		conn, err := c.DialContext(ctx, tc.network, tc.addr)
		if err == nil {
			conn.Close()
			t.Errorf("%s %s: connected", tc.network, tc.addr)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.network, tc.addr, err, tc.want)
		}
	}
}
