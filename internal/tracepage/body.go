// Package tracepage is the trace page: the JSON of one traced resolution
// (what `GET /v1/trace` answers) and a self-contained page that draws it —
// the delegation chain, a waterfall of every step on a time axis, and the
// answer. `ocidns serve` serves the page at / (Handler), and `ocidns trace
// --html` writes it with the trace inside, to open offline (WriteHTML).
//
// Zone owners write the text of TXT records and well-known documents, so
// the page inserts everything it reads from a trace as text, never as
// markup, under a Content-Security-Policy that runs no inline script but
// its own and loads nothing from elsewhere.
package tracepage

import (
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/resolver"
)

// Body is the JSON of one traced resolution: what GET /v1/trace answers,
// and what a page written by WriteHTML draws.
type Body struct {
	// Ref is the reference as asked; Platform the platform asked for, if any.
	Ref      string `json:"ref"`
	Platform string `json:"platform,omitempty"`
	// Result is the answer: when the resolution succeeded, and when it
	// found a digest that the signing policy then refused (its Signature
	// says why).
	Result *resolver.Result `json:"result,omitempty"`
	// Error and Code say why it failed, when it did.
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
	// Events are every step, with their IDs, parents, hops, start offsets
	// and durations (package trace).
	Events []trace.Event `json:"events"`
	// Hops are what each discovery hop consulted and concluded, up to the
	// failing one when discovery failed.
	Hops []Hop `json:"hops"`
}

// Hop is one hop of discovery: the host asked about a path, and each
// source consulted in precedence order (discovery.HopReport).
type Hop struct {
	Host    string   `json:"host"`
	Path    string   `json:"path"`
	Sources []Source `json:"sources"`
}

// Source is one source consulted at one hop (discovery.SourceReport).
type Source struct {
	// Source is "dns-txt", "dns-srv", "well-known", "direct" or "config".
	Source string `json:"source"`
	// Query is what was asked ("TXT _oci-discovery.example.com."), if anything.
	Query string `json:"query,omitempty"`
	// Cache is "none", "miss", "hit" or "stale".
	Cache string `json:"cache"`
	// Outcome is "absent", "no-match", "no-registry", "decided", "unknown"
	// or "failed"; Error says why for the last two.
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// Auth is how the source's mappings are authenticated: "dnssec",
	// "https", "config" or "none" (docs/protocol.md §8.1).
	Auth string `json:"auth,omitempty"`
	// DNSSEC is how a TXT or SRV answer was judged: "secure",
	// "insecure", "indeterminate", "ad" (a trusted resolver's AD bit), or
	// "" when it was not.
	DNSSEC string `json:"dnssec,omitempty"`
	// TTL is how long the answer may be cached, in seconds.
	TTL int64 `json:"ttl"`
	// Used are the mappings that decided the hop; Skipped the records and
	// mappings not used, each with why.
	Used    []Mapping `json:"used,omitempty"`
	Skipped []Skipped `json:"skipped,omitempty"`
	// Keys are the signing keys the source published that a client may
	// use (docs/protocol.md §15.2); those it may not are in Skipped.
	Keys []Key `json:"keys,omitempty"`
}

// Key is one signing key a source published (discovery.PublishedKey).
type Key struct {
	Prefix  string `json:"prefix"`
	Sign    string `json:"sign"`
	Alg     string `json:"alg"`
	Revoked bool   `json:"revoked,omitempty"`
	Record  string `json:"record"`
}

// Mapping is one published mapping (discovery.Mapping).
type Mapping struct {
	Prefix       string   `json:"prefix"`
	Registry     string   `json:"registry,omitempty"`
	Delegate     string   `json:"delegate,omitempty"`
	Priority     int      `json:"priority"`
	Weight       int      `json:"weight"`
	Capabilities []string `json:"capabilities,omitempty"`
	Record       string   `json:"record,omitempty"`
}

// Skipped is one record or mapping a source did not use (discovery.Skipped).
type Skipped struct {
	// Reason is the stable name of discovery.SkipReason:
	// "unauthenticated-cross-host", "shorter-prefix", ...
	Reason string `json:"reason"`
	// Record is the record or document entry as published.
	Record string `json:"record"`
	// Mapping is the parsed mapping, for records that are one.
	Mapping *Mapping `json:"mapping,omitempty"`
	// Host is where the mapping sends names, for a cross-host one.
	Host  string `json:"host,omitempty"`
	Error string `json:"error,omitempty"`
}

// NewBody is the body of one traced resolution of ref: res, events and err
// as resolver.TracePlatform returned them, for the platform asked (""
// for none).
func NewBody(ref, platform string, res resolver.Result, events []trace.Event, err error) Body {
	b := Body{Ref: ref, Platform: platform, Events: events, Hops: hops(res.Hops)}
	if b.Events == nil {
		b.Events = []trace.Event{}
	}
	if err != nil {
		b.Error, b.Code = err.Error(), string(resolver.CodeOf(err))
		if res.Digest == "" || res.Signature == nil {
			return b
		}
	}
	res.Events, res.Hops = nil, nil
	b.Result = &res
	return b
}

func hops(reports []discovery.HopReport) []Hop {
	out := make([]Hop, 0, len(reports))
	for _, h := range reports {
		hop := Hop{Host: h.Host, Path: h.Path, Sources: make([]Source, 0, len(h.Sources))}
		for i := range h.Sources {
			hop.Sources = append(hop.Sources, source(&h.Sources[i]))
		}
		out = append(out, hop)
	}
	return out
}

func source(rep *discovery.SourceReport) Source {
	s := Source{Source: string(rep.Source), Query: rep.Query, Cache: rep.Cache.String(), Outcome: rep.Outcome.String(),
		Auth: string(rep.Auth), DNSSEC: dnssecState(rep.DNSSEC), TTL: int64(rep.TTL / time.Second)}
	if rep.Err != nil {
		s.Error = rep.Err.Error()
	}
	for _, m := range rep.Used {
		s.Used = append(s.Used, mapping(m))
	}
	for _, k := range rep.Keys {
		s.Keys = append(s.Keys, Key{Prefix: k.Prefix, Sign: k.Sign.String(), Alg: k.Alg, Revoked: k.Revoked, Record: k.Record})
	}
	for _, sk := range rep.Skipped {
		v := Skipped{Reason: sk.Reason.String(), Record: sk.Record}
		if sk.Mapping != (discovery.Mapping{}) {
			m := mapping(sk.Mapping)
			v.Mapping = &m
		}
		if sk.Reason == discovery.SkipUnauthenticatedCrossHost {
			v.Host = discovery.MappingHost(sk.Mapping)
		}
		if sk.Err != nil {
			v.Error = sk.Err.Error()
		}
		s.Skipped = append(s.Skipped, v)
	}
	return s
}

func mapping(m discovery.Mapping) Mapping {
	return Mapping{Prefix: m.Prefix, Registry: m.Registry, Delegate: m.Delegate, Priority: m.Priority, Weight: m.Weight,
		Capabilities: m.Caps.Strings(), Record: m.Record}
}

// dnssecState is how a TXT or SRV answer was judged, as the trace's
// events say it.
func dnssecState(a discovery.Authentication) string {
	switch {
	case a.AD:
		return "ad"
	case !a.Validated:
		return ""
	}
	return a.Security.String()
}
