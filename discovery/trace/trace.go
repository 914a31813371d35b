// Package trace records the steps of a discovery or resolution as events:
// each DNS query, HTTP fetch and decision, in order, as `ocidns trace`
// prints them. A *Trace travels in a context (NewContext, FromContext), so
// that every package on the way adds its events without passing the trace
// explicitly. It is a leaf: it imports nothing of ocidns.
//
// Besides its text, every event carries its place in time and in the
// resolution, as data: an ID, the step it is part of (Parent), the
// discovery hop it belongs to (Hop), and when it started (Start, an offset
// from the start of the trace) and how long it took (Duration). The parent
// and the hop come from the context the event is added under: a step with
// parts begins with Begin, which returns the context of its parts, and
// ends with Span.End, which records the step itself; WithHop marks the
// events of one discovery hop.
package trace

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol says which protocol an upstream request used.
type Protocol uint8

// The protocols of upstream requests.
const (
	// NoRequest: the event records no request sent upstream (a decision,
	// a cache hit, a verdict on data already received).
	NoRequest Protocol = iota
	// DNS: one DNS exchange with one server (UDP or TCP).
	DNS
	// HTTP: one HTTP request (a well-known document, a redirect followed,
	// a registry or token request).
	HTTP
)

// String returns "dns", "http" or "none".
func (p Protocol) String() string {
	switch p {
	case DNS:
		return "dns"
	case HTTP:
		return "http"
	}
	return "none"
}

// MarshalText gives the protocol's name in JSON.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a name MarshalText gives.
func (p *Protocol) UnmarshalText(b []byte) error {
	switch string(b) {
	case "dns":
		*p = DNS
	case "http":
		*p = HTTP
	case "none", "":
		*p = NoRequest
	default:
		return fmt.Errorf("trace: unknown protocol %q", b)
	}
	return nil
}

// NoResponse is the Status of an upstream request that got no response:
// a timeout, a refused or reset connection, a TLS failure.
const NoResponse = -1

// Event is one step of a discovery or resolution, as printed by `ocidns
// trace`. Its text fields are for people; Request and Status are the
// facts programs count (the daemon's metrics); ID, Parent, Hop, Start and
// Duration place it in the resolution, for a drawing of it.
type Event struct {
	// ID identifies the event in its trace: 1, 2, ... in the order the
	// steps began or the events were added, unique across Forks.
	ID int `json:"id"`
	// Parent is the ID of the step this event is part of (a DNSSEC
	// validation for the DNSKEY and DS queries it asked, the discovery
	// for its hops' events); 0 at the top.
	Parent int `json:"parent,omitempty"`
	// Hop is the discovery hop the event belongs to, 1 for the name's own
	// host, 2 for the first delegate, ...; 0 outside a hop (the
	// resolution's registry requests, the discovery's summary).
	Hop int `json:"hop,omitempty"`
	// Start is when the step began, from the start of the trace: the
	// time it was recorded less its Duration. It may be negative for an
	// answer another resolution asked for before this trace began (a
	// DNSSEC prefetch it shares).
	Start time.Duration `json:"start"`
	// Time is when the event was recorded: when its step ended.
	Time time.Time `json:"time"`
	// Source is "cache", "dns", "https", "registry" or "discovery" (a decision).
	Source string `json:"source"`
	// Query is what was asked: "TXT _oci-discovery.example.com.", "HEAD https://r/v2/x/manifests/t".
	Query string `json:"query,omitempty"`
	// Server is who answered: "127.0.0.1:53", "registry.example.com".
	Server string `json:"server,omitempty"`
	// Outcome is the rcode ("NOERROR", "NXDOMAIN"), HTTP status ("200") or error.
	Outcome string        `json:"outcome,omitempty"`
	TTL     time.Duration `json:"ttl,omitempty"`
	// DNSSEC is "secure", "insecure", "bogus", "indeterminate", "ad" or ""
	// when not applicable.
	DNSSEC   string        `json:"dnssec,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// Decision is what was concluded from this step, for a person.
	Decision string `json:"decision,omitempty"`
	// Request is the protocol of the one request sent upstream that this
	// event records; NoRequest (left out of JSON) for every other event.
	Request Protocol `json:"request,omitzero"`
	// Status is that request's DNS rcode or HTTP status code, or
	// NoResponse. Meaningless when Request is NoRequest.
	Status int `json:"-"`
}

// Trace collects events; a nil *Trace discards them. Safe for concurrent
// use. A *Trace is a view of one record of events: Begin and WithHop give
// views that add events under a parent step or in a hop, Fork one that
// holds its events apart until Join.
type Trace struct {
	rec    *record
	buf    *buffer // where Add puts events: the record's, or a Fork's own
	parent int
	hop    int
}

// record is what every view of one trace shares: the clock, the start the
// offsets are counted from, and the ID counter.
type record struct {
	now    func() time.Time
	origin time.Time
	lastID atomic.Int64
}

type buffer struct {
	mu     sync.Mutex
	events []Event
}

// New returns an empty trace stamped by the given clock (time.Now if nil).
// Its start, from which event offsets count, is the clock's time now.
func New(now func() time.Time) *Trace {
	if now == nil {
		now = time.Now
	}
	return &Trace{rec: &record{now: now, origin: now()}, buf: &buffer{}}
}

// Add records e, stamping its Time when unset. Its ID, Parent, Hop and
// Start are the trace's, whatever e holds: a new ID, the parent step and
// hop of this view, and Time less Duration as the offset of its start.
func (t *Trace) Add(e Event) {
	if t == nil {
		return
	}
	t.add(e, int(t.rec.lastID.Add(1)))
}

func (t *Trace) add(e Event, id int) {
	if e.Time.IsZero() {
		e.Time = t.rec.now()
	}
	e.ID, e.Parent, e.Hop = id, t.parent, t.hop
	e.Start = e.Time.Sub(t.rec.origin) - e.Duration
	t.buf.mu.Lock()
	t.buf.events = append(t.buf.events, e)
	t.buf.mu.Unlock()
}

// Fork returns an empty trace with t's clock, start, parent and hop for
// work done concurrently with t's, so that its events can be appended to t
// in one run (Join) instead of interleaving with others. Fork of a nil
// trace is nil.
func (t *Trace) Fork() *Trace {
	if t == nil {
		return nil
	}
	return &Trace{rec: t.rec, buf: &buffer{}, parent: t.parent, hop: t.hop}
}

// Join moves the events of u, a Fork of t, to the end of t, in u's order.
// Events u records later stay in u until the next Join; work that outlives
// its last Join adds nothing to t.
func (t *Trace) Join(u *Trace) {
	if t == nil || u == nil || t.buf == u.buf {
		return
	}
	u.buf.mu.Lock()
	evs := u.buf.events
	u.buf.events = nil
	u.buf.mu.Unlock()
	t.buf.mu.Lock()
	t.buf.events = append(t.buf.events, evs...)
	t.buf.mu.Unlock()
}

// Events returns a copy of the events recorded so far, in order.
func (t *Trace) Events() []Event {
	if t == nil {
		return nil
	}
	t.buf.mu.Lock()
	defer t.buf.mu.Unlock()
	return append([]Event(nil), t.buf.events...)
}

// under returns a view of t whose events are parts of the step id.
func (t *Trace) under(id int) *Trace {
	u := *t
	u.parent = id
	return &u
}

// inHop returns a view of t whose events belong to hop n.
func (t *Trace) inHop(n int) *Trace {
	u := *t
	u.hop = n
	return &u
}

// String formats e on one line the way dig +trace prints a hop: source,
// question, server, outcome, TTL, DNSSEC state and duration, then "-> "
// and the decision. The time is left out; callers print offsets if they
// want them.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Source)
	for _, s := range [...]string{e.Query, prefixed("@", e.Server), e.Outcome} {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	if e.TTL > 0 {
		b.WriteString(" ttl=")
		b.WriteString(e.TTL.String())
	}
	if e.DNSSEC != "" {
		b.WriteString(" dnssec=")
		b.WriteString(e.DNSSEC)
	}
	if e.Duration > 0 {
		b.WriteString(" in ")
		b.WriteString(RoundDuration(e.Duration).String())
	}
	if e.Decision != "" {
		b.WriteString(" -> ")
		b.WriteString(e.Decision)
	}
	return b.String()
}

// RoundDuration rounds a positive duration of a step for a person: to
// 10µs, or to 1µs below that, and never down to zero.
func RoundDuration(d time.Duration) time.Duration {
	if r := d.Round(10 * time.Microsecond); r > 0 {
		return r
	}
	return max(d.Round(time.Microsecond), time.Microsecond)
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
