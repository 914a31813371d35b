package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
)

// This file decides which addresses the Resolver may connect to. A daemon
// resolving names for callers it does not trust (`ocidns serve`) must not
// become their port scanner, nor their way to the cloud metadata service or
// an admin port on its own host: the names, registries, token realms and
// redirects it follows are chosen by whoever publishes the records.
//
// The check is made when connecting, on the very addresses dialled — the
// name is resolved once, refused addresses are dropped, and only the
// others are connected to — so a name whose answer changes between two
// lookups (DNS rebinding), or that lists a public and a local address
// together, cannot pass it.

// AddressPolicy restricts the addresses of every HTTP connection the
// Resolver makes: registries, well-known hosts, token realms and redirect
// targets. Without one (the default) any address may be connected to.
//
// Always refused: loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16,
// fe80::/10), unspecified (0.0.0.0/8, ::) and multicast (224.0.0.0/4,
// ff00::/8) addresses. IPv4-mapped IPv6 and NAT64 (64:ff9b::/96) addresses
// are judged by the IPv4 address they carry.
type AddressPolicy struct {
	// DenyPrivate refuses private addresses too: RFC 1918 (10.0.0.0/8,
	// 172.16.0.0/12, 192.168.0.0/16), RFC 6598 shared space (100.64.0.0/10)
	// and unique local IPv6 (fc00::/7).
	DenyPrivate bool
	// Allow lists HOST or HOST:PORT (IPv6 as [addr]:port) that may be
	// connected to whatever their addresses — a registry the operator runs
	// on loopback, say. HOST is matched against the name in the URL, not
	// the address it resolves to; without a port every port is allowed.
	Allow []string
}

// WithAddressPolicy refuses connections to local (and, with DenyPrivate,
// private) addresses, as `ocidns serve` does; see AddressPolicy. It needs
// the Resolver's own transport, so New fails when WithHTTPClient is given
// too.
func WithAddressPolicy(p AddressPolicy) Option {
	return func(o *options) error {
		ap, err := p.compile()
		if err != nil {
			return err
		}
		o.addrPolicy = ap
		return nil
	}
}

// AddressRefusedError is the error of a connection the AddressPolicy
// refused. It is wrapped in the error of the request that needed it.
type AddressRefusedError struct {
	// Target is the host:port the connection was for, as in the URL.
	Target string
	// Addr is the address Target resolved to.
	Addr netip.AddrPort
	// Class is why Addr was refused: "loopback", "link-local",
	// "unspecified", "multicast" or "private".
	Class string
}

func (e *AddressRefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s (%s) for %s: allow it with --allow-local-registry %s",
		e.Addr, e.Class, e.Target, e.Target)
}

// addressPolicy is an AddressPolicy checked and indexed.
type addressPolicy struct {
	denyPrivate bool
	hosts       map[string]bool // any port
	hostPorts   map[string]bool // host:port, as net.JoinHostPort writes it
}

func (p AddressPolicy) compile() (*addressPolicy, error) {
	ap := &addressPolicy{denyPrivate: p.DenyPrivate, hosts: map[string]bool{}, hostPorts: map[string]bool{}}
	for _, entry := range p.Allow {
		host, port, err := net.SplitHostPort(entry)
		if err != nil {
			host, port = strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]"), ""
		}
		host = normalizeDialHost(host)
		if host == "" || strings.ContainsAny(host, "/ ") {
			return nil, fmt.Errorf("--allow-local-registry %q: want HOST or HOST:PORT", entry)
		}
		if port == "" {
			ap.hosts[host] = true
			continue
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("--allow-local-registry %q: port must be 1 to 65535", entry)
		}
		ap.hostPorts[net.JoinHostPort(host, port)] = true
	}
	return ap, nil
}

func normalizeDialHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func (p *addressPolicy) allows(host, port string) bool {
	host = normalizeDialHost(host)
	return p.hosts[host] || p.hostPorts[net.JoinHostPort(host, port)]
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses reach the
// IPv4 address in their last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// sharedSpace is RFC 6598's carrier-grade NAT range, private in practice
// (some clouds put their metadata service there).
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// refuses returns why ip may not be connected to, or "".
func (p *addressPolicy) refuses(ip netip.Addr) string {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsUnspecified() || (ip.Is4() && ip.As4()[0] == 0):
		return "unspecified"
	case ip.IsMulticast():
		return "multicast"
	case p.denyPrivate && (ip.IsPrivate() || sharedSpace.Contains(ip)):
		return "private"
	}
	return ""
}

// lookupFunc resolves a host name (or IP literal) to addresses.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// dialFunc is http.Transport.DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialContext returns a DialContext that lets allowed hosts through to
// next as they are, and for any other host resolves it with lookup, drops
// the addresses p refuses and connects to the others, in order, with next
// (dnsclient.Dialer). next is given IP literals only, so it resolves
// nothing itself.
func (p *addressPolicy) dialContext(lookup lookupFunc, next dialFunc) dialFunc {
	d := dnsclient.Dialer{Lookup: lookup, Keep: p.keep, Dial: next}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		if p.allows(host, port) {
			return next(ctx, network, addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// keep returns the addresses of addr that p does not refuse; when it
// refuses them all, the error says why for the first.
func (p *addressPolicy) keep(ctx context.Context, addr string, addrs []netip.AddrPort) ([]netip.AddrPort, error) {
	var usable []netip.AddrPort
	var refused []*AddressRefusedError
	for _, ap := range addrs {
		if class := p.refuses(ap.Addr()); class != "" {
			refused = append(refused, &AddressRefusedError{Target: addr, Addr: ap, Class: class})
			continue
		}
		usable = append(usable, ap)
	}
	switch {
	case len(refused) == 0:
	case len(usable) == 0:
		return nil, refused[0]
	default:
		trace.FromContext(ctx).Add(trace.Event{Source: "discovery", Query: "connect " + addr,
			Decision: fmt.Sprintf("%d of its addresses refused, e.g. %s (%s); trying the others", len(refused), refused[0].Addr, refused[0].Class)})
	}
	return usable, nil
}

// systemLookup resolves with the system resolver, as net.Dialer would.
func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// errPolicyNeedsTransport is New's error for WithAddressPolicy together
// with WithHTTPClient.
var errPolicyNeedsTransport = errors.New("WithAddressPolicy applies to the Resolver's own transport: it cannot be combined with WithHTTPClient")
