package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ocidns/ocidns/resolver"
)

func init() {
	register(command{
		name:    "resolve",
		summary: "print the manifest digest of each reference, one a line",
		usage:   "ocidns resolve [flags] REF...",
		run:     runResolve,
	})
}

// resolveJSON is one line of `ocidns resolve -o json`.
type resolveError struct {
	Ref   string        `json:"ref"`
	Error string        `json:"error"`
	Code  resolver.Code `json:"code"`
}

func runResolve(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("resolve")
	f := resolverFlags{outputs: []string{"ref"}}
	addResolverFlags(fs, &f)
	if code, done := parseFlags(fs, "ocidns resolve [flags] REF...", resolveAbout, args, stdio); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stdio, "resolve", "no reference given")
	}
	r, ok := f.newResolver("resolve", stdio)
	if !ok {
		return exitUsage
	}
	defer r.Close()
	status := exitOK
	for _, ref := range fs.Args() {
		res, err := r.Resolve(ctx, ref)
		if err != nil {
			status = exitFailed
			fmt.Fprintln(stdio.Err, "ocidns resolve:", oneLine(err.Error()))
			if f.output == "json" {
				writeJSON(stdio.Out, resolveError{Ref: ref, Error: err.Error(), Code: resolver.CodeOf(err)})
			}
			continue
		}
		if s := res.Signature; s != nil && !s.Verified {
			// Optional: the digest stands, and the user is told.
			fmt.Fprintf(stdio.Err, "ocidns resolve: %s: signature not verified (%s), reported only: signatures are optional for this name\n", ref, s.Code)
		}
		switch f.output {
		case "json":
			writeJSON(stdio.Out, res)
			continue
		case "ref":
			fmt.Fprintln(stdio.Out, res.Pinned)
			continue
		}
		d := res.Digest
		if res.PlatformDigest != "" {
			d = res.PlatformDigest
		}
		fmt.Fprintln(stdio.Out, d)
	}
	return status
}

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	w.Write(append(b, '\n'))
}

const resolveAbout = "Resolves each reference (docker or appc form) to its manifest digest and prints one digest a line, in input order, like crane digest; with a platform, the platform manifest's digest. -o ref prints instead one pullable reference pinned to that digest, registry-host[:port]/repository@sha256:..., like crane digest --full-ref, for any engine: podman run \"$(ocidns resolve -o ref NAME)\". -o json prints one object per reference with the pinned reference, the OCI descriptor, the registry, repository, every endpoint, authentication, cache state, TTL and, when keys apply, the signature: {verified, keyId, format, signer: dns|https|config, policy, requiredBy, and code and error when not verified}. A digest is checked against the keys its owner publishes (DNSSEC-signed TXT or the HTTPS well-known document) and --trust-key; under sign=required or --require-signature a missing or invalid signature fails the reference (exit 1, SIGNATURE_MISSING, SIGNATURE_INVALID, NO_USABLE_KEY, SIGNATURE_UNFETCHABLE)."
