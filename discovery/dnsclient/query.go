package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/trace"
)

// ErrUnknown is wrapped by every *Error: the answer to a DNS question
// is unknown (every server failed, timed out or answered something that is
// not an answer). Unlike NXDOMAIN/NODATA, which say "absent", an unknown
// answer must never let discovery fall through to a lower-precedence source.
var ErrUnknown = errors.New("DNS answer unknown")

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
	// any.
	SOA *dns.SOA
	// Denial are the NSEC and NSEC3 records of the authority sections of
	// the responses (the proof of a denial, or that a wildcard answer had
	// no closer match; RFC 4035 §3.1.3, RFC 5155 §7.2), and AuthoritySigs
	// every RRSIG of those sections (over the SOA and the NSEC/NSEC3
	// records). Both gather every response of a CNAME chain asked in more
	// than one query: a wildcard link keeps its proof.
	Denial        []dns.RR
	AuthoritySigs []*dns.RRSIG
	// AD is set when every response in the chain had the AD bit.
	AD bool
	// WithoutDO is set when a response of the chain was asked for again
	// without the DO bit after a SERVFAIL with it (a resolver that cannot
	// handle DNSSEC queries): it carries no signatures or denial proofs.
	WithoutDO bool
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

// Error says a DNS answer is unknown. It wraps ErrUnknown and the
// cause (a timeout, a network error, context.DeadlineExceeded, ...).
type Error struct {
	Name   string
	Qtype  uint16
	Server string // the last server asked; "" when none was
	Rcode  int    // the last server's rcode; -1 when it gave none
	Err    error
	// AskedWithoutDO is set when a server that answered SERVFAIL was asked
	// once more without the DO bit, and that failed too.
	AskedWithoutDO bool
}

// Error reads "DNS TXT name. @server: cause".
func (e *Error) Error() string {
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
		b.WriteString(ErrUnknown.Error())
	}
	return b.String()
}

// Unwrap returns ErrUnknown and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnknown}
	}
	return []error{ErrUnknown, e.Err}
}

// Query asks name/qtype (class IN) and follows CNAMEs (at most 8, loops
// detected), re-asking for the target when a server did not include the
// rest of the chain. NOERROR and NXDOMAIN give an Answer; anything else
// (SERVFAIL, REFUSED, timeouts on every server and attempt, a CNAME loop,
// the context's end) gives a *Error wrapping ErrUnknown. Each
// exchange adds an Event to trace.FromContext(ctx).
func (c *Client) Query(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	qname := dns.Fqdn(name)
	if _, ok := dns.IsDomainName(qname); !ok {
		return nil, &Error{Name: qname, Qtype: qtype, Rcode: -1, Err: fmt.Errorf("%q is not a valid DNS name", name)}
	}
	start := time.Now()
	a := &Answer{Name: qname, Qtype: qtype, AD: true}
	seen := map[string]bool{dns.CanonicalName(qname): true}
	target := qname
	for {
		resp, server, withoutDO, err := c.ask(ctx, target, qtype)
		if err != nil {
			if target != qname {
				err.Err = fmt.Errorf("following CNAMEs to %s: %w", target, err.Err)
			}
			err.Name = qname
			return nil, err
		}
		a.Msg, a.Server, a.Rcode = resp, server, resp.Rcode
		a.WithoutDO = a.WithoutDO || withoutDO
		a.AD = a.AD && resp.AuthenticatedData
		next, cerr := a.collect(resp, target, seen)
		if cerr != nil {
			return nil, &Error{Name: qname, Qtype: qtype, Server: server, Rcode: resp.Rcode, Err: cerr}
		}
		if next == "" {
			break
		}
		trace.FromContext(ctx).Add(trace.Event{Source: "dns", Query: question(target, qtype), Server: server,
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
			if h.Rrtype == a.Qtype && h.Class == dns.ClassINET && NameEqual(h.Name, cur) {
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
		cn := cnameAt(resp.Answer, cur)
		if cn == nil {
			break
		}
		if len(a.CNAMEs) >= maxCNAMEs {
			return "", fmt.Errorf("more than %d CNAMEs from %s", maxCNAMEs, a.Name)
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
	a.readAuthority(resp.Ns)
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

// cnameAt returns the CNAME owned by name in rrs, if any.
func cnameAt(rrs []dns.RR, name string) *dns.CNAME {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok && c.Hdr.Class == dns.ClassINET && NameEqual(c.Hdr.Name, name) {
			return c
		}
	}
	return nil
}

// readAuthority keeps what validation reads of the authority section ns:
// the first SOA, the RRSIGs, the NSEC and NSEC3 records.
func (a *Answer) readAuthority(ns []dns.RR) {
	a.SOA = nil
	for _, rr := range ns {
		switch rr := rr.(type) {
		case *dns.SOA:
			if a.SOA == nil {
				a.SOA = rr
			}
		case *dns.RRSIG:
			a.AuthoritySigs = append(a.AuthoritySigs, rr)
		case *dns.NSEC, *dns.NSEC3:
			a.Denial = append(a.Denial, rr)
		}
	}
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

// rrsigsOver returns the RRSIGs among rrs that cover type covered at
// owner.
func rrsigsOver(rrs []dns.RR, owner string, covered uint16) []*dns.RRSIG {
	var sigs []*dns.RRSIG
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok && Covers(s, owner, covered) {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

// Covers reports whether the RRSIG s covers the RRset of type covered at
// owner.
func Covers(s *dns.RRSIG, owner string, covered uint16) bool {
	return s != nil && s.TypeCovered == covered && NameEqual(s.Hdr.Name, owner)
}

// NameEqual reports whether two domain names are equal as DNS compares
// them: ASCII letters without regard to case, every other byte exactly
// (strings.EqualFold would also fold non-ASCII runes).
func NameEqual(a, b string) bool {
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

func question(name string, qtype uint16) string {
	return dns.Type(qtype).String() + " " + name
}
