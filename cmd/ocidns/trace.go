package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/tracepage"
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
	html := fs.String("html", "", "also write the trace page to FILE (- for standard output, instead of the text): the delegation chain, a waterfall of every step and the answer, to open offline")
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
	if *html != "" {
		if werr := writeTracePage(*html, tracepage.NewBody(ref, f.platform, res, events, err), stdio); werr != nil {
			fmt.Fprintln(stdio.Err, "ocidns trace:", werr)
			return exitFailed
		}
	}
	switch {
	case *html == "-":
	case f.output == "json":
		for _, e := range events {
			writeJSON(stdio.Out, e)
		}
	default:
		fmt.Fprintf(stdio.Out, "; <<>> ocidns trace <<>> %s\n", ref)
		printEvents(stdio.Out, events)
	}
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns trace:", oneLine(err.Error()))
		return exitFailed
	}
	if f.output == "text" && *html != "-" {
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

// writeTracePage writes the page of one traced resolution to file, or to
// standard output for "-".
func writeTracePage(file string, b tracepage.Body, stdio IO) error {
	var buf bytes.Buffer
	if err := tracepage.WriteHTML(&buf, b); err != nil {
		return err
	}
	if file == "-" {
		_, err := stdio.Out.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	return nil
}

// printEvents prints trace events the way dig +trace prints hops: when the
// step began (from the start of the trace), what was asked, of whom, the
// outcome, how long it took, and what it decided.
func printEvents(w io.Writer, events []trace.Event) {
	for _, e := range events {
		var b strings.Builder
		fmt.Fprintf(&b, "%+8.1fms %-9s", float64(e.Start.Microseconds())/1000, e.Source)
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
			fmt.Fprintf(&b, " in %s", trace.RoundDuration(e.Duration))
		}
		fmt.Fprintln(w, b.String())
		if e.Decision != "" {
			fmt.Fprintf(w, "%12s-> %s\n", "", e.Decision)
		}
	}
}

const traceAbout = "Resolves one reference and prints every step (DNS queries with server, rcode, TTL and DNSSEC state; DNSSEC validations; well-known fetches; registry requests; authentication; cache) with when it began and how long it took, like dig +trace. -o json prints one event a line, with its ID, the step it is part of (parent) and its discovery hop. --html FILE also writes a page that draws the delegation chain, a waterfall of the steps on a time axis and the answer, and opens offline in a browser."
