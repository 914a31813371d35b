package signature

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/bytesize"
)

// Request says what to verify: that an owner's key signed the digest a
// name resolved to.
type Request struct {
	// Digest is the resolved manifest digest.
	Digest digest.Digest
	// RequestedName is the name as asked for, host/path
	// ("example.com/org/app"), without tag or digest.
	RequestedName string
	// RequestedTag is the tag asked for; "" when asked by digest.
	RequestedTag string
	// RegistryRepository is the repository the digest was resolved at,
	// host[:port]/path ("registry.example.net/org/app"): what cosign writes
	// as the docker-reference when it signs there.
	RegistryRepository string
	// Keys are the keys a signature may be made with. Keys of unknown
	// algorithms never occur (ParseKey refuses them); nil entries are
	// ignored; past MaxKeys the rest are not tried.
	Keys []*Key
}

func (r *Request) validate() error {
	if err := r.Digest.Validate(); err != nil {
		return fmt.Errorf("signature: request digest %q: %w", r.Digest, err)
	}
	if r.RequestedName == "" && r.RegistryRepository == "" {
		return errors.New("signature: request names no repository")
	}
	return nil
}

// Format names a cosign signature format.
type Format string

// cosign's two ways of storing a signature.
const (
	// FormatSimpleSigning is the tag format: simple-signing payloads as
	// layers of the manifest at tag sha256-<hex>.sig.
	FormatSimpleSigning Format = "simplesigning"
	// FormatBundle is the bundle format: a sigstore bundle v0.3 holding a
	// DSSE envelope of an in-toto statement, in a referrer manifest.
	FormatBundle Format = "bundle"
)

// Reason is why one attempt did not verify, as data for the trace.
type Reason string

// Reasons an attempt failed.
const (
	// ReasonNotFound: nothing stored there (no .sig tag, no referrers).
	ReasonNotFound Reason = "not-found"
	// ReasonFetch: the registry did not answer usefully (error status,
	// transport error, deadline).
	ReasonFetch Reason = "fetch-failed"
	// ReasonTooLarge: over a bound of this package; not fetched, or not
	// read past the bound.
	ReasonTooLarge Reason = "too-large"
	// ReasonTooMany: past MaxSignatureLayers or MaxBundles; not tried.
	ReasonTooMany Reason = "too-many"
	// ReasonDigestMismatch: content does not match its descriptor.
	ReasonDigestMismatch Reason = "digest-mismatch"
	// ReasonMalformed: not the format it claims to be.
	ReasonMalformed Reason = "malformed"
	// ReasonUnsupported: well formed, but of a kind this package does not
	// verify (keyless certificates).
	ReasonUnsupported Reason = "unsupported"
	// ReasonBadSignature: no key of the request verifies it.
	ReasonBadSignature Reason = "bad-signature"
	// ReasonWrongDigest: validly signed, for another image.
	ReasonWrongDigest Reason = "wrong-digest"
	// ReasonWrongIdentity: validly signed, for another repository.
	ReasonWrongIdentity Reason = "wrong-identity"
	// ReasonWrongTag: validly signed, for another tag of the repository.
	ReasonWrongTag Reason = "wrong-tag"
	// ReasonNotASignature: another artifact (an attestation of another
	// predicate type, an SBOM) stored the same way; skipped.
	ReasonNotASignature Reason = "not-a-signature"
)

// found reports whether an attempt with this reason got as far as a
// signature (so its failure makes the result SIGNATURE_INVALID).
func (r Reason) found() bool {
	switch r {
	case ReasonNotFound, ReasonFetch, ReasonNotASignature:
		return false
	}
	return true
}

// Attempt is one place a signature was looked for or one signature tried,
// in the order tried.
type Attempt struct {
	Format Format
	// Where names the object: "tag sha256-<hex>.sig",
	// "tag sha256-<hex>.sig layer 0", "referrers", "referrer sha256:...".
	Where string
	// Digest is the digest of the payload or bundle tried, when known.
	Digest digest.Digest
	// KeyID is the ID of the key that verified the signature, when one did.
	KeyID string
	// Reason is "" for the attempt that verified.
	Reason Reason
	// Err is the detail of a failure.
	Err error
}

// String renders the attempt for a trace line.
func (a Attempt) String() string {
	var b strings.Builder
	b.WriteString(string(a.Format))
	b.WriteString(" ")
	b.WriteString(a.Where)
	if a.Reason == "" {
		b.WriteString(": verified with key ")
		b.WriteString(a.KeyID)
		return b.String()
	}
	b.WriteString(": ")
	b.WriteString(string(a.Reason))
	if a.Err != nil {
		b.WriteString(": ")
		b.WriteString(a.Err.Error())
	}
	return b.String()
}

// Code is the stable machine-readable name of a verification failure.
type Code string

// Failure codes.
const (
	// CodeMissing: no signature is stored for the digest.
	CodeMissing Code = "SIGNATURE_MISSING"
	// CodeInvalid: signatures are stored, and none verifies for this name
	// and digest with the request's keys.
	CodeInvalid Code = "SIGNATURE_INVALID"
	// CodeNoUsableKey: the request has no key of a known algorithm.
	CodeNoUsableKey Code = "NO_USABLE_KEY"
	// CodeUnfetchable: the registry could not be asked (errors, deadline)
	// and nothing stored was found invalid.
	CodeUnfetchable Code = "SIGNATURE_UNFETCHABLE"
)

// Sentinels of the failure codes, for errors.Is.
var (
	ErrMissing     = errors.New("no signature found")
	ErrInvalid     = errors.New("no signature verifies")
	ErrNoUsableKey = errors.New("no usable key")
	ErrUnfetchable = errors.New("signatures could not be fetched")
)

func (c Code) sentinel() error {
	switch c {
	case CodeMissing:
		return ErrMissing
	case CodeNoUsableKey:
		return ErrNoUsableKey
	case CodeUnfetchable:
		return ErrUnfetchable
	}
	return ErrInvalid
}

// Result is the outcome of one verification.
type Result struct {
	// Verified is set when a signature verified; KeyID, Format and Signer
	// then say by which key, in which format, on whose authority.
	Verified bool
	KeyID    string
	Format   Format
	Signer   Source
	// Code is the failure code when not Verified.
	Code Code
	// Attempts lists every place looked and every signature tried.
	Attempts []Attempt
}

// Err returns nil when the result is verified, otherwise an *Error with
// the code and the attempts.
func (r Result) Err() error {
	if r.Verified {
		return nil
	}
	c := r.Code
	if c == "" {
		c = CodeInvalid
	}
	return &Error{Code: c, Attempts: r.Attempts}
}

// Error is a verification failure: its code and what was tried. errors.Is
// matches the code's sentinel (ErrMissing, ErrInvalid, ErrNoUsableKey,
// ErrUnfetchable).
type Error struct {
	Code     Code
	Attempts []Attempt
}

// Error names the code and the failed attempts (at most 4).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Code.sentinel().Error())
	n := 0
	for _, a := range e.Attempts {
		if a.Reason == "" {
			continue
		}
		if n == 4 {
			fmt.Fprintf(&b, "; and %d more", len(e.Attempts)-4)
			break
		}
		b.WriteString("; ")
		b.WriteString(a.String())
		n++
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool { return target == e.Code.sentinel() }

// Verify looks for cosign signatures of req.Digest through f and checks
// them with req.Keys: first the tag format (one manifest GET, then one blob
// GET per signature layer until one verifies), then, when that finds no
// valid signature, the bundle format (referrers, falling back to the
// referrers tag schema; then a manifest and a blob GET per bundle).
//
// A signature verifies when its bytes match their descriptor, one of the
// keys verifies the signature over the exact signed bytes, and then the
// signed document, parsed strictly, names req.Digest (and, in the tag
// format, a docker-reference whose repository is req.RequestedName or
// req.RegistryRepository and whose tag, when it has one and a tag was
// requested, is req.RequestedTag).
//
// The error is non-nil only for a malformed Request (a bad digest, no
// repository); a verification failure is a Result with a Code. Verify
// reads at most the bounds documented on MaxSignatureManifestBytes and
// the others, and returns when ctx is done.
func Verify(ctx context.Context, f Fetcher, req Request) (Result, error) {
	if err := req.validate(); err != nil {
		return Result{}, err
	}
	v := &verifier{ctx: ctx, f: f, req: req}
	for _, k := range req.Keys {
		if k != nil && k.alg.Known() && len(v.keys) < MaxKeys {
			v.keys = append(v.keys, k)
		}
	}
	if len(v.keys) == 0 {
		return Result{Code: CodeNoUsableKey}, nil
	}
	if !v.tagFormat() {
		v.bundleFormat()
	}
	return v.result(), nil
}

// verifier is one Verify call's state.
type verifier struct {
	ctx      context.Context
	f        Fetcher
	req      Request
	keys     []*Key
	attempts []Attempt
	winner   *Key
	format   Format
}

func (v *verifier) fail(format Format, where string, d digest.Digest, reason Reason, err error) {
	v.attempts = append(v.attempts, Attempt{Format: format, Where: where, Digest: d, Reason: reason, Err: err})
}

func (v *verifier) succeed(format Format, where string, d digest.Digest, k *Key) {
	v.attempts = append(v.attempts, Attempt{Format: format, Where: where, Digest: d, KeyID: k.ID()})
	v.winner, v.format = k, format
}

// fetchFailure classifies a Fetcher error.
func fetchFailure(err error) Reason {
	switch {
	case errors.Is(err, ErrNotFound):
		return ReasonNotFound
	case errors.Is(err, ErrTooLarge):
		return ReasonTooLarge
	}
	return ReasonFetch
}

// result decides the code: a verified signature wins; otherwise a
// signature found but not verifying is SIGNATURE_INVALID; otherwise an
// unanswered request is SIGNATURE_UNFETCHABLE (what was not seen might
// have verified); otherwise SIGNATURE_MISSING.
func (v *verifier) result() Result {
	r := Result{Attempts: v.attempts}
	if v.winner != nil {
		r.Verified, r.KeyID, r.Format, r.Signer = true, v.winner.ID(), v.format, v.winner.source
		return r
	}
	r.Code = CodeMissing
	for _, a := range v.attempts {
		switch {
		case a.Reason.found():
			r.Code = CodeInvalid
			return r
		case a.Reason == ReasonFetch:
			r.Code = CodeUnfetchable
		}
	}
	return r
}

// keyFor returns the first key that verifies sig over the message,
// trying first the keys hint names (an unauthenticated hint only orders
// the keys; every key is tried).
func (v *verifier) keyFor(m *digests, sig []byte, hint string) *Key {
	if hint != "" {
		for _, k := range v.keys {
			if k.matchesHint(hint) && k.verify(m, sig) {
				return k
			}
		}
	}
	for _, k := range v.keys {
		if (hint == "" || !k.matchesHint(hint)) && k.verify(m, sig) {
			return k
		}
	}
	return nil
}

// fetchBlob fetches a blob after checking its descriptor against limit,
// and checks what came against the descriptor.
func (v *verifier) fetchBlob(d digest.Digest, size, limit int64) ([]byte, Reason, error) {
	if reason, err := checkDescriptor(d, size, limit); err != nil {
		return nil, reason, err
	}
	if !d.Algorithm().Available() {
		return nil, ReasonMalformed, fmt.Errorf("digest algorithm %q is not supported", d.Algorithm())
	}
	body, err := v.f.Blob(v.ctx, d, size)
	if err != nil {
		r := fetchFailure(err)
		if r == ReasonNotFound {
			// The manifest names it; its absence is the registry's fault.
			r = ReasonFetch
		}
		return nil, r, fmt.Errorf("GET blob %s: %w", d, err)
	}
	if err := blobCheck(body, d, size); err != nil {
		return nil, ReasonDigestMismatch, err
	}
	return body, "", nil
}

// fetchManifest fetches ref, bounded by limit; when want is set, the body
// must have its digest and size, and no more is read.
func (v *verifier) fetchManifest(ref string, limit int64, want *descriptor) (*manifestDoc, Reason, error) {
	if want != nil {
		if reason, err := checkDescriptor(want.Digest, want.Size, limit); err != nil {
			return nil, reason, err
		}
		if !want.Digest.Algorithm().Available() {
			return nil, ReasonMalformed, fmt.Errorf("digest algorithm %q is not supported", want.Digest.Algorithm())
		}
	}
	fetchLimit := limit
	if want != nil {
		fetchLimit = want.Size
	}
	body, _, err := v.f.Manifest(v.ctx, ref, fetchLimit)
	if err != nil {
		return nil, fetchFailure(err), fmt.Errorf("GET manifest %s: %w", ref, err)
	}
	if int64(len(body)) > limit {
		return nil, ReasonTooLarge, fmt.Errorf("%w: manifest %s is over the %s limit", ErrTooLarge, ref, bytesize.Limit(limit))
	}
	if want != nil {
		if err := blobCheck(body, want.Digest, want.Size); err != nil {
			return nil, ReasonDigestMismatch, err
		}
	}
	m, err := parseManifest(body)
	if err != nil {
		return nil, ReasonMalformed, fmt.Errorf("manifest %s: %w", ref, err)
	}
	return m, "", nil
}
