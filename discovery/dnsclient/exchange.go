package dnsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/trace"
)

// ask sends one question to the servers in order, for c.attempts rounds,
// until one answers NOERROR or NXDOMAIN. When every one failed and one of
// them answered SERVFAIL to the question with the DO bit, that server is
// asked once more without it (a resolver or middlebox that cannot handle
// DNSSEC queries); withoutDO says that the answer came so.
func (c *Client) ask(ctx context.Context, qname string, qtype uint16) (resp *dns.Msg, server string, withoutDO bool, e *Error) {
	tr := trace.FromContext(ctx)
	q := question(qname, qtype)
	req := new(dns.Msg)
	req.SetQuestion(qname, qtype)
	req.RecursionDesired = true
	// RFC 6840 §5.7: AD in a query asks for the AD bit in the answer.
	req.AuthenticatedData = true
	// DO asks for RRSIGs and NSEC records (RFC 3225): not under
	// --dnssec off, where nothing would read them.
	req.SetEdns0(ednsSize, !c.noDNSSEC)

	last := &Error{Name: qname, Qtype: qtype, Rcode: -1, Err: errors.New("no DNS server configured")}
	servfail := "" // the first server that answered SERVFAIL
	tries := 0
	for round := 0; round < c.attempts; round++ {
		for _, server := range c.servers {
			if err := ctx.Err(); err != nil {
				last.Err = ctxErr(err, last)
				return nil, "", false, last
			}
			tries++
			resp, err := c.exchange(ctx, tr, q, server, req)
			if err != nil {
				last = &Error{Name: qname, Qtype: qtype, Server: server, Rcode: -1, Err: err}
				if ctx.Err() != nil {
					return nil, "", false, last
				}
				continue
			}
			if resp.Rcode == dns.RcodeSuccess || resp.Rcode == dns.RcodeNameError {
				return resp, server, false, nil
			}
			if resp.Rcode == dns.RcodeServerFailure && servfail == "" {
				servfail = server
			}
			last = &Error{Name: qname, Qtype: qtype, Server: server, Rcode: resp.Rcode,
				Err: fmt.Errorf("server answered %s", rcodeText(resp))}
		}
	}
	if servfail != "" && !c.noDNSSEC && ctx.Err() == nil {
		tr.Add(trace.Event{Source: "dns", Query: q, Server: servfail, Decision: "SERVFAIL to the query with the DNSSEC OK bit: asking again without it"})
		plain := req.Copy()
		plain.IsEdns0().SetDo(false)
		if resp, err := c.exchange(ctx, tr, q, servfail, plain); err == nil && (resp.Rcode == dns.RcodeSuccess || resp.Rcode == dns.RcodeNameError) {
			return resp, servfail, true, nil
		}
		last.AskedWithoutDO = true
	}
	if tries > 1 {
		last.Err = fmt.Errorf("%w (every server failed: %d queries to %d servers)", last.Err, tries, len(c.servers))
	}
	return nil, "", false, last
}

func ctxErr(err error, last *Error) error {
	if last != nil && last.Server != "" {
		return fmt.Errorf("%w (last failure: %v)", err, last.Err)
	}
	return err
}

// exchange asks one server: UDP first, TCP when the answer is truncated.
// It adds one trace event per transport used.
func (c *Client) exchange(ctx context.Context, tr *trace.Trace, q, server string, req *dns.Msg) (*dns.Msg, error) {
	req.Id = dns.Id()
	wire, err := req.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing query: %w", err)
	}
	start := time.Now()
	resp, oversize, err := c.exchangeUDP(ctx, tr, q, server, req, wire)
	ev := trace.Event{Source: "dns", Query: q, Server: server, Duration: time.Since(start), Request: trace.DNS, Status: trace.NoResponse}
	if err != nil {
		ev.Outcome = err.Error()
		ev.Decision = "no answer from this server"
		tr.Add(ev)
		return nil, err
	}
	if oversize || resp.Truncated {
		if oversize {
			ev.Outcome = "answer larger than the " + strconv.Itoa(ednsSize) + "-byte EDNS0 buffer"
		} else {
			ev.Outcome, ev.Status = rcodeText(resp)+" truncated", resp.Rcode
		}
		ev.Decision = "retrying over TCP"
		tr.Add(ev)
		start = time.Now()
		resp, err = c.exchangeTCP(ctx, server, req, wire)
		ev = trace.Event{Source: "dns", Query: q, Server: server + " (tcp)", Duration: time.Since(start), Request: trace.DNS, Status: trace.NoResponse}
		if err != nil {
			ev.Outcome = err.Error()
			ev.Decision = "no answer from this server"
			tr.Add(ev)
			return nil, err
		}
	}
	ev.Outcome, ev.Status = rcodeText(resp), resp.Rcode
	ev.TTL = eventTTL(resp)
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
func (c *Client) deadline(ctx context.Context) (d time.Time, ctxBound bool) {
	d = time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && !cd.After(d) {
		return cd, true
	}
	return d, false
}

// timeoutErr says why a read or dial hit its deadline.
func (c *Client) timeoutErr(ctx context.Context, err error, ctxBound bool) error {
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

// udpBufPool holds UDP receive buffers: the EDNS0 size the client
// advertises, and one byte more to tell a datagram that does not fit
// (a server that ignored the size) from one that just fits.
var udpBufPool = sync.Pool{New: func() any { b := make([]byte, ednsSize+1); return &b }}

// dial connects to server bounded by the query's deadline. Closing the
// connection also releases the hook that makes cancellation interrupt a
// blocked read. ctxBound reports whether the caller's context, not the
// per-query timeout, set the deadline.
func (c *Client) dial(ctx context.Context, network, server string) (net.Conn, bool, error) {
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
// forger can only get its packet ignored, not the query failed. A response
// with the query's ID that is larger than the buffer advertised in EDNS0
// cannot be read whole: oversize says so, and the caller asks over TCP (a
// forger guessing the ID gains no more than that).
func (c *Client) exchangeUDP(ctx context.Context, tr *trace.Trace, q, server string, req *dns.Msg, wire []byte) (resp *dns.Msg, oversize bool, err error) {
	conn, ctxBound, err := c.dial(ctx, "udp", server)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	if _, err := conn.Write(wire); err != nil {
		return nil, false, c.timeoutErr(ctx, err, ctxBound)
	}
	bp := udpBufPool.Get().(*[]byte)
	defer udpBufPool.Put(bp)
	buf := *bp
	discarded := 0
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, false, c.timeoutErr(ctx, err, ctxBound)
		}
		var why string
		resp := new(dns.Msg)
		switch {
		case n < 12 || binary.BigEndian.Uint16(buf) != req.Id:
			why = "wrong ID"
		case n > ednsSize:
			// Cut by the read: only the header can be checked.
			if buf[2]&0x80 != 0 {
				return nil, true, nil
			}
			why = "not a response (QR bit clear)"
		default:
			if err := resp.Unpack(buf[:n]); err != nil {
				why = "malformed: " + err.Error()
			} else {
				why = mismatch(req, resp)
			}
		}
		if why == "" {
			return resp, false, nil
		}
		if discarded++; discarded <= maxDiscardEvents {
			tr.Add(trace.Event{Source: "dns", Query: q, Server: server, Outcome: "ignored response: " + why,
				Decision: "not an answer to this query (forged or stale): still waiting"})
		}
	}
}

// exchangeTCP sends wire over TCP. A response that does not match is an
// error here: nobody off-path can inject into the connection, so it is a
// broken server, and the next one is tried.
func (c *Client) exchangeTCP(ctx context.Context, server string, req *dns.Msg, wire []byte) (*dns.Msg, error) {
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
	if why := mismatch(req, resp); why != "" {
		return nil, fmt.Errorf("response over TCP does not match the query: %s", why)
	}
	if resp.Truncated {
		// TCP carries 64 KiB: nothing is ever cut there, so TC is a broken
		// server whose answer may lack records (docs/protocol.md §9).
		return nil, errors.New("malformed response over TCP: TC bit set (a TCP answer is never truncated)")
	}
	return resp, nil
}

func (c *Client) tcpReadErr(ctx context.Context, err error, ctxBound bool) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("connection closed before a complete response over TCP")
	}
	return c.timeoutErr(ctx, err, ctxBound)
}

// mismatch says why resp is not the response to req, or "".
func mismatch(req, resp *dns.Msg) string {
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
	if got.Qtype != want.Qtype || got.Qclass != want.Qclass || !NameEqual(got.Name, want.Name) {
		return fmt.Sprintf("question %s %s, want %s %s", dns.Type(got.Qtype), got.Name, dns.Type(want.Qtype), want.Name)
	}
	return ""
}

// rcodeText is the rcode name, with the extended DNS error (RFC 8914)
// when the server gave one: "SERVFAIL (EDE 6 DNSSEC Bogus)".
func rcodeText(m *dns.Msg) string {
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

// eventTTL is the TTL a trace shows: the minimum over the answer
// section, or the negative-caching TTL of an answer without one.
func eventTTL(m *dns.Msg) time.Duration {
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
