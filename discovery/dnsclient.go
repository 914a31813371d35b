package discovery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/trace"
)

// ErrDNSUnknown is wrapped by every *DNSError: the answer to a DNS question
// is unknown (every server failed, timed out or answered something that is
// not an answer). Unlike NXDOMAIN/NODATA, which say "absent", an unknown
// answer must never let discovery fall through to a lower-precedence source.
var ErrDNSUnknown = errors.New("DNS answer unknown")

// Defaults and limits of the DNS client.
const (
	// DefaultDNSTimeout bounds one exchange with one server.
	DefaultDNSTimeout = 2 * time.Second
	// DefaultDNSAttempts is how many times the server list is tried.
	DefaultDNSAttempts = 2
	// dnsEDNSSize is the EDNS0 buffer size of DNS Flag Day 2020: large
	// enough for most signed answers, small enough to avoid IP fragmentation.
	dnsEDNSSize = 1232
	// dnsMaxCNAMEs bounds a CNAME chain (issue 3: at most 8).
	dnsMaxCNAMEs = 8
	// dnsMaxDiscardEvents bounds the trace events for ignored responses so
	// a flood of forgeries cannot flood the trace as well.
	dnsMaxDiscardEvents = 3
)

// DNSConfig configures a DNSClient. The zero value uses the system's
// resolv.conf with the defaults above.
type DNSConfig struct {
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
	// timeout, else DefaultDNSTimeout.
	Timeout time.Duration
	// Attempts is how many rounds over the servers are made. Default:
	// resolv.conf's attempts, else DefaultDNSAttempts.
	Attempts int
}

// DNSClient is a stub resolver: it asks recursive (or, in tests,
// authoritative) servers over UDP with EDNS0 and the DO bit, falls back to
// TCP on truncation, checks that every response answers the question it
// sent, and follows CNAMEs. It is safe for concurrent use; it keeps no cache
// (the cache package does).
type DNSClient struct {
	servers  []string
	timeout  time.Duration
	attempts int
	trustAD  bool
}

// NewDNSClient returns a client for cfg. Errors name the server entry or
// the file at fault.
func NewDNSClient(cfg DNSConfig) (*DNSClient, error) {
	c := &DNSClient{}
	rc := &resolvConf{}
	if len(cfg.Servers) > 0 {
		for _, s := range cfg.Servers {
			hp, err := parseDNSServer(s)
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
			c.servers = defaultDNSServers()
		}
	}
	c.timeout = firstPositive(cfg.Timeout, rc.timeout, DefaultDNSTimeout)
	c.attempts = firstPositive(cfg.Attempts, rc.attempts, DefaultDNSAttempts)
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

// parseDNSServer turns a --dns value into host:port.
func parseDNSServer(s string) (string, error) {
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

// Servers returns the servers asked, in order, as host:port.
func (c *DNSClient) Servers() []string { return append([]string(nil), c.servers...) }

// TrustAD reports whether the AD bit of answers may be taken as DNSSEC
// validation: resolv.conf says "options trust-ad" and every server is on
// loopback (so no network path can forge the bit). Explicit Servers never
// read resolv.conf, so for them only the --trust-ad flag can say so.
func (c *DNSClient) TrustAD() bool { return c.trustAD }

// Answer is the outcome of one question, after following CNAMEs.
type Answer struct {
	// Name and Qtype are the question as asked (Name fully qualified).
	Name  string
	Qtype uint16
	// Rcode of the last response: dns.RcodeSuccess or dns.RcodeNameError.
	Rcode int
	// Records are the RRs of Qtype owned by Final.
	Records []dns.RR
	// Sigs are the RRSIGs over Records (empty unless the zone is signed and
	// the server returned them).
	Sigs []*dns.RRSIG
	// CNAMEs is the chain followed from Name to Final, in order; CNAMESigs
	// the RRSIGs over its links.
	CNAMEs    []dns.RR
	CNAMESigs []*dns.RRSIG
	// Final is the owner name of Records: Name unless CNAMEs were followed.
	Final string
	// TTL is the minimum TTL over Records and the CNAMEs leading to them;
	// 0 when there are no Records.
	TTL time.Duration
	// NegativeTTL is how long an absent answer may be cached (RFC 2308 §5:
	// min of the SOA's TTL and MINIMUM, and of the CNAMEs followed); 0 when
	// the answer is not absent or carried no SOA.
	NegativeTTL time.Duration
	// SOA is the SOA of the authority section of the last response, if
	// any; AuthoritySigs are every RRSIG of that section (over the SOA and
	// over NSEC/NSEC3 records).
	SOA           *dns.SOA
	AuthoritySigs []*dns.RRSIG
	// AD is set when every response in the chain had the AD bit.
	AD bool
	// Server answered the last response; Duration is the whole query,
	// CNAME re-queries included.
	Server   string
	Duration time.Duration
	// Msg is the last raw response.
	Msg *dns.Msg
}

// Absent reports an authoritative "no": NXDOMAIN, or NOERROR without
// records of the type asked (NODATA).
func (a *Answer) Absent() bool {
	return a.Rcode == dns.RcodeNameError || (a.Rcode == dns.RcodeSuccess && len(a.Records) == 0)
}

// DNSError says a DNS answer is unknown. It wraps ErrDNSUnknown and the
// cause (a timeout, a network error, context.DeadlineExceeded, ...).
type DNSError struct {
	Name   string
	Qtype  uint16
	Server string // the last server asked; "" when none was
	Rcode  int    // the last server's rcode; -1 when it gave none
	Err    error
}

// Error reads "DNS TXT name. @server: cause".
func (e *DNSError) Error() string {
	var b strings.Builder
	b.WriteString("DNS ")
	b.WriteString(dns.Type(e.Qtype).String())
	b.WriteByte(' ')
	b.WriteString(e.Name)
	if e.Server != "" {
		b.WriteString(" @")
		b.WriteString(e.Server)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(ErrDNSUnknown.Error())
	}
	return b.String()
}

// Unwrap returns ErrDNSUnknown and the cause, for errors.Is and errors.As.
func (e *DNSError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDNSUnknown}
	}
	return []error{ErrDNSUnknown, e.Err}
}

// Query asks name/qtype (class IN) and follows CNAMEs (at most 8, loops
// detected), re-asking for the target when a server did not include the
// rest of the chain. NOERROR and NXDOMAIN give an Answer; anything else
// (SERVFAIL, REFUSED, timeouts on every server and attempt, a CNAME loop,
// the context's end) gives a *DNSError wrapping ErrDNSUnknown. Each
// exchange adds an Event to trace.FromContext(ctx).
func (c *DNSClient) Query(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	qname := dns.Fqdn(name)
	if _, ok := dns.IsDomainName(qname); !ok {
		return nil, &DNSError{Name: qname, Qtype: qtype, Rcode: -1, Err: fmt.Errorf("%q is not a valid DNS name", name)}
	}
	start := time.Now()
	a := &Answer{Name: qname, Qtype: qtype, AD: true}
	seen := map[string]bool{dns.CanonicalName(qname): true}
	target := qname
	for {
		resp, server, err := c.ask(ctx, target, qtype)
		if err != nil {
			if target != qname {
				err.Err = fmt.Errorf("following CNAMEs to %s: %w", target, err.Err)
			}
			err.Name = qname
			return nil, err
		}
		a.Msg, a.Server, a.Rcode = resp, server, resp.Rcode
		a.AD = a.AD && resp.AuthenticatedData
		next, cerr := a.collect(resp, target, seen)
		if cerr != nil {
			return nil, &DNSError{Name: qname, Qtype: qtype, Server: server, Rcode: resp.Rcode, Err: cerr}
		}
		if next == "" {
			break
		}
		trace.FromContext(ctx).Add(trace.Event{Source: "dns", Query: dnsQueryString(target, qtype), Server: server,
			Decision: "CNAME chain stops at " + next + " without its data: asking for it"})
		target = next
	}
	a.Duration = time.Since(start)
	a.setTTLs()
	return a, nil
}

// collect takes from resp (the answer to target) the CNAME links and the
// records of a.Qtype. It returns the name to ask next when the chain left
// the response before reaching data or a negative answer.
func (a *Answer) collect(resp *dns.Msg, target string, seen map[string]bool) (next string, err error) {
	cur := target
	a.Records, a.Sigs = nil, nil
	for {
		for _, rr := range resp.Answer {
			h := rr.Header()
			if h.Rrtype == a.Qtype && h.Class == dns.ClassINET && dnsNameEqual(h.Name, cur) {
				a.Records = append(a.Records, rr)
			}
		}
		if len(a.Records) > 0 {
			a.Sigs = rrsigsOver(resp.Answer, cur, a.Qtype)
			break
		}
		if a.Qtype == dns.TypeCNAME {
			break
		}
		var cn *dns.CNAME
		for _, rr := range resp.Answer {
			if c, ok := rr.(*dns.CNAME); ok && c.Hdr.Class == dns.ClassINET && dnsNameEqual(c.Hdr.Name, cur) {
				cn = c
				break
			}
		}
		if cn == nil {
			break
		}
		if len(a.CNAMEs) >= dnsMaxCNAMEs {
			return "", fmt.Errorf("more than %d CNAMEs from %s", dnsMaxCNAMEs, a.Name)
		}
		a.CNAMEs = append(a.CNAMEs, cn)
		a.CNAMESigs = append(a.CNAMESigs, rrsigsOver(resp.Answer, cur, dns.TypeCNAME)...)
		t := dns.Fqdn(cn.Target)
		if seen[dns.CanonicalName(t)] {
			return "", fmt.Errorf("CNAME loop: %s", cnameChain(a.Name, a.CNAMEs))
		}
		seen[dns.CanonicalName(t)] = true
		cur = t
	}
	a.Final = cur
	a.SOA, a.AuthoritySigs = nil, nil
	for _, rr := range resp.Ns {
		switch rr := rr.(type) {
		case *dns.SOA:
			if a.SOA == nil {
				a.SOA = rr
			}
		case *dns.RRSIG:
			a.AuthoritySigs = append(a.AuthoritySigs, rr)
		}
	}
	if len(a.Records) > 0 || cur == target || resp.Rcode != dns.RcodeSuccess {
		return "", nil
	}
	// NOERROR, no data at the end of the chain: a recursive resolver says
	// NODATA with the SOA of the target's zone; an authoritative server for
	// only the first zone says nothing about the target, so ask for it.
	if a.SOA != nil && dns.IsSubDomain(a.SOA.Hdr.Name, cur) {
		return "", nil
	}
	return cur, nil
}

func (a *Answer) setTTLs() {
	chain := uint32(1<<31 - 1)
	for _, rr := range a.CNAMEs {
		chain = min(chain, rr.Header().Ttl)
	}
	if len(a.Records) > 0 {
		ttl := chain
		for _, rr := range a.Records {
			ttl = min(ttl, rr.Header().Ttl)
		}
		a.TTL = time.Duration(ttl) * time.Second
	}
	if a.Absent() && a.SOA != nil {
		a.NegativeTTL = time.Duration(min(chain, a.SOA.Hdr.Ttl, a.SOA.Minttl)) * time.Second
	}
}

func cnameChain(from string, cnames []dns.RR) string {
	var b strings.Builder
	b.WriteString(from)
	for _, rr := range cnames {
		b.WriteString(" → ")
		b.WriteString(rr.(*dns.CNAME).Target)
	}
	return b.String()
}

func rrsigsOver(rrs []dns.RR, owner string, covered uint16) []*dns.RRSIG {
	var sigs []*dns.RRSIG
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == covered && dnsNameEqual(s.Hdr.Name, owner) {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

// dnsNameEqual compares names as DNS does: ASCII case-insensitively, and
// nothing else (strings.EqualFold would also fold non-ASCII runes).
func dnsNameEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func dnsQueryString(name string, qtype uint16) string {
	return dns.Type(qtype).String() + " " + name
}

// ask sends one question to the servers in order, for c.attempts rounds,
// until one answers NOERROR or NXDOMAIN.
func (c *DNSClient) ask(ctx context.Context, qname string, qtype uint16) (*dns.Msg, string, *DNSError) {
	tr := trace.FromContext(ctx)
	q := dnsQueryString(qname, qtype)
	req := new(dns.Msg)
	req.SetQuestion(qname, qtype)
	req.RecursionDesired = true
	// RFC 6840 §5.7: AD in a query asks for the AD bit in the answer.
	req.AuthenticatedData = true
	req.SetEdns0(dnsEDNSSize, true)

	last := &DNSError{Name: qname, Qtype: qtype, Rcode: -1, Err: errors.New("no DNS server configured")}
	tries := 0
	for round := 0; round < c.attempts; round++ {
		for _, server := range c.servers {
			if err := ctx.Err(); err != nil {
				last.Err = dnsCtxErr(err, last)
				return nil, "", last
			}
			tries++
			resp, err := c.exchange(ctx, tr, q, server, req)
			if err != nil {
				last = &DNSError{Name: qname, Qtype: qtype, Server: server, Rcode: -1, Err: err}
				if ctx.Err() != nil {
					return nil, "", last
				}
				continue
			}
			if resp.Rcode == dns.RcodeSuccess || resp.Rcode == dns.RcodeNameError {
				return resp, server, nil
			}
			last = &DNSError{Name: qname, Qtype: qtype, Server: server, Rcode: resp.Rcode,
				Err: fmt.Errorf("server answered %s", dnsRcodeText(resp))}
		}
	}
	if tries > 1 {
		last.Err = fmt.Errorf("%w (every server failed: %d queries to %d servers)", last.Err, tries, len(c.servers))
	}
	return nil, "", last
}

func dnsCtxErr(err error, last *DNSError) error {
	if last != nil && last.Server != "" {
		return fmt.Errorf("%w (last failure: %v)", err, last.Err)
	}
	return err
}

// exchange asks one server: UDP first, TCP when the answer is truncated.
// It adds one trace event per transport used.
func (c *DNSClient) exchange(ctx context.Context, tr *trace.Trace, q, server string, req *dns.Msg) (*dns.Msg, error) {
	req.Id = dns.Id()
	wire, err := req.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing query: %w", err)
	}
	start := time.Now()
	resp, err := c.exchangeUDP(ctx, tr, q, server, req, wire)
	ev := trace.Event{Source: "dns", Query: q, Server: server, Duration: time.Since(start)}
	if err != nil {
		ev.Outcome = err.Error()
		ev.Decision = "no answer from this server"
		tr.Add(ev)
		return nil, err
	}
	if resp.Truncated {
		ev.Outcome = dnsRcodeText(resp) + " truncated"
		ev.Decision = "retrying over TCP"
		tr.Add(ev)
		start = time.Now()
		resp, err = c.exchangeTCP(ctx, server, req, wire)
		ev = trace.Event{Source: "dns", Query: q, Server: server + " (tcp)", Duration: time.Since(start)}
		if err != nil {
			ev.Outcome = err.Error()
			ev.Decision = "no answer from this server"
			tr.Add(ev)
			return nil, err
		}
	}
	ev.Outcome = dnsRcodeText(resp)
	ev.TTL = dnsEventTTL(resp)
	if resp.AuthenticatedData {
		ev.DNSSEC = "ad"
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		ev.Decision = "answer unknown from this server: trying the next one"
	}
	tr.Add(ev)
	return resp, nil
}

// deadline is the end of one exchange: the per-query timeout, or the
// context's deadline when sooner. ctxBound says which.
func (c *DNSClient) deadline(ctx context.Context) (d time.Time, ctxBound bool) {
	d = time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && !cd.After(d) {
		return cd, true
	}
	return d, false
}

// timeoutErr says why a read or dial hit its deadline.
func (c *DNSClient) timeoutErr(ctx context.Context, err error, ctxBound bool) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if ctxBound {
			return context.DeadlineExceeded
		}
		return fmt.Errorf("no response within %v", c.timeout)
	}
	return err
}

var dnsUDPBufPool = sync.Pool{New: func() any { b := make([]byte, dns.MaxMsgSize); return &b }}

// dial connects to server bounded by the query's deadline. Closing the
// connection also releases the hook that makes cancellation interrupt a
// blocked read. ctxBound reports whether the caller's context, not the
// per-query timeout, set the deadline.
func (c *DNSClient) dial(ctx context.Context, network, server string) (net.Conn, bool, error) {
	deadline, ctxBound := c.deadline(ctx)
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, ctxBound, c.timeoutErr(ctx, err, ctxBound)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, ctxBound, err
	}
	// Registered after the deadline is set so that it cannot be
	// overwritten by it.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return stoppingConn{conn, stop}, ctxBound, nil
}

// stoppingConn unregisters the cancellation hook when closed.
type stoppingConn struct {
	net.Conn
	stop func() bool
}

func (c stoppingConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// exchangeUDP sends wire and waits for the response to req. Responses that
// do not parse or do not match the ID and question are ignored and the
// wait goes on until the deadline, as a stub resolver must: an off-path
// forger can only get its packet ignored, not the query failed.
func (c *DNSClient) exchangeUDP(ctx context.Context, tr *trace.Trace, q, server string, req *dns.Msg, wire []byte) (*dns.Msg, error) {
	conn, ctxBound, err := c.dial(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.Write(wire); err != nil {
		return nil, c.timeoutErr(ctx, err, ctxBound)
	}
	bp := dnsUDPBufPool.Get().(*[]byte)
	defer dnsUDPBufPool.Put(bp)
	buf := *bp
	discarded := 0
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, c.timeoutErr(ctx, err, ctxBound)
		}
		var why string
		resp := new(dns.Msg)
		if n < 12 || binary.BigEndian.Uint16(buf) != req.Id {
			why = "wrong ID"
		} else if err := resp.Unpack(buf[:n]); err != nil {
			why = "malformed: " + err.Error()
		} else {
			why = dnsMismatch(req, resp)
		}
		if why == "" {
			return resp, nil
		}
		if discarded++; discarded <= dnsMaxDiscardEvents {
			tr.Add(trace.Event{Source: "dns", Query: q, Server: server, Outcome: "ignored response: " + why,
				Decision: "not an answer to this query (forged or stale): still waiting"})
		}
	}
}

// exchangeTCP sends wire over TCP. A response that does not match is an
// error here: nobody off-path can inject into the connection, so it is a
// broken server, and the next one is tried.
func (c *DNSClient) exchangeTCP(ctx context.Context, server string, req *dns.Msg, wire []byte) (*dns.Msg, error) {
	conn, ctxBound, err := c.dial(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(out, uint16(len(wire)))
	copy(out[2:], wire)
	if _, err := conn.Write(out); err != nil {
		return nil, c.timeoutErr(ctx, err, ctxBound)
	}
	// The 2-byte length prefix bounds the response to 64 KiB.
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return nil, c.tcpReadErr(ctx, err, ctxBound)
	}
	n := binary.BigEndian.Uint16(l[:])
	if n < 12 {
		return nil, fmt.Errorf("malformed response over TCP: %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, c.tcpReadErr(ctx, err, ctxBound)
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(buf); err != nil {
		return nil, fmt.Errorf("malformed response over TCP: %w", err)
	}
	if binary.BigEndian.Uint16(buf) != req.Id {
		return nil, fmt.Errorf("response over TCP does not match the query: wrong ID")
	}
	if why := dnsMismatch(req, resp); why != "" {
		return nil, fmt.Errorf("response over TCP does not match the query: %s", why)
	}
	return resp, nil
}

func (c *DNSClient) tcpReadErr(ctx context.Context, err error, ctxBound bool) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("connection closed before a complete response over TCP")
	}
	return c.timeoutErr(ctx, err, ctxBound)
}

// dnsMismatch says why resp is not the response to req, or "".
func dnsMismatch(req, resp *dns.Msg) string {
	if !resp.Response {
		return "not a response (QR bit clear)"
	}
	if resp.Opcode != req.Opcode {
		return "opcode " + dns.OpcodeToString[resp.Opcode]
	}
	if len(resp.Question) == 0 && resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		// Servers may drop the question from FORMERR/NOTIMP/REFUSED; such
		// an answer can only make the client move on to the next server.
		return ""
	}
	if len(resp.Question) != 1 {
		return fmt.Sprintf("%d questions", len(resp.Question))
	}
	got, want := resp.Question[0], req.Question[0]
	if got.Qtype != want.Qtype || got.Qclass != want.Qclass || !dnsNameEqual(got.Name, want.Name) {
		return fmt.Sprintf("question %s %s, want %s %s", dns.Type(got.Qtype), got.Name, dns.Type(want.Qtype), want.Name)
	}
	return ""
}

// dnsRcodeText is the rcode name, with the extended DNS error (RFC 8914)
// when the server gave one: "SERVFAIL (EDE 6 DNSSEC Bogus)".
func dnsRcodeText(m *dns.Msg) string {
	s, ok := dns.RcodeToString[m.Rcode]
	if !ok {
		s = "RCODE" + strconv.Itoa(m.Rcode)
	}
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				s += " (EDE " + strconv.Itoa(int(e.InfoCode))
				if n, ok := dns.ExtendedErrorCodeToString[e.InfoCode]; ok {
					s += " " + n
				}
				if e.ExtraText != "" {
					s += ": " + strconv.Quote(e.ExtraText)
				}
				s += ")"
				break
			}
		}
	}
	return s
}

// dnsEventTTL is the TTL a trace shows: the minimum over the answer
// section, or the negative-caching TTL of an answer without one.
func dnsEventTTL(m *dns.Msg) time.Duration {
	var ttl uint32
	found := false
	for _, rr := range m.Answer {
		if !found || rr.Header().Ttl < ttl {
			ttl, found = rr.Header().Ttl, true
		}
	}
	if !found {
		for _, rr := range m.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				ttl, found = min(soa.Hdr.Ttl, soa.Minttl), true
				break
			}
		}
	}
	return time.Duration(ttl) * time.Second
}
