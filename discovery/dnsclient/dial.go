package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Dial limits. Go's own dialer uses the same split: each address gets an
// equal share of what is left, but never less than dialMinPerAddr, so one
// black-holed address cannot eat the time of the ones after it.
const (
	dialDefaultTimeout = 30 * time.Second // when the context has no deadline, as http.DefaultTransport
	dialMinPerAddr     = 2 * time.Second
	dialKeepAlive      = 30 * time.Second
)

// LookupIP returns the IPv4 then the IPv6 addresses of host, asking A and
// AAAA concurrently through the client's servers, so that with --dns one
// DNS view serves registries, well-known hosts and token realms too. An IP
// literal (IPv6 with or without brackets) is returned as is; "localhost"
// and names under it are the loopback addresses (RFC 6761 §6.3) without a
// query. host is taken as fully qualified: no search list applies. A
// name with neither record is a *net.DNSError with IsNotFound; an
// unknown answer for both types is the *Error of the A query.
func (c *Client) LookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}, nil
	}
	type result struct {
		a   *Answer
		err error
	}
	var res [2]result
	done := make(chan struct{}, 2)
	for i, qt := range [2]uint16{dns.TypeA, dns.TypeAAAA} {
		go func() {
			res[i].a, res[i].err = c.Query(ctx, host, qt)
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	var addrs []netip.Addr
	server := ""
	for _, r := range res {
		if r.a == nil {
			continue
		}
		server = r.a.Server
		for _, rr := range r.a.Records {
			var ip net.IP
			switch rr := rr.(type) {
			case *dns.A:
				ip = rr.A
			case *dns.AAAA:
				ip = rr.AAAA
			}
			if a, ok := netip.AddrFromSlice(ip); ok {
				if rr.Header().Rrtype == dns.TypeA {
					a = a.Unmap()
				}
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) > 0 {
		return addrs, nil
	}
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, Server: server, IsNotFound: true}
}

// DialContext connects to addr ("host:port") on network ("tcp", "tcp4",
// "tcp6", "udp"...), resolving host with LookupIP and trying each address
// in order until one connects, within the context's deadline (30s when it
// has none). It fits http.Transport.DialContext. The error is the first
// address's, as with net.Dialer, noting how many more addresses failed.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{KeepAlive: dialKeepAlive}
	return Dialer{Lookup: c.LookupIP, Dial: d.DialContext}.DialContext(ctx, network, addr)
}

// Dialer connects to "host:port" by resolving host itself and trying its
// addresses one after another: the dialing of Client.DialContext, with the
// lookup, a filter of the addresses and the connection to one address as
// parameters.
type Dialer struct {
	// Lookup resolves a host name or IP literal to its addresses.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Keep, when set, returns the addresses of addr that may be dialled
	// (in order), or the error that says why none may.
	Keep func(ctx context.Context, addr string, addrs []netip.AddrPort) ([]netip.AddrPort, error)
	// Dial connects to one address, an IP literal and a port.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DialContext connects to addr ("host:port") on network ("tcp", "tcp4",
// "tcp6", "udp"...): it looks host up, keeps the addresses network can
// reach (and Keep allows), and dials them in order until one connects,
// within ctx's deadline (30 s when it has none). Each address gets an
// equal share of the time left, but at least 2 s. The error is the first
// address's, as with net.Dialer, noting how many more addresses failed.
func (d Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	port, err := net.DefaultResolver.LookupPort(ctx, network, portStr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dialDefaultTimeout)
		defer cancel()
	}
	ips, err := d.Lookup(ctx, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	addrs := reachable(network, ips, uint16(port))
	if len(addrs) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network,
			Err: &net.AddrError{Err: "no suitable address found", Addr: host}}
	}
	if d.Keep != nil {
		if addrs, err = d.Keep(ctx, addr, addrs); err != nil {
			return nil, err
		}
	}
	return d.dialEach(ctx, network, host, addrs)
}

// reachable returns, with port, the addresses among ips that network can
// reach: IPv4 only for "tcp4" and "udp4", IPv6 only for "tcp6" and "udp6".
func reachable(network string, ips []netip.Addr, port uint16) []netip.AddrPort {
	var addrs []netip.AddrPort
	for _, ip := range ips {
		switch {
		case strings.HasSuffix(network, "4") && !ip.Unmap().Is4(),
			strings.HasSuffix(network, "6") && ip.Is4():
			continue
		}
		addrs = append(addrs, netip.AddrPortFrom(ip, port))
	}
	return addrs
}

// dialEach dials addrs, host's, in order until one connects, each with
// its share of the time left (dialShare).
func (d Dialer) dialEach(ctx context.Context, network, host string, addrs []netip.AddrPort) (net.Conn, error) {
	var first error
	for i, ap := range addrs {
		actx, cancel := dialShare(ctx, len(addrs)-i)
		conn, err := d.Dial(actx, network, ap.String())
		cancel()
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if first == nil {
		first = errors.New("no address tried")
	}
	if len(addrs) > 1 {
		return nil, fmt.Errorf("%w (and %d more addresses of %s failed)", first, len(addrs)-1, host)
	}
	return nil, first
}

// dialShare gives one of n remaining addresses its share of the time left.
func dialShare(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	dl, _ := ctx.Deadline()
	left := time.Until(dl)
	share := max(left/time.Duration(n), dialMinPerAddr)
	if share >= left {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, share)
}
