package frontdoor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/resolver"
)

// This file turns failures into the distribution spec's error JSON with
// the status an engine acts on (protocol.md §14): 404 for what ocidns does
// not serve, so the engine tries its next host; 502 or 504 for an upstream
// that failed, with the reason when it is the name's published records and
// a class of failure when it is the network.

// Error codes: the distribution spec's, and ocidns's own for upstream
// failures, which the spec leaves to implementations.
const (
	codeBlobUnknown     = "BLOB_UNKNOWN"
	codeManifestUnknown = "MANIFEST_UNKNOWN"
	codeNameUnknown     = "NAME_UNKNOWN"
	codeNameInvalid     = "NAME_INVALID"
	codeDigestInvalid   = "DIGEST_INVALID"
	codeDenied          = "DENIED"
	codeUnsupported     = "UNSUPPORTED"
	codeTooManyRequests = "TOOMANYREQUESTS"
	codeDiscovery       = string(resolver.CodeDiscovery)
	codeDigestMismatch  = string(resolver.CodeDigestMismatch)
	codeTooLarge        = string(resolver.CodeTooLarge)
	codeTimeout         = string(resolver.CodeTimeout)
	codeUpstream        = string(resolver.CodeUpstream)

	codeSignatureUnfetchable = string(resolver.CodeSignatureUnfetchable)
)

// apiError is one error answer. err, when set, is the detail kept for the
// log only.
type apiError struct {
	status  int
	code    string
	message string
	err     error
}

func newAPIError(status int, code, format string, a ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

// write sends e as {"errors":[{"code","message"}]}.
func (e *apiError) write(w http.ResponseWriter) {
	body, _ := json.Marshal(struct {
		Errors []errorEntry `json:"errors"`
	}{[]errorEntry{{Code: e.code, Message: e.message}}})
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if e.status == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(e.status)
	w.Write(body)
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// upstreamError maps a resolver error about name to an answer. notFound is
// the code of a 404 for the kind of request (MANIFEST_UNKNOWN,
// BLOB_UNKNOWN, NAME_UNKNOWN).
func upstreamError(name string, err error, notFound string) *apiError {
	e := &apiError{err: err}
	switch {
	case errors.Is(err, resolver.ErrInvalidReference):
		// The caller's own input: the whole reason.
		e.status, e.code, e.message = http.StatusBadRequest, codeNameInvalid, err.Error()
	case errors.Is(err, resolver.ErrNotFound):
		e.status, e.code, e.message = http.StatusNotFound, notFound, name+": not found at the registries that serve it"
	case errors.Is(err, resolver.ErrUnauthorized):
		// The engine has nothing to offer: ocidns holds the credentials.
		e.status, e.code, e.message = http.StatusForbidden, codeDenied, name+": the registry refused ocidns's credentials (the daemon's log has the details)"
	case errors.Is(err, resolver.ErrDiscovery):
		e.status, e.code, e.message = http.StatusBadGateway, codeDiscovery, discoveryReason(name, err)
	case errors.Is(err, resolver.ErrTimeout):
		e.status, e.code, e.message = http.StatusGatewayTimeout, codeTimeout, name+": timeout (the daemon's log has the details)"
	case errors.Is(err, resolver.ErrDigestMismatch):
		e.status, e.code, e.message = http.StatusBadGateway, codeDigestMismatch, name+": the registry served content that does not hash to its digest"
	case errors.Is(err, resolver.ErrSignatureMissing), errors.Is(err, resolver.ErrSignatureInvalid), errors.Is(err, resolver.ErrNoUsableKey):
		// The owner's policy refuses the image: the engine must not pull
		// it, and its user must see why (what is published and stored is
		// public).
		e.status, e.code, e.message = http.StatusForbidden, codeDenied, signatureReason(name, err)
	case errors.Is(err, resolver.ErrSignatureUnfetchable):
		e.status, e.code, e.message = http.StatusBadGateway, codeSignatureUnfetchable,
			name+": a signature is required and the registry's signatures could not be read (the daemon's log has the details)"
	case errors.Is(err, resolver.ErrTooLarge):
		e.status, e.code, e.message = http.StatusBadGateway, codeTooLarge, name+": the registry's answer is over ocidns's size limit"
	default:
		e.status, e.code, e.message = http.StatusBadGateway, codeUpstream, name+": upstream error (the daemon's log has the details)"
	}
	return e
}

// discoveryReason says why discovery failed. What the name's DNS records
// or documents say (a bogus signature, an unknown answer, a loop, a
// conflict) is public and is what the engine's user must see; a well-known
// fetch that failed is a fact about the daemon's network, which callers
// must not be able to probe, so only its class is given.
func discoveryReason(name string, err error) string {
	if errors.Is(err, discovery.ErrWellKnownUnknown) {
		return name + ": discovery failed: the well-known document could not be fetched (the daemon's log has the details)"
	}
	var de *discovery.Error
	if errors.As(err, &de) {
		return de.Error()
	}
	return name + ": discovery failed (the daemon's log has the details)"
}

// signatureReason says why the signing policy refused name: the failure's
// code, what was (not) found, and who requires a signature.
func signatureReason(name string, err error) string {
	code := resolver.CodeOf(err)
	var why string
	switch code {
	case resolver.CodeSignatureMissing:
		why = "no cosign signature of the image is stored beside it"
	case resolver.CodeNoUsableKey:
		why = "no usable key is published for this name (revoked, or of an unknown algorithm)"
	default:
		why = "no stored signature verifies with the keys that apply (another key, another image or name, or altered)"
	}
	var se *resolver.SignatureError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: %s: %s of %s; a signature is required by %s", name, code, why, se.Digest, se.RequiredBy)
	}
	return fmt.Sprintf("%s: %s: %s", name, code, why)
}
