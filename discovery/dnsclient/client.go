// Package dnsclient is the stub resolver of ocidns: it asks the configured
// recursive servers (or resolv.conf's) over UDP with EDNS0 and the DO bit,
// falls back to TCP on truncation, ignores responses that do not answer the
// question it sent, fails over between servers, asks again without the DO
// bit a server that fails the question with it, follows CNAMEs, and serves
// address lookups and dialing (LookupIP, DialContext) so that one DNS view
// serves every connection ocidns makes. Every exchange is a trace event.
// It depends only on miekg/dns and package trace.
package dnsclient

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults and limits of the DNS client.
const (
	// DefaultTimeout bounds one exchange with one server.
	DefaultTimeout = 2 * time.Second
	// DefaultAttempts is how many times the server list is tried.
	DefaultAttempts = 2
	// ednsSize is the EDNS0 buffer size of DNS Flag Day 2020: large
	// enough for most signed answers, small enough to avoid IP fragmentation.
	ednsSize = 1232
	// maxCNAMEs bounds a CNAME chain (docs/protocol.md §7, §11: at most 8).
	maxCNAMEs = 8
	// maxDiscardEvents bounds the trace events for ignored responses so
	// a flood of forgeries cannot flood the trace as well.
	maxDiscardEvents = 3
)

// Config configures a Client. The zero value uses the system's
// resolv.conf with the defaults above.
type Config struct {
	// Servers are the DNS servers to ask, in order, as IP or IP:port
	// ("192.0.2.1", "127.0.0.1:5353", "[::1]:5353", "::1"). Port 53 when
	// omitted. Empty: the nameservers of ResolvConf.
	Servers []string
	// ResolvConf is read when Servers is empty; DefaultResolvConf when "".
	// A missing default file means a resolver on this machine
	// (127.0.0.1:53 and [::1]:53) as with the C library; a missing file
	// named here is an error.
	ResolvConf string
	// Timeout bounds one exchange with one server (UDP and, after
	// truncation, TCP each get this much). Default: resolv.conf's
	// timeout, else DefaultTimeout.
	Timeout time.Duration
	// Attempts is how many rounds over the servers are made. Default:
	// resolv.conf's attempts, else DefaultAttempts.
	Attempts int
	// NoDNSSEC asks without the DNSSEC OK bit (RFC 3225), so servers send
	// no RRSIG or NSEC records: for --dnssec off, where nothing validates
	// answers. Answers then carry no Sigs, CNAMESigs, AuthoritySigs or Denial.
	NoDNSSEC bool
}

// Client is a stub resolver: it asks recursive (or, in tests,
// authoritative) servers over UDP with EDNS0 and the DO bit (unless
// Config.NoDNSSEC), falls back to
// TCP on truncation, checks that every response answers the question it
// sent, and follows CNAMEs. It is safe for concurrent use; it keeps no cache
// (the cache package does).
type Client struct {
	servers  []string
	timeout  time.Duration
	attempts int
	trustAD  bool
	noDNSSEC bool
}

// New returns a client for cfg. Errors name the server entry or
// the file at fault.
func New(cfg Config) (*Client, error) {
	c := &Client{noDNSSEC: cfg.NoDNSSEC}
	rc := &resolvConf{}
	if len(cfg.Servers) > 0 {
		for _, s := range cfg.Servers {
			hp, err := parseServer(s)
			if err != nil {
				return nil, err
			}
			c.servers = append(c.servers, hp)
		}
	} else {
		path, explicit := cfg.ResolvConf, cfg.ResolvConf != ""
		if !explicit {
			path = DefaultResolvConf
		}
		var err error
		if rc, err = readResolvConf(path, explicit); err != nil {
			return nil, err
		}
		c.servers = rc.servers
		if len(c.servers) == 0 {
			c.servers = defaultServers()
		}
	}
	c.timeout = firstPositive(cfg.Timeout, rc.timeout, DefaultTimeout)
	c.attempts = firstPositive(cfg.Attempts, rc.attempts, DefaultAttempts)
	// The AD bit is only as good as the path to the resolver that set it:
	// trust it when the administrator said so and nobody sits in between.
	c.trustAD = rc.trustAD
	for _, s := range c.servers {
		if ap, err := netip.ParseAddrPort(s); err != nil || !ap.Addr().IsLoopback() {
			c.trustAD = false
		}
	}
	return c, nil
}

func firstPositive[T ~int | ~int64](v ...T) T {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

// parseServer turns a --dns value into host:port.
func parseServer(s string) (string, error) {
	in := strings.TrimSpace(s)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("DNS server %q: %s", s, why)
	}
	if in == "" {
		return bad("empty")
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(in, "["), "]")); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(in)
	if err != nil {
		return bad("want IP or IP:port, IPv6 with a port as [addr]:port")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		// A server given by name would need DNS to find DNS.
		return bad("the host must be an IP address")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return bad("port must be a number from 1 to 65535")
	}
	return net.JoinHostPort(a.String(), port), nil
}

// WithoutDNSSEC returns a client asking the same servers the same way but
// without the DNSSEC OK bit (Config.NoDNSSEC): a validator uses it to tell
// a resolver that fails queries with the bit set from one that is down.
func (c *Client) WithoutDNSSEC() *Client {
	d := *c
	d.noDNSSEC = true
	return &d
}

// Servers returns the servers asked, in order, as host:port.
func (c *Client) Servers() []string { return append([]string(nil), c.servers...) }

// TrustAD reports whether the AD bit of answers may be taken as DNSSEC
// validation: resolv.conf says "options trust-ad" and every server is on
// loopback (so no network path can forge the bit). Explicit Servers never
// read resolv.conf, so for them only the --trust-ad flag can say so.
func (c *Client) TrustAD() bool { return c.trustAD }
