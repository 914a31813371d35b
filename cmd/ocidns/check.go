package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ocidns/ocidns/internal/check"
	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver"
)

func init() {
	register(command{
		name:    "check",
		summary: "lint what a host publishes for discovery, and where it leads",
		usage:   checkUsage,
		run:     runCheck,
	})
}

const checkUsage = "ocidns check [flags] HOST [NAME...]"

const checkAbout = `Look up what HOST publishes — the TXT records at _oci-discovery.HOST, the
SRV records at _oci-registry._tcp.HOST, the document at
https://HOST/.well-known/oci-discovery and their DNSSEC status — judge them
with the parsers and the policy clients use, follow the delegations clients
follow with the discovery algorithm under the same policy (a mapping they
skip as unauthenticated is reported, not followed), and ask each registry
reached GET /v2/.

Each NAME (an image reference under HOST, such as org/app:v1, or
HOST/org/app:v1) is resolved as clients resolve it and checked against the
signing keys HOST publishes (docs/protocol.md §15): a name whose owner
requires a signature and whose digest has none that verifies is an error
(IMAGE_UNSIGNED); the v=ocisig1 records and the well-known "signers" are
judged whether or not names are given (key parses, algorithm known, source
authenticated, answer size).

Findings are printed one a line, "SEVERITY  CODE  message — fix: ...", with
SEVERITY error (names fail or go where the owner did not mean), warning
(works, but not as probably intended, or not for every client) or info.
-o json prints one object a line:
{"severity","code","host","record","message","fix"}.

The check takes the point of view of a client with the same flags: --dns,
--trust-anchor and --trust-ad decide what is authenticated, --dnssec off
stops judging authentication, --no-well-known skips the document.
--timeout bounds the whole check, and each step of it (one lookup, fetch,
probe or discovery); without it, a step gets 10s and the check 30s. A check
cut short prints what it found and exits 1.

Exit status: 0 no error finding, 1 error findings, 2 usage error.`

// hiddenForCheck are resolver flags that mean nothing to a check (a NAME
// is qualified under HOST, and resolved once); they stay accepted, so that
// one set of flags serves every command, but out of the help. The
// credentials flags stay in it: NAMEs are resolved with them.
var hiddenForCheck = []string{"platform", "search", "normalize", "verify", "tag-ttl"}

func runCheck(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("check")
	var f resolverFlags
	addResolverFlags(fs, &f)
	for _, name := range hiddenForCheck {
		_ = fs.MarkHidden(name)
	}
	// A check is many steps, not one resolution: --timeout bounds the whole
	// check and so each step; without it, steps keep their own shorter bound.
	if t := fs.Lookup("timeout"); t != nil {
		t.Usage = "bound on the whole check and on each step (without it: " + check.DefaultTimeout.String() + " a step)"
	}
	noProbe := fs.Bool("no-registry-probe", false, "do not ask the registries reached GET /v2/")
	if code, done := parseFlags(fs, checkUsage, checkAbout, args, stdio); done {
		return code
	}
	if fs.NArg() < 1 {
		return usageError(stdio, "check", "give one HOST, and optionally NAMEs under it")
	}
	names := qualifyNames(fs.Arg(0), fs.Args()[1:])
	for i, n := range names {
		if _, err := reference.Parse(n); err != nil {
			return usageError(stdio, "check", "NAME %q: %v", fs.Arg(i+1), err)
		}
	}
	r, ok := f.newResolver("check", stdio)
	if !ok {
		return exitUsage
	}
	defer r.Close()
	cfg := checkConfig(r, &f, *noProbe, names)
	if fs.Changed("timeout") {
		cfg.Timeout = f.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	host := fs.Arg(0)
	findings, err := check.Run(ctx, host, cfg)
	if errors.Is(err, check.ErrInvalidHost) {
		return usageError(stdio, "check", "%v", err)
	}
	return reportCheck(ctx, stdio, &f, host, findings, err)
}

// checkConfig is the configuration of a check through r's DNS and HTTP
// clients, validator and policy.
func checkConfig(r *resolver.Resolver, f *resolverFlags, noProbe bool, names []string) check.Config {
	return check.Config{
		DNS:             r.DNSClient(),
		HTTP:            r.HTTPClient(),
		Validator:       r.Validator(),
		TrustAD:         r.TrustAD(),
		DNSSECOff:       f.dnssec == "off",
		NoWellKnown:     f.noWellKnown,
		Insecure:        r.Insecure,
		NoRegistryProbe: noProbe,
		Names:           names,
		CheckName:       checkName(r),
	}
}

// reportCheck writes the findings of the check of host, which ended with
// err, and returns the exit code.
func reportCheck(ctx context.Context, stdio IO, f *resolverFlags, host string, findings []check.Finding, err error) int {
	if f.output == "json" {
		for _, fd := range findings {
			writeJSON(stdio.Out, fd)
		}
	} else {
		for _, fd := range findings {
			fmt.Fprintln(stdio.Out, fd.String())
		}
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		fmt.Fprintf(stdio.Err, "ocidns check: %s: stopped at --timeout %v: the findings above are incomplete\n", host, f.timeout)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "ocidns check: %s: %v\n", host, err)
		return exitFailed
	}
	if errs := summarize(stdio.Err, host, findings, f.output == "text"); errs > 0 {
		return exitFailed
	}
	return exitOK
}

// summarize counts the findings by severity, printing the counts to w when
// print is set, and returns the number of errors.
func summarize(w io.Writer, host string, findings []check.Finding, print bool) int {
	var n [3]int
	for _, f := range findings {
		if f.Severity >= check.Info && f.Severity <= check.Error {
			n[f.Severity]++
		}
	}
	if print {
		parts := []string{plural(n[check.Error], "error"), plural(n[check.Warning], "warning"), plural(n[check.Info], "note")}
		fmt.Fprintf(w, "ocidns check: %s: %s\n", host, strings.Join(parts, ", "))
	}
	return n[check.Error]
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// qualifyNames puts host/ before each name that does not start with it.
func qualifyNames(host string, names []string) []string {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	out := make([]string, len(names))
	for i, n := range names {
		if strings.HasPrefix(strings.ToLower(n), h+"/") {
			out[i] = n
		} else {
			out[i] = h + "/" + strings.TrimPrefix(n, "/")
		}
	}
	return out
}

// checkName resolves a name with r, as `ocidns resolve` would, and says
// how its signature fared.
func checkName(r *resolver.Resolver) func(ctx context.Context, name string) check.NameResult {
	return func(ctx context.Context, name string) check.NameResult {
		res, err := r.Resolve(ctx, name)
		var se *resolver.SignatureError
		switch {
		case errors.As(err, &se):
			return check.NameResult{Digest: se.Digest.String(), Err: err, Checked: true, Policy: se.Report.Policy,
				Code: string(resolver.CodeOf(err))}
		case err != nil:
			return check.NameResult{Err: err}
		}
		nr := check.NameResult{Digest: res.Digest.String()}
		if s := res.Signature; s != nil {
			nr.Checked, nr.Verified, nr.Policy = true, s.Verified, s.Policy
			nr.Code, nr.KeyID, nr.Signer = string(s.Code), s.KeyID, string(s.Signer)
		}
		return nr
	}
}
