package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/reference"
)

func init() {
	register(command{
		name:    "discover",
		summary: "show the endpoints that serve a name and the delegation chain",
		usage:   "ocidns discover [flags] NAME",
		run:     runDiscover,
	})
}

// discoverJSON is the object `ocidns discover -o json` prints.
type discoverJSON struct {
	Name      string           `json:"name"`
	Endpoints []endpointJSON   `json:"endpoints"`
	Chain     []discovery.Step `json:"chain"`
	TTL       int64            `json:"ttl"`
	DNSSECOff bool             `json:"dnssecOff,omitempty"`
	DNSSEC    string           `json:"dnssec,omitempty"`
	Stale     bool             `json:"stale,omitempty"`
	// Signers is what the owners published about signatures
	// (docs/protocol.md §15.2).
	Signers *discovery.SignerPolicy `json:"signers,omitempty"`
}

type endpointJSON struct {
	discovery.Endpoint
	Capabilities []string `json:"capabilities"`
}

func runDiscover(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("discover")
	var f resolverFlags
	addResolverFlags(fs, &f)
	if code, done := parseFlags(fs, "ocidns discover [flags] NAME", discoverAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "discover", "give exactly one NAME")
	}
	r, ok := f.newResolver("discover", stdio)
	if !ok {
		return exitUsage
	}
	defer r.Close()
	name := fs.Arg(0)
	host, path, err := splitName(name, f)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns discover:", oneLine(err.Error()))
		return exitFailed
	}
	tr := trace.New(nil)
	res, err := r.Discover(trace.NewContext(ctx, tr), host, path)
	if err != nil {
		if f.output == "text" {
			printEvents(stdio.Out, tr.Events())
		}
		fmt.Fprintln(stdio.Err, "ocidns discover:", oneLine(err.Error()))
		return exitFailed
	}
	if f.output == "json" {
		out := discoverJSON{Name: res.Name, Chain: res.Chain, TTL: int64(res.TTL.Seconds()), DNSSECOff: res.DNSSECOff, DNSSEC: res.DNSSEC, Stale: res.Stale, Signers: res.Signers}
		for _, ep := range res.Endpoints {
			out.Endpoints = append(out.Endpoints, endpointJSON{Endpoint: ep, Capabilities: ep.Caps.Strings()})
		}
		writeJSON(stdio.Out, out)
		return exitOK
	}
	printDiscovery(stdio.Out, res)
	return exitOK
}

// printDiscovery writes res as text, in the manner of dig: the chain, the
// endpoints and the signing keys.
func printDiscovery(w io.Writer, res *discovery.Result) {
	fmt.Fprintf(w, "; <<>> ocidns discover <<>> %s\n", res.Name)
	if res.DNSSECOff {
		fmt.Fprintln(w, "; WARNING: --dnssec off: unauthenticated mappings were followed")
	}
	fmt.Fprintln(w, ";; delegation chain:")
	for i, s := range res.Chain {
		rec := s.Record
		if rec == "" {
			rec = "(none: " + s.Host + " is its own registry)"
		}
		fmt.Fprintf(w, "%d. %s/%s\t%s\tttl=%s\tauth=%s\n   %s\n", i+1, s.Host, s.Path, s.Source, s.TTL, s.Authenticated, rec)
	}
	fmt.Fprintf(w, ";; endpoints (ttl %s):\n", res.TTL)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "URL\tREPOSITORY\tPRIO\tWEIGHT\tCAPS\tSOURCE\tAUTH")
	for _, ep := range res.Endpoints {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", ep.URL, ep.Repository, ep.Priority, ep.Weight, ep.Caps, ep.Source, ep.Authenticated)
	}
	tw.Flush()
	if p := res.Signers; p != nil {
		fmt.Fprintf(w, ";; signing keys of %s: %s", p.Host, p.Signers)
		if p.RequiredBy != "" {
			fmt.Fprintf(w, " (required by %s)", p.RequiredBy)
		}
		fmt.Fprintln(w)
		for _, k := range p.Keys {
			fmt.Fprintf(w, "   %s from %s: %s\n", k.Alg, k.Source, k.Record)
		}
	}
}

// splitName takes NAME as host/path, or as a reference whose tag or digest is
// ignored; short names are qualified like resolve would (first search domain
// or --normalize).
func splitName(name string, f resolverFlags) (host, path string, err error) {
	parse := reference.Parse
	if f.normalize {
		parse = reference.ParseNormalized
	}
	ref, err := parse(name)
	if err != nil {
		return "", "", err
	}
	if ref.Form() == reference.FormAppc {
		if ref, err = ref.ToDocker(); err != nil {
			return "", "", err
		}
	}
	if ref.IsShort() {
		if len(f.search) == 0 {
			return "", "", fmt.Errorf("short name %q has no domain: write it in full, or pass --search DOMAIN or --normalize", name)
		}
		if ref, err = ref.WithDomain(f.search[0]); err != nil {
			return "", "", err
		}
	}
	return ref.Domain(), ref.Path(), nil
}

// oneLine keeps an error message on one line: errors go to standard error
// one line each (README, Command-line reference).
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

const discoverAbout = "Runs discovery only: prints the endpoints that serve NAME (registry URL, repository, priority, weight, capabilities, source, authentication) and the delegation chain that produced them, hop by hop with each record and TTL, and the signing keys that apply to NAME with whether a signature is required (JSON: signers)."
