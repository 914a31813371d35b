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
	ips, err := c.LookupIP(ctx, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var usable []netip.Addr
	for _, ip := range ips {
		switch {
		case strings.HasSuffix(network, "4") && !ip.Unmap().Is4(),
			strings.HasSuffix(network, "6") && ip.Is4():
			continue
		}
		usable = append(usable, ip)
	}
	if len(usable) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network,
			Err: &net.AddrError{Err: "no suitable address found", Addr: host}}
	}
	d := net.Dialer{KeepAlive: dialKeepAlive}
	var first error
	for i, ip := range usable {
		actx, cancel := dialShare(ctx, len(usable)-i)
		conn, err := d.DialContext(actx, network, netip.AddrPortFrom(ip, uint16(port)).String())
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
	if len(usable) > 1 {
		return nil, fmt.Errorf("%w (and %d more addresses of %s failed)", first, len(usable)-1, host)
	}
	return nil, first
}

// dialShare gives one of n remaining addresses its share of the time left.
func dialShare(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	dl, _ := ctx.Deadline()
	left := time.Until(dl)
	share := left / time.Duration(n)
	if share < dialMinPerAddr {
		share = dialMinPerAddr
	}
	if share >= left {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, share)
}
