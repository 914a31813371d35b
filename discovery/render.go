package discovery

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/trace"
)

// The trace's discovery events, rendered from the hop reports: the words
// a person reads in `ocidns trace` are made here, and only here, from the
// data a program reads in Result.Hops.

// renderSource adds the events of one source consulted at one hop.
func renderSource(tr *trace.Trace, host, path string, rep *SourceReport) {
	if tr == nil {
		return
	}
	if rep.Outcome == OutcomeUnknown {
		tr.Add(trace.Event{Source: "discovery", Query: rep.Query, Outcome: "unknown",
			Decision: "answer unknown, no fall-through to a lower source: discovery fails: " + rep.Err.Error()})
		return
	}
	switch rep.Cache {
	case CacheStale:
		tr.Add(trace.Event{Source: "cache", Query: rep.Query, Outcome: "stale", Decision: "refresh failed: serving the last good answer, marked stale"})
	case CacheHit:
		tr.Add(trace.Event{Source: "cache", Query: rep.Query, Outcome: "hit"})
	}
	renderSkipped(tr, host, rep)
	if ev, ok := outcomeEvent(host, path, rep); ok {
		tr.Add(ev)
	}
}

// renderSkipped adds an event for each record skipped whatever the path,
// each mapping skipped as unauthenticated, and one for the endpoints left
// out by the cap. Mappings whose prefix does not match are said at once
// by outcomeEvent.
func renderSkipped(tr *trace.Trace, host string, rep *SourceReport) {
	who := string(rep.Source) + " " + host
	var capped, keys []Skipped
	for _, sk := range rep.Skipped {
		switch sk.Reason {
		case SkipNotOCI:
			tr.Add(trace.Event{Source: "discovery", Query: rep.Query, Decision: "ignored TXT record that is not v=oci1: " + quote(sk.Record)})
		case SkipMalformed:
			tr.Add(trace.Event{Source: "discovery", Query: rep.Query, Decision: "skipped malformed record: " + sk.Err.Error()})
		case SkipUnauthenticatedCrossHost:
			how := "sign the zone with DNSSEC (and use --trust-anchor or a validating resolver with --trust-ad), or publish the mapping in https://" + host + WellKnownPath
			if rep.Source == SourceWellKnown {
				how = "serve the well-known document over HTTPS"
			}
			tr.Add(trace.Event{Source: "discovery", Query: who, DNSSEC: rep.DNSSEC.traceState(),
				Decision: fmt.Sprintf("skipped unauthenticated mapping to another host (%s) under --dnssec on: %s; to fix: %s", MappingHost(sk.Mapping), sk.Record, how)})
		case SkipCapped:
			capped = append(capped, sk)
		case SkipUnauthenticatedKey:
			keys = append(keys, sk)
		}
	}
	if len(keys) > 0 {
		why := "the TXT RRset is not DNSSEC-secure"
		if rep.Source == SourceWellKnown {
			why = "the document did not come over verified TLS"
		}
		tr.Add(trace.Event{Source: "discovery", Query: rep.Query, DNSSEC: rep.DNSSEC.traceState(),
			Decision: fmt.Sprintf("%d signing key(s) ignored: %s (keys are used only from a DNSSEC-secure TXT RRset or a well-known document over verified TLS)", len(keys), why)})
	}
	if len(capped) > 0 {
		what, query := "mirror(s)", who
		if rep.Source == SourceSRV {
			what, query = "SRV target(s)", rep.Query
		}
		tr.Add(trace.Event{Source: "discovery", Query: query, Decision: cappedNote(capped, what)})
	}
}

// cappedNote is the trace's words for endpoints left out by the cap; at
// most three are named.
func cappedNote(capped []Skipped, what string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d more %s not used: a client tries at most %d endpoints of one source (docs/protocol.md §11): ", len(capped), what, MaxEndpoints)
	for i, sk := range capped[:min(len(capped), 3)] {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(sk.Record)
	}
	if len(capped) > 3 {
		b.WriteString(" | ...")
	}
	return b.String()
}

// outcomeEvent is the event of what a source concluded, if it says one.
func outcomeEvent(host, path string, rep *SourceReport) (trace.Event, bool) {
	ev := trace.Event{Source: "discovery", Query: rep.Query}
	switch rep.Outcome {
	case OutcomeAbsent:
		if rep.Source == SourceWellKnown {
			return ev, false // the fetch said so
		}
		ev.Outcome, ev.TTL, ev.DNSSEC = absentName(rep.Rcode), rep.TTL, rep.DNSSEC.traceState()
		ev.Decision = "no " + map[Source]string{SourceTXT: "TXT", SourceSRV: "SRV"}[rep.Source] + " record: absent, next source"
	case OutcomeNoRegistry:
		ev.Decision = `SRV target "." says there is no registry at this host`
	case OutcomeNoMatch:
		if rep.skipped(SkipUnauthenticatedCrossHost) || rep.Source == SourceConfig || rep.Source == SourceSRV {
			return ev, false // the skipped mappings said why
		}
		switch {
		case rep.Source == SourceWellKnown:
			ev.Decision = fmt.Sprintf("no namespace of the well-known document matches path %q", path)
		case rep.skipped(SkipNoPrefixMatch):
			ev.Decision = fmt.Sprintf("no v=oci1 prefix matches path %q", path)
		default:
			ev.Decision = "no valid v=oci1 record: next source"
		}
	case OutcomeDecided:
		switch rep.Source {
		case SourceConfig:
			return ev, false
		case SourceSRV:
			ev.DNSSEC, ev.Decision = rep.DNSSEC.traceState(), "registry located by SRV: "+rep.Used[0].Registry
		case SourceDirect:
			ev.Query, ev.Decision = host, "no mapping published: "+host+" is its own registry ("+rep.Used[0].Registry+")"
		default:
			ev.Query, ev.DNSSEC, ev.Decision = string(rep.Source)+" "+host, rep.DNSSEC.traceState(), "mapping "+rep.Used[0].Record
		}
	default:
		return ev, false
	}
	return ev, true
}

// skipped reports whether some record or mapping was skipped for r.
func (rep *SourceReport) skipped(r SkipReason) bool {
	for _, sk := range rep.Skipped {
		if sk.Reason == r {
			return true
		}
	}
	return false
}

// absentName names an absent answer the way dig does.
func absentName(rcode int) string {
	if rcode == dns.RcodeNameError {
		return "NXDOMAIN"
	}
	return "NODATA"
}

// noDNSEvent says why a hop asks no DNS question.
func noDNSEvent(host string) trace.Event {
	return trace.Event{Source: "discovery", Query: host, Decision: "no DNS discovery for an IP address or a host with a port"}
}

// indeterminateEvent says that an answer's chain of trust could not be
// fetched, so the answer is used unauthenticated.
func indeterminateEvent(name string, err error) trace.Event {
	return trace.Event{Source: "dns", Query: name, DNSSEC: "indeterminate",
		Decision: "chain of trust could not be fetched, answer not authenticated in-process: " + err.Error()}
}

// delegatedEvent says where a hop sent the name.
func delegatedEvent(host, path, delegate, rest string) trace.Event {
	return trace.Event{Source: "discovery", Query: host + "/" + path,
		Decision: fmt.Sprintf("delegated to %s, continue with path %q", delegate, rest)}
}

// failedEvent ends a discovery that failed.
func failedEvent(name string, err error) trace.Event {
	return trace.Event{Source: "discovery", Query: name, Outcome: "failed", Decision: "discovery failed: " + err.Error()}
}

// resultEvent sums up a discovery that found its endpoints.
func resultEvent(res *Result, hops int, auth Auth) trace.Event {
	return trace.Event{Source: "discovery", Query: res.Name, TTL: res.TTL,
		Decision: fmt.Sprintf("%d endpoint(s) after %d hop(s), authenticated: %s", len(res.Endpoints), hops, auth)}
}

// signersEvent says which of a host's keys apply to the path at a hop.
func signersEvent(host, path string, s Signers) trace.Event {
	return trace.Event{Source: "discovery", Query: host + "/" + path, Decision: "signing keys of " + host + ": " + s.String()}
}

// policyEvent sums up the signing policy of a discovered name.
func policyEvent(name string, p *SignerPolicy) trace.Event {
	decision := "signatures " + p.Sign.String()
	if p.RequiredBy != "" {
		decision += " (by " + p.RequiredBy + ")"
	}
	decision += fmt.Sprintf("; %d usable key(s) of %s apply", len(p.Keys), p.Host)
	return trace.Event{Source: "discovery", Query: name, Decision: decision}
}
