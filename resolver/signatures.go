package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver/signature"
)

// This file checks a resolution against the owner's signing policy
// (protocol.md §15): which keys apply and whether a signature is required
// (the owner's published keys and sign=, the user's --trust-key and
// --require-signature), then cosign's signatures of the resolved digest,
// read from the repository it was resolved at.

// Signature is what signature checking found for a resolution.
type Signature struct {
	// Verified is set when a signature verified; KeyID, Format and Signer
	// then say with which key, in which of cosign's formats
	// ("simplesigning" or "bundle"), and on whose authority the key was
	// trusted: "dns" (a DNSSEC-secure TXT record of the owner), "https"
	// (the owner's well-known document over verified TLS) or "config"
	// (the user's --trust-key).
	Verified bool             `json:"verified"`
	KeyID    string           `json:"keyId,omitempty"`
	Format   signature.Format `json:"format,omitempty"`
	Signer   signature.Source `json:"signer,omitempty"`
	// Digest is the digest whose signature was checked: the manifest or
	// index the reference names, which is what cosign signs when given
	// the same reference (with a platform selected, the index: its
	// signature covers the platform's manifest through its digest).
	Digest digest.Digest `json:"digest"`
	// Policy is "required" or "optional"; RequiredBy names who required
	// it: the owner's host (the host in the chain that published
	// sign=required) or "--require-signature".
	Policy     string `json:"policy"`
	RequiredBy string `json:"requiredBy,omitempty"`
	// Keys is how many keys were tried (at most signature.MaxKeys).
	Keys int `json:"keys"`
	// Code and Error say why nothing verified: SIGNATURE_MISSING,
	// SIGNATURE_INVALID, NO_USABLE_KEY or SIGNATURE_UNFETCHABLE. Under
	// "optional" the resolution succeeds with them set.
	Code  Code   `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	// Attempts lists every place looked and every signature tried, in
	// order, when nothing verified; the trace has one event for each in
	// every case. A verified result, kept in the cache, does without them.
	Attempts []signature.Attempt `json:"-"`
}

// readTrustKey reads a PEM public key file as --trust-key names it.
func readTrustKey(path string) (*signature.Key, error) {
	k, err := signature.ReadPEMFile(path, signature.SourceConfig)
	if err != nil {
		return nil, fmt.Errorf("--trust-key: %w", err)
	}
	return k, nil
}

// signaturePlan is what checking one resolution takes: the policy, who set
// it, the keys, and the owner's keys that could not be used.
type signaturePlan struct {
	policy     signature.Policy
	requiredBy string
	keys       []*signature.Key
	unusable   []string
}

// planSignature decides whether a resolution's signature is checked, and
// how (protocol.md §15.3). owner is what discovery found along the chain
// (nil: no host published a key from an authenticated source). Nothing is
// checked when no one requires a signature and there is nothing to check
// with (no key published for the name, no --trust-key), or when the user
// turned checking off and the owner does not require it.
func (r *engine) planSignature(owner *discovery.SignerPolicy) (signaturePlan, bool) {
	ownerRequired := owner != nil && owner.Sign == discovery.SignRequired
	if r.opts.noVerifySigs && !ownerRequired {
		return signaturePlan{}, false
	}
	p := signaturePlan{policy: signature.PolicyOptional}
	if ownerRequired {
		p.policy, p.requiredBy = signature.PolicyRequired, owner.RequiredBy
	}
	if r.opts.requireSignature {
		if p.requiredBy == "" {
			p.requiredBy = "--require-signature"
		} else {
			p.requiredBy += ", --require-signature"
		}
		p.policy = signature.PolicyRequired
	}
	if owner != nil {
		for _, pk := range owner.Keys {
			k, err := signature.ParseKey(signature.Algorithm(pk.Alg), pk.DER, keySource(pk.Source))
			if err != nil {
				// Not a usable key of its algorithm: it counts for the
				// prefix and the policy, never as a key (§15.1).
				p.unusable = append(p.unusable, fmt.Sprintf("%s: %v", pk.Record, err))
				continue
			}
			p.keys = append(p.keys, k)
		}
	}
	p.keys = append(p.keys, r.trustKeys...)
	if p.policy == signature.PolicyOptional && len(p.keys) == 0 && (owner == nil || !owner.Found) {
		return signaturePlan{}, false
	}
	return p, true
}

// keySource maps where discovery read a key to the source a result names.
func keySource(s discovery.Source) signature.Source {
	if s == discovery.SourceWellKnown {
		return signature.SourceHTTPS
	}
	return signature.SourceDNS
}

// checkSignature verifies the signature of res.Digest with plan's keys,
// reading from the endpoint res was resolved at, and sets res.Signature.
// Under required a result that is not verified is an *Error wrapping
// ErrSignatureMissing, ErrSignatureInvalid, ErrNoUsableKey or
// ErrSignatureUnfetchable; under optional it is reported only.
func (r *engine) checkSignature(ctx context.Context, input string, ref reference.Reference, res *Result, eps []discovery.Endpoint, plan signaturePlan) error {
	tr := trace.FromContext(ctx)
	ep, ok := answeringEndpoint(eps, res.Registry, res.Repository)
	if !ok {
		return newError(input, "", "signature", ErrUpstream, fmt.Errorf("no endpoint %s/%s to read signatures from", res.Registry, res.Repository))
	}
	c := r.registryFor(ep)
	t, err := c.target(ep, input)
	if err != nil {
		return err
	}
	req, host := signatureRequest(ref, res.Digest, t, plan.keys), t.host
	tr.Add(trace.Event{Source: "signature", Query: res.Digest.String(), Server: host,
		Decision: planText(plan) + "; looking for cosign signatures in " + req.RegistryRepository})
	for _, n := range plan.unusable {
		tr.Add(trace.Event{Source: "signature", Outcome: "unusable key", Decision: "published key not used: " + n})
	}

	start := r.opts.now()
	vr, err := signature.Verify(ctx, signatureFetcher{c: c, t: t, tr: tr}, req)
	if err != nil {
		return newError(input, host, "signature", ErrInvalidReference, err)
	}
	traceAttempts(tr, host, vr.Attempts)
	return judgeSignature(tr, input, host, res, plan, vr, r.opts.now().Sub(start))
}

// signatureRequest is what is verified for digest d resolved at t: the
// name as requested, with its tag ("latest" when none was written; none
// for a request by digest), and the repository at the registry.
func signatureRequest(ref reference.Reference, d digest.Digest, t *target, keys []*signature.Key) signature.Request {
	req := signature.Request{
		Digest:             d,
		RequestedName:      ref.Domain() + "/" + ref.Path(),
		RegistryRepository: t.host + "/" + t.repo,
		Keys:               keys,
	}
	if ref.Digest() == "" {
		req.RequestedTag = ref.Tag()
		if req.RequestedTag == "" {
			req.RequestedTag = "latest"
		}
	}
	return req
}

// traceAttempts adds an event for every place looked and signature tried.
func traceAttempts(tr *trace.Trace, host string, attempts []signature.Attempt) {
	for _, a := range attempts {
		ev := trace.Event{Source: "signature", Query: string(a.Format) + " " + a.Where, Server: host, Outcome: string(a.Reason)}
		switch {
		case a.Reason == "":
			ev.Outcome, ev.Decision = "verified", "verified with key "+a.KeyID
		case a.Err != nil:
			ev.Decision = a.Err.Error()
		}
		tr.Add(ev)
	}
}

// judgeSignature sets res.Signature from the verification vr, which took
// took, and applies the plan's policy to it: nil when a signature verified
// or signatures are optional, the resolution's *Error otherwise.
func judgeSignature(tr *trace.Trace, input, host string, res *Result, plan signaturePlan, vr signature.Result, took time.Duration) error {
	sig := &Signature{Verified: vr.Verified, KeyID: vr.KeyID, Format: vr.Format, Signer: vr.Signer, Digest: res.Digest,
		Policy: plan.policy.String(), RequiredBy: plan.requiredBy, Keys: min(len(plan.keys), signature.MaxKeys), Attempts: vr.Attempts}
	res.Signature = sig
	ev := trace.Event{Source: "signature", Query: res.Digest.String(), Server: host, Outcome: string(vr.Code), Duration: took}
	if vr.Verified {
		sig.Attempts = nil
		ev.Outcome, ev.Decision = "verified", fmt.Sprintf("verified: %s signature by key %s (%s)", vr.Format, vr.KeyID, vr.Signer)
		tr.Add(ev)
		return nil
	}
	sig.Code, sig.Error = Code(vr.Code), vr.Err().Error()
	why := signatureKind(vr.Code).Error()
	if plan.policy.Check(vr) == nil {
		ev.Decision = why + ": reported only, signatures are optional for this name"
		tr.Add(ev)
		return nil
	}
	ev.Decision = why + ": the resolution fails, a signature is required by " + plan.requiredBy
	tr.Add(ev)
	return newError(input, host, "signature", signatureKind(vr.Code), &SignatureError{Digest: res.Digest, RequiredBy: plan.requiredBy, Report: sig})
}

// SignatureError is the cause of a resolution the signing policy refused
// (an *Error of kind ErrSignatureMissing, ErrSignatureInvalid,
// ErrNoUsableKey or ErrSignatureUnfetchable): which digest, who required
// the signature, and the report with every attempt.
type SignatureError struct {
	Digest     digest.Digest
	RequiredBy string
	Report     *Signature
}

// Error names the code, what was found and who required a signature.
func (e *SignatureError) Error() string {
	return fmt.Sprintf("%s of %s (required by %s)", e.Report.Error, e.Digest, e.RequiredBy)
}

// planText describes a plan for the trace.
func planText(p signaturePlan) string {
	var b strings.Builder
	b.WriteString("signatures ")
	b.WriteString(p.policy.String())
	if p.requiredBy != "" {
		b.WriteString(" by ")
		b.WriteString(p.requiredBy)
	}
	fmt.Fprintf(&b, "; %d key(s)", len(p.keys))
	for i, k := range p.keys {
		if i == signature.MaxKeys {
			fmt.Fprintf(&b, " (only the first %d are tried)", signature.MaxKeys)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k.String())
	}
	return b.String()
}

// signatureKind maps a verification failure code to the resolver's
// sentinel.
func signatureKind(c signature.Code) error {
	switch c {
	case signature.CodeMissing:
		return ErrSignatureMissing
	case signature.CodeNoUsableKey:
		return ErrNoUsableKey
	case signature.CodeUnfetchable:
		return ErrSignatureUnfetchable
	}
	return ErrSignatureInvalid
}

// signatureVerdict reports whether err says the owner's policy refused the
// resolution for what is stored or published (missing, invalid, no usable
// key): an answer, not an outage, so a cached answer must not be served
// stale in its place.
func signatureVerdict(err error) bool {
	return errors.Is(err, ErrSignatureMissing) || errors.Is(err, ErrSignatureInvalid) || errors.Is(err, ErrNoUsableKey)
}

// answeringEndpoint finds the endpoint a resolution was answered by.
func answeringEndpoint(eps []discovery.Endpoint, registry, repository string) (discovery.Endpoint, bool) {
	for _, ep := range eps {
		if ep.URL == registry && ep.Repository == repository && ep.Caps.Has(discovery.CapResolve) {
			return ep, true
		}
	}
	return discovery.Endpoint{}, false
}

// signatureTTL bounds how long a checked resolution is cached: no longer
// than the keys and policy it was checked with.
func signatureTTL(res *Result, disc time.Duration) {
	if res.Signature == nil || disc <= 0 || disc >= res.TTL {
		return
	}
	res.TTL = disc
	res.TTLSeconds = int64(res.TTL / time.Second)
}
