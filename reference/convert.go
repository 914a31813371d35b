package reference

import (
	"errors"
	"strings"
)

const (
	toDocker = "the docker form"
	toAppc   = "the appc form"
)

// ToDocker returns the docker form of r. A docker-form r is returned as is.
//
// For the appc form the name becomes the repository and the version label
// the tag, with every '+' replaced by '_' (SemVer build metadata, as Helm
// writes OCI tags); other labels are dropped (os/arch/variant remain
// available from r.Platform). Without a version there is no tag.
//
// The result is validated like Parse. The error wraps ErrNotConvertible and
// the *ParseError that says which part cannot be a docker reference (a
// '~' in the name, a 129-character version, a domain that is no valid
// host...), with offsets into r.String().
func (r Reference) ToDocker() (Reference, error) {
	if r.form != FormAppc {
		return r, nil
	}
	s := r.String()
	name := r.Name()
	d, err := parseDocker(name)
	if err != nil {
		return Reference{}, convertError(s, toDocker, err)
	}
	if r.domain != "" && d.domain != r.domain {
		return Reference{}, convertError(s, toDocker, newError(s, 0, r.domain, ErrInvalidFormat,
			"the domain "+quote(r.domain)+" is not a valid registry host (letters, digits, inner '-', '.' between labels)"))
	}
	if r.tag == "" {
		return d, nil
	}
	tag := strings.ReplaceAll(r.tag, "+", "_")
	if f := checkTag(tag); f.off >= 0 {
		at := versionOffset(r)
		return Reference{}, convertError(s, toDocker, newError(s, at+f.off, r.tag, ErrTagInvalidFormat, f.render(tag)))
	}
	out, err := parseDocker(name + ":" + tag)
	if err != nil { // unreachable: name and tag were each checked
		return Reference{}, convertError(s, toDocker, err)
	}
	return out, nil
}

// ToAppc returns the appc form of r. An appc-form r is returned as is.
//
// For the docker form the tag becomes the version label; a reference
// without a tag gets version "latest", which is what the docker form means.
// The error wraps ErrNotConvertible and a *ParseError (offsets into
// r.String()) when the name is not an appc identifier: a port, an IPv6
// literal, an uppercase domain, "__" or "--" in the path; or when r has a
// digest, which the appc form cannot carry.
func (r Reference) ToAppc() (Reference, error) {
	if r.form == FormAppc {
		return r, nil
	}
	s := r.String()
	name := r.Name()
	if r.digest != "" {
		at := len(s) - len(r.digest)
		return Reference{}, convertError(s, toAppc, newError(s, at, string(r.digest), ErrNotConvertible,
			"an appc name cannot carry a digest"))
	}
	if d := r.domain; d != "" {
		switch {
		case strings.HasPrefix(d, "["):
			return Reference{}, convertError(s, toAppc, newError(s, 0, d, ErrNotConvertible, "an appc name cannot hold an IPv6 literal"))
		case strings.IndexByte(d, ':') >= 0:
			return Reference{}, convertError(s, toAppc, newError(s, strings.IndexByte(d, ':'), d, ErrNotConvertible, "an appc name cannot hold a port"))
		case !isLower(d):
			return Reference{}, convertError(s, toAppc, newError(s, firstUpper(d), d, ErrNameContainsUppercase, "an appc name is lowercase"))
		}
	}
	end, f := scanIdentifier(name, 0, true)
	if f != nil {
		return Reference{}, convertError(s, toAppc, newError(s, f.Offset, f.Component, f.Err, f.detail))
	}
	if end != len(name) {
		return Reference{}, convertError(s, toAppc, newError(s, end, componentAt(s, end), ErrInvalidFormat,
			"separators must sit between letters or digits, one at a time ('__' and '--' are docker-only)"))
	}
	version := r.tag
	if version == "" {
		version = "latest"
	}
	out, err := parseAppc(name + ",version=" + version)
	if err != nil { // unreachable: tags are valid label values
		return Reference{}, convertError(s, toAppc, err)
	}
	return out, nil
}

// WithDomain qualifies a short name (see IsShort) with a search domain,
// "app" → "example.com/app", "org/app:v1" → "example.com/org/app:v1", in
// r's form. The result is validated as Parse validates the new text (the
// path limit counts, for instance) and must have domain as its domain.
// Errors wrap ErrNotConvertible: r is not short, domain is not a host, or
// the qualified name is invalid (a *ParseError with offsets into it).
func (r Reference) WithDomain(domain string) (Reference, error) {
	if !r.IsShort() {
		return Reference{}, &ConvertError{Ref: r.String(), Op: "qualify " + quote(r.String()) + " with " + quote(domain), Err: newError(r.String(), 0, r.domain, ErrNotConvertible,
			"already qualified with domain "+quote(r.domain))}
	}
	var df failure
	if domain == "" || !looksLikeHost(domain) || !scanDomain(domain, &df) {
		return Reference{}, &ConvertError{Ref: r.String(), Op: "qualify " + quote(r.String()) + " with " + quote(domain), Err: newError(domain, 0, domain, ErrNotConvertible,
			"a search domain is a host such as example.com, localhost or registry:5000")}
	}
	if r.form == FormAppc && (strings.ContainsAny(domain, ":[") || !isLower(domain)) {
		return Reference{}, &ConvertError{Ref: r.String(), Op: "qualify " + quote(r.String()) + " with " + quote(domain), Err: newError(domain, 0, domain, ErrNotConvertible,
			"an appc name holds no port, IPv6 literal or uppercase; "+quote(domain)+" is not a valid host in appc names")}
	}
	s := domain + "/" + r.String()
	var out Reference
	var err error
	if r.form == FormAppc {
		out, err = parseAppc(s)
	} else {
		out, err = parseDocker(s)
	}
	if err != nil {
		return Reference{}, &ConvertError{Ref: r.String(), Op: "qualify " + quote(r.String()) + " with " + quote(domain), Err: err}
	}
	if out.domain != domain {
		return Reference{}, &ConvertError{Ref: r.String(), Op: "qualify " + quote(r.String()) + " with " + quote(domain), Err: newError(s, 0, domain, ErrNotConvertible,
			quote(domain)+" is not a valid host in "+r.form.String()+" names")}
	}
	return out, nil
}

// ConvertError is returned by ToDocker, ToAppc and WithDomain. Err says
// which part of which text is at fault (usually a *ParseError whose offsets
// point into Ref). A ConvertError matches ErrNotConvertible as well as
// whatever Err matches.
type ConvertError struct {
	Ref string // the reference being converted or qualified
	Op  string // what was attempted, e.g. `convert "app,version=1" to the docker form`
	Err error
}

// Error implements error.
func (e *ConvertError) Error() string {
	return "cannot " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ConvertError) Unwrap() error { return e.Err }

// Is reports that every ConvertError is an ErrNotConvertible.
func (e *ConvertError) Is(target error) bool { return target == ErrNotConvertible }

// convertError wraps err, the error of checking a part of ref. Its
// *ParseError is built already (parseDocker and parseAppc word theirs at
// once, unlike Parse), so the Input set here sticks.
func convertError(ref, form string, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) && pe.Input != ref && strings.HasPrefix(ref, pe.Input) {
		// The name was checked alone; it is a prefix of ref, so offsets hold.
		pe.Input = ref
	}
	return &ConvertError{Ref: ref, Op: "convert " + quote(ref) + " to " + form, Err: err}
}

// checkTag validates an OCI tag, [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
// off is -1 when it is one.
func checkTag(t string) failure {
	if t == "" || !isWord(t[0]) {
		return failure{off: 0, kind: kTag, detail: dTagStart}
	}
	for i := 1; i < len(t); i++ {
		if c := t[i]; !isWord(c) && c != '.' && c != '-' {
			return failure{off: i, kind: kTag, detail: dOCITagByte}
		}
	}
	if len(t) > 128 {
		return failure{off: 128, kind: kTag, detail: dOCITagLong, n: len(t)}
	}
	return failure{off: -1}
}

// versionOffset finds where the version value starts in an appc reference.
func versionOffset(r Reference) int {
	s := r.String()
	if r.short {
		return len(r.Name()) + 1
	}
	// Values hold no ',' or '=', so the first ",version=" is the label.
	if i := strings.Index(s, ",version="); i >= 0 {
		return i + len(",version=")
	}
	return 0
}
