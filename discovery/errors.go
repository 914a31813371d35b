package discovery

import (
	"errors"
	"strings"
)

// Sentinel errors of the delegation algorithm. Source-specific sentinels
// live beside their sources: dnsclient.ErrUnknown, dnssec.ErrBogus,
// ErrWellKnownUnknown, ErrConflict, ErrMalformed.
var (
	// ErrLoop: a (host, path) pair was visited twice.
	ErrLoop = errors.New("delegation loop")
	// ErrTooManyHops: the chain is longer than Options.MaxHops.
	ErrTooManyHops = errors.New("too many delegation hops")
	// ErrNoRegistry: the host's SRV record says "no registry here" (target
	// ".") and no other source maps the name.
	ErrNoRegistry = errors.New("no registry for this name")
	// ErrInvalidName: the name to discover is not host/path with a valid host.
	ErrInvalidName = errors.New("invalid name")
)

// Error is a discovery failure. It names the step that failed (the query or
// fetch, e.g. "TXT _oci-discovery.example.com."), the host whose namespace
// was being examined, the record at fault when there is one, and the cause.
type Error struct {
	Name   string // the name being discovered, host/path
	Host   string // the host at the failing hop
	Step   string // what was being done
	Record string // the record or document entry at fault, if any
	Err    error
	// Hops are the reports of the hops up to and including the failing
	// one (none when the name itself is invalid).
	Hops []HopReport
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("discovery of ")
	b.WriteString(e.Name)
	b.WriteString(": ")
	b.WriteString(e.Step)
	if e.Host != "" && !strings.Contains(e.Step, e.Host) {
		b.WriteString(" (host ")
		b.WriteString(e.Host)
		b.WriteString(")")
	}
	if e.Record != "" {
		b.WriteString(": record ")
		b.WriteString(quote(e.Record))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
