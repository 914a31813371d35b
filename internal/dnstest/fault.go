package dnstest

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Fault is a misbehaviour injected for one question, to test how a client
// copes with broken servers and off-path forgers.
type Fault int

// Faults. Those that forge a response (WrongID, WrongQuestion) send the
// forgery first and then the genuine answer, on UDP and TCP alike: a
// client that checks IDs and questions on UDP ignores the forgery and
// takes the answer, and one that takes the first packet fails. Over TCP a
// mismatch can only be a broken server, so a client may fail there.
const (
	// FaultNone answers normally (and clears an earlier fault).
	FaultNone Fault = iota
	// FaultServFail answers SERVFAIL.
	FaultServFail
	// FaultRefused answers REFUSED.
	FaultRefused
	// FaultDrop never answers: the client times out.
	FaultDrop
	// FaultWrongID sends a copy of the answer with another message ID
	// first, then the answer.
	FaultWrongID
	// FaultWrongIDOnly sends only the copy with another ID: a client that
	// checks IDs times out.
	FaultWrongIDOnly
	// FaultWrongQuestion sends a copy of the answer for another question
	// (name "wrong-question.invalid.") first, then the answer.
	FaultWrongQuestion
	// FaultOversize pads the answer (an EDNS0 Padding option, or filler
	// records in the additional section without EDNS) beyond any UDP
	// buffer, so that UDP answers are truncated and the full answer comes
	// over TCP with the same records.
	FaultOversize
	// FaultTruncate sets TC (with an empty answer) on every UDP answer;
	// TCP answers normally.
	FaultTruncate
	// FaultMalformed sends bytes with the right ID that do not parse as a
	// DNS message (and nothing else).
	FaultMalformed
	// FaultTruncateTCP sets TC (with an empty answer) on every answer,
	// TCP included, which is malformed: TCP has no size to truncate at.
	FaultTruncateTCP
	// FaultNoTruncate sends UDP answers whole, however much larger than
	// the client's EDNS0 buffer (a server or middlebox that ignores it).
	FaultNoTruncate
	// FaultStripDNSSEC answers as if the query had no DO bit — no RRSIG,
	// NSEC or NSEC3 records — while echoing the DO bit: a forwarder that
	// drops DNSSEC records.
	FaultStripDNSSEC
	// FaultNXDomain answers NXDOMAIN with empty sections, whatever the
	// zones hold: a filtering or captive resolver.
	FaultNXDomain
	// FaultDenyWithoutProof answers NXDOMAIN with the SOA of the zone that
	// holds the name, and with the DO bit its RRSIG — what every negative
	// answer of the zone carries — but no NSEC or NSEC3: an attacker
	// replaying a signed SOA to deny a name that exists.
	FaultDenyWithoutProof
	// FaultServFailDO answers SERVFAIL to queries with the DO bit and
	// normally to queries without it: a resolver or middlebox that cannot
	// handle DNSSEC queries.
	FaultServFailDO
)

var faultNames = [...]string{"none", "servfail", "refused", "drop", "wrong-id", "wrong-id-only",
	"wrong-question", "oversize", "truncate", "malformed", "truncate-tcp", "no-truncate",
	"strip-dnssec", "nxdomain", "deny-without-proof", "servfail-do"}

// String returns the fault's name ("servfail", "drop", ...).
func (f Fault) String() string {
	if int(f) >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// question identifies a question for faults and counters: the canonical
// name and the type (dns.TypeNone matches every type in SetFault).
type question struct {
	name  string
	qtype uint16
}

// faultKey is a question and the transport a fault applies to ("" both).
type faultKey struct {
	question
	network string
}

func questionOf(name string, qtype uint16) question {
	return question{name: strings.ToLower(dns.Fqdn(name)), qtype: qtype}
}

// SetFault makes the server misbehave for name/qtype from now on; qtype
// dns.TypeNone (0) applies to every type of the name, unless a fault for
// the exact type is set. FaultNone removes the fault.
func (s *Server) SetFault(name string, qtype uint16, f Fault) {
	s.setFault(faultKey{questionOf(name, qtype), ""}, f)
}

// SetFaultOn is SetFault for one transport, "udp" or "tcp"; it takes
// precedence over a fault set for both. With FaultTruncate on UDP it lets
// a test break the TCP retry alone (a TCP answer with a wrong ID, a
// malformed one, none).
func (s *Server) SetFaultOn(network, name string, qtype uint16, f Fault) {
	s.setFault(faultKey{questionOf(name, qtype), network}, f)
}

// SetServerFault makes the server misbehave for every question that has
// no fault of its own (SetFault, SetFaultOn): a whole resolver that strips
// DNSSEC records, say. FaultNone removes it.
func (s *Server) SetServerFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serverFault = f
}

func (s *Server) setFault(k faultKey, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == FaultNone {
		delete(s.faults, k)
		return
	}
	s.faults[k] = f
}

// faultFor returns the fault for q over network, most specific first;
// s.mu must be held.
func (s *Server) faultFor(q question, network string) Fault {
	for _, k := range []faultKey{{q, network}, {q, ""}, {question{name: q.name}, network}, {question{name: q.name}, ""}} {
		if f, ok := s.faults[k]; ok {
			return f
		}
	}
	return s.serverFault
}

// QueryCount returns how many queries for name/qtype the server received
// (UDP and TCP, faulted ones included; a truncated UDP query retried over
// TCP counts twice). qtype dns.TypeNone counts every type of the name.
func (s *Server) QueryCount(name string, qtype uint16) int {
	q := questionOf(name, qtype)
	s.mu.Lock()
	defer s.mu.Unlock()
	if qtype != dns.TypeNone {
		return s.counts[q]
	}
	n := 0
	for k, c := range s.counts {
		if k.name == q.name {
			n += c
		}
	}
	return n
}

// QueriesWithDO returns how many of the queries received had the DNSSEC OK
// bit set (RFC 3225).
func (s *Server) QueriesWithDO() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.withDO
}

// TotalQueries returns how many queries the server received in all.
func (s *Server) TotalQueries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// ResetCounts sets every query counter back to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
	s.total, s.withDO = 0, 0
}
