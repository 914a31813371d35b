// Package trace records the steps of a discovery or resolution as events:
// each DNS query, HTTP fetch and decision, in order, as `ocidns trace`
// prints them. A *Trace travels in a context (NewContext, FromContext), so
// that every package on the way adds its events without passing the trace
// explicitly. It is a leaf: it imports nothing of ocidns.
package trace

import (
	"strings"
	"sync"
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

// NoResponse is the Status of an upstream request that got no response:
// a timeout, a refused or reset connection, a TLS failure.
const NoResponse = -1

// Event is one step of a discovery or resolution, as printed by `ocidns
// trace`. Its text fields are for people; Request and Status are the
// facts programs count (the daemon's metrics).
type Event struct {
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
	// event records; NoRequest for every other event.
	Request Protocol `json:"-"`
	// Status is that request's DNS rcode or HTTP status code, or
	// NoResponse. Meaningless when Request is NoRequest.
	Status int `json:"-"`
}

// Trace collects events; a nil *Trace discards them. Safe for concurrent use.
type Trace struct {
	mu     sync.Mutex
	events []Event
	now    func() time.Time
}

// New returns an empty trace stamped by the given clock (time.Now if nil).
func New(now func() time.Time) *Trace {
	if now == nil {
		now = time.Now
	}
	return &Trace{now: now}
}

// Add records e, stamping its Time when unset.
func (t *Trace) Add(e Event) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	t.events = append(t.events, e)
	t.mu.Unlock()
}

// Fork returns an empty trace with t's clock for work done concurrently
// with t's, so that its events can be appended to t in one run (Join)
// instead of interleaving with others. Fork of a nil trace is nil.
func (t *Trace) Fork() *Trace {
	if t == nil {
		return nil
	}
	return &Trace{now: t.now}
}

// Join moves the events of u, a Fork of t, to the end of t, in u's order.
// Events u records later stay in u until the next Join; work that outlives
// its last Join adds nothing to t.
func (t *Trace) Join(u *Trace) {
	if t == nil || u == nil || t == u {
		return
	}
	u.mu.Lock()
	evs := u.events
	u.events = nil
	u.mu.Unlock()
	t.mu.Lock()
	t.events = append(t.events, evs...)
	t.mu.Unlock()
}

// Events returns a copy of the events recorded so far, in order.
func (t *Trace) Events() []Event {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
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
		b.WriteString(e.Duration.Round(10 * time.Microsecond).String())
	}
	if e.Decision != "" {
		b.WriteString(" -> ")
		b.WriteString(e.Decision)
	}
	return b.String()
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
