package dnsclient_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

func dcResolvConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServersComeFromResolvConf(t *testing.T) {
	for _, tc := range []struct {
		desc, text string
		servers    []string
		trustAD    bool
	}{
		{"IPv4, IPv6 and a zone; comments; at most three as glibc",
			"# generated\nsearch example.com\nnameserver 192.0.2.1\n; comment\nnameserver 2001:db8::1\nnameserver fe80::1%eth0\nnameserver 192.0.2.4\n",
			[]string{"192.0.2.1:53", "[2001:db8::1]:53", "[fe80::1%eth0]:53"}, false},
		{"unparsable entries are skipped as the C library does",
			"nameserver\nnameserver dns.example\nnameserver 127.0.0.53 # systemd-resolved\n",
			[]string{"127.0.0.53:53"}, false},
		{"no nameserver: a resolver on this machine",
			"options ndots:2\n",
			[]string{"127.0.0.1:53", "[::1]:53"}, false},
		{"trust-ad with loopback servers only",
			"nameserver 127.0.0.1\nnameserver ::1\noptions edns0 trust-ad\n",
			[]string{"127.0.0.1:53", "[::1]:53"}, true},
		{"trust-ad is not enough when a server is remote",
			"nameserver 127.0.0.1\nnameserver 192.0.2.1\noptions trust-ad\n",
			[]string{"127.0.0.1:53", "192.0.2.1:53"}, false},
		{"loopback alone is not trust-ad",
			"nameserver 127.0.0.1\n",
			[]string{"127.0.0.1:53"}, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			c, err := dnsclient.New(dnsclient.Config{ResolvConf: dcResolvConf(t, tc.text)})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Servers(); !reflect.DeepEqual(got, tc.servers) {
				t.Errorf("Servers() = %q, want %q", got, tc.servers)
			}
			if c.TrustAD() != tc.trustAD {
				t.Errorf("TrustAD() = %v, want %v", c.TrustAD(), tc.trustAD)
			}
		})
	}
}

func TestMissingResolvConfNamedExplicitlyIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.conf")
	_, err := dnsclient.New(dnsclient.Config{ResolvConf: p})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("err %v, want one naming %s", err, p)
	}
}

func TestExplicitServersReplaceResolvConf(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "127.0.0.1:5353", want: "127.0.0.1:5353"},
		{in: "192.0.2.1", want: "192.0.2.1:53"},
		{in: "[::1]:5353", want: "[::1]:5353"},
		{in: "::1", want: "[::1]:53"},
		{in: "[2001:db8::1]", want: "[2001:db8::1]:53"},
		{in: " 127.0.0.1:53 ", want: "127.0.0.1:53"},
		{in: "", err: "empty"},
		{in: "dns.example:53", err: "must be an IP address"},
		{in: "127.0.0.1:0", err: "port must be"},
		{in: "127.0.0.1:65536", err: "port must be"},
		{in: "127.0.0.1:dns", err: "port must be"},
		{in: "::1:53", want: "[::1:53]:53"}, // an IPv6 address, as net.ParseIP reads it
		{in: "1.2.3.4:5:6", err: "want IP or IP:port"},
	} {
		c, err := dnsclient.New(dnsclient.Config{Servers: []string{tc.in},
			ResolvConf: dcResolvConf(t, "nameserver 127.0.0.1\noptions trust-ad\n")})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("%q: err %v, want one quoting the entry and saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := c.Servers(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("%q: Servers() = %q, want %q", tc.in, got, tc.want)
		}
		if c.TrustAD() {
			t.Errorf("%q: TrustAD from a resolv.conf that explicit servers replace", tc.in)
		}
	}
}
