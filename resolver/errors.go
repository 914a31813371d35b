package resolver

import (
	"errors"
)

// Sentinel errors; every error Resolve returns wraps exactly one of them and
// is an *Error carrying the reference, host and step.
var (
	ErrInvalidReference = errors.New("invalid reference")
	ErrNotFound         = errors.New("not found")
	ErrUnauthorized     = errors.New("unauthorized")
	ErrDiscovery        = errors.New("discovery failed")
	ErrDigestMismatch   = errors.New("digest mismatch")
	ErrTooLarge         = errors.New("response too large")
	ErrTimeout          = errors.New("timeout")
	ErrUpstream         = errors.New("upstream error")

	// The signature sentinels (protocol.md §15.4): the resolution was
	// checked against the owner's policy and nothing verified. Under
	// sign=required they fail it; under optional they are reported in
	// Result.Signature instead.
	ErrSignatureMissing     = errors.New("signature missing")
	ErrSignatureInvalid     = errors.New("signature invalid")
	ErrNoUsableKey          = errors.New("no usable signing key")
	ErrSignatureUnfetchable = errors.New("signature unfetchable")
)

// Code is the stable machine-readable name of an error class, as printed in
// `-o json` output and returned by the daemon.
type Code string

// Error codes, one per sentinel.
const (
	CodeInvalidReference Code = "INVALID_REFERENCE"
	CodeNotFound         Code = "NOT_FOUND"
	CodeUnauthorized     Code = "UNAUTHORIZED"
	CodeDiscovery        Code = "DISCOVERY_FAILED"
	CodeDigestMismatch   Code = "DIGEST_MISMATCH"
	CodeTooLarge         Code = "TOO_LARGE"
	CodeTimeout          Code = "TIMEOUT"
	CodeUpstream         Code = "UPSTREAM_ERROR"

	CodeSignatureMissing     Code = "SIGNATURE_MISSING"
	CodeSignatureInvalid     Code = "SIGNATURE_INVALID"
	CodeNoUsableKey          Code = "NO_USABLE_KEY"
	CodeSignatureUnfetchable Code = "SIGNATURE_UNFETCHABLE"
)

var codes = []struct {
	err  error
	code Code
}{
	{ErrInvalidReference, CodeInvalidReference},
	{ErrNotFound, CodeNotFound},
	{ErrUnauthorized, CodeUnauthorized},
	{ErrDigestMismatch, CodeDigestMismatch},
	{ErrTooLarge, CodeTooLarge},
	{ErrTimeout, CodeTimeout},
	{ErrDiscovery, CodeDiscovery},
	{ErrUpstream, CodeUpstream},
	{ErrSignatureMissing, CodeSignatureMissing},
	{ErrSignatureInvalid, CodeSignatureInvalid},
	{ErrNoUsableKey, CodeNoUsableKey},
	{ErrSignatureUnfetchable, CodeSignatureUnfetchable},
}

// CodeOf returns the code of the first sentinel err wraps, or CodeUpstream.
func CodeOf(err error) Code {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return CodeUpstream
}

// Error is a resolution failure: which reference, at which host, in which
// step, and why. Kind is one of the sentinels above; Err the cause.
type Error struct {
	Ref  string // the reference as given
	Host string // host (or host:port) the failing step talked to; may be empty
	Step string // "parse", "discovery", "HEAD manifest", "token", ...
	Kind error  // one of the Err* sentinels
	Err  error  // the underlying cause; may be nil
}

// Error is the reference, then Reason.
func (e *Error) Error() string { return e.Ref + ": " + e.Reason() }

// Reason is the error without the reference: the step, the host, the kind
// and the cause, for a caller that names the reference itself.
func (e *Error) Reason() string {
	msg := e.Step
	if e.Host != "" {
		msg += " at " + e.Host
	}
	msg += ": " + e.Kind.Error()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns both the sentinel and the cause, so errors.Is matches either.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Code returns the error's stable code.
func (e *Error) Code() Code { return CodeOf(e.Kind) }

func newError(ref, host, step string, kind, cause error) *Error {
	return &Error{Ref: ref, Host: host, Step: step, Kind: kind, Err: cause}
}
