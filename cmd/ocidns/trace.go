package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
)

func init() {
	register(command{
		name:    "trace",
		summary: "show every step of one resolution, like dig +trace",
		usage:   "ocidns trace [flags] REF",
		run:     runTrace,
	})
}

func runTrace(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("trace")
	var f resolverFlags
	addResolverFlags(fs, &f)
	if code, done := parseFlags(fs, "ocidns trace [flags] REF", traceAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "trace", "give exactly one REF")
	}
	r, ok := f.newResolver("trace", stdio)
	if !ok {
		return exitUsage
	}
	defer r.Close()
	ref := fs.Arg(0)
	res, events, err := r.Trace(ctx, ref)
	if f.output == "json" {
		for _, e := range events {
			writeJSON(stdio.Out, e)
		}
	} else {
		fmt.Fprintf(stdio.Out, "; <<>> ocidns trace <<>> %s\n", ref)
		printEvents(stdio.Out, events)
	}
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns trace:", oneLine(err.Error()))
		return exitFailed
	}
	if f.output == "text" {
		fmt.Fprintf(stdio.Out, ";; ANSWER: %s\t%s", res.Resolved, res.Digest)
		if res.PlatformDigest != "" {
			fmt.Fprintf(stdio.Out, "\t%s %s", res.Platform, res.PlatformDigest)
		}
		fmt.Fprintf(stdio.Out, "\n;; from %s repository %s, authenticated: %s, ttl %s\n", res.Registry, res.Repository, res.Authenticated, res.TTL)
		if s := res.Signature; s != nil {
			if s.Verified {
				fmt.Fprintf(stdio.Out, ";; SIGNATURE: verified, %s, key %s (%s), signatures %s\n", s.Format, s.KeyID, s.Signer, s.Policy)
			} else {
				fmt.Fprintf(stdio.Out, ";; SIGNATURE: not verified, %s, signatures %s (reported only)\n", s.Code, s.Policy)
			}
		}
	}
	return exitOK
}

// printEvents prints trace events the way dig +trace prints hops: what was
// asked, of whom, the outcome, and what it decided.
func printEvents(w io.Writer, events []trace.Event) {
	var start time.Time
	if len(events) > 0 {
		start = events[0].Time
	}
	for _, e := range events {
		var b strings.Builder
		fmt.Fprintf(&b, "%+8.1fms %-9s", float64(e.Time.Sub(start).Microseconds())/1000, e.Source)
		if e.Query != "" {
			b.WriteString(" " + e.Query)
		}
		if e.Server != "" {
			b.WriteString(" @" + e.Server)
		}
		if e.Outcome != "" {
			b.WriteString(" " + e.Outcome)
		}
		if e.TTL > 0 {
			fmt.Fprintf(&b, " ttl=%s", e.TTL)
		}
		if e.DNSSEC != "" {
			b.WriteString(" dnssec=" + e.DNSSEC)
		}
		if e.Duration > 0 {
			fmt.Fprintf(&b, " in %s", e.Duration.Round(10*time.Microsecond))
		}
		fmt.Fprintln(w, b.String())
		if e.Decision != "" {
			fmt.Fprintf(w, "%12s-> %s\n", "", e.Decision)
		}
	}
}

const traceAbout = "Resolves one reference and prints every step (DNS queries with server, rcode, TTL and DNSSEC state; well-known fetches; registry requests; authentication; cache) with timings, like dig +trace. -o json prints one event a line."
