package reference

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error returned by this package is a *ParseError,
// or wraps one, whose Err is one of these, so callers test the kind of
// problem with errors.Is and find where it is with errors.As (a name Parse
// or ParseNormalized refuses gives an error that builds its *ParseError
// when read: see unexplained).
//
// The docker-form sentinels mirror github.com/distribution/reference's
// classification (same message text) so code that matched on those messages
// keeps working; ErrTagInvalidFormat, ErrDigestInvalidFormat and
// ErrInvalidLabel are finer-grained and also match ErrInvalidFormat.
var (
	// ErrInvalidFormat: the input does not follow the grammar in the package
	// documentation. Errors wrapping ErrTagInvalidFormat,
	// ErrDigestInvalidFormat or ErrInvalidLabel also match it.
	ErrInvalidFormat = errors.New("invalid reference format")

	// ErrNameContainsUppercase: a repository path component (or an appc
	// name) contains an uppercase letter. Domains may be mixed case; paths may not.
	ErrNameContainsUppercase = errors.New("repository name must be lowercase")

	// ErrNameEmpty: the input is empty.
	ErrNameEmpty = errors.New("repository name must have at least one component")

	// ErrNameTooLong: the repository path (without the domain, but with an
	// implied "library/" under normalization) is longer than NameMaxLength bytes.
	ErrNameTooLong = errors.New("repository name must not be more than " + strconv.Itoa(NameMaxLength) + " characters")

	// ErrTagInvalidFormat: the tag (or, in conversions, the appc version) is
	// not an OCI tag: 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'.
	ErrTagInvalidFormat = errors.New("invalid tag format")

	// ErrDigestInvalidFormat: the digest is malformed, or is well formed but
	// not accepted by github.com/opencontainers/go-digest (unknown algorithm,
	// wrong length, uppercase hex). In the latter case the go-digest error is
	// wrapped as well, so errors.Is(err, digest.ErrDigestUnsupported) works.
	ErrDigestInvalidFormat = errors.New("invalid digest format")

	// ErrNameNotCanonical: under normalization, a bare 64-character hex
	// string, which Docker reserves for image IDs and refuses as a name.
	ErrNameNotCanonical = errors.New("repository name must be canonical")

	// ErrInvalidLabel: an appc label (or the ":version" shorthand) is malformed,
	// duplicated, reserved ("name"), or an os/arch/variant label names no
	// known platform.
	ErrInvalidLabel = errors.New("invalid label")

	// ErrInvalidPlatform: ParsePlatform's input is not os/arch[/variant] with
	// a known os and architecture.
	ErrInvalidPlatform = errors.New("invalid platform")

	// ErrNotConvertible: the reference cannot be expressed in the other form
	// (ToDocker, ToAppc) or cannot be qualified (WithDomain).
	ErrNotConvertible = errors.New("reference cannot be converted")
)

// NameMaxLength is the longest repository path accepted, in bytes. The limit
// applies to the path only, not the domain, matching distribution/reference.
const NameMaxLength = 255

// ParseError says what is wrong with a reference and where. Its message reads
// like
//
//	repository name must be lowercase: "Org" at offset 12
//
// followed, when there is more to say, by a parenthesised detail.
type ParseError struct {
	// Input is the text that was parsed. For conversions and WithDomain it is
	// the text that was built and validated, and Offset points into it.
	Input string
	// Offset is the byte offset in Input of the first byte at fault
	// (len(Input) when the input ended too early).
	Offset int
	// Component is the part of Input that contains the fault: a domain, a
	// path component, the tag, the digest or an appc label.
	Component string
	// Err is one of the package's sentinel errors.
	Err error

	detail string // what exactly is wrong, for people
	cause  error  // a go-digest error behind ErrDigestInvalidFormat
	// part: the input is a part of a name checked on its own
	// (ValidatePath, ValidateTag), whose message is the detail alone.
	part bool
}

// Error implements error. For a part of a name checked on its own
// (ValidatePath, ValidateTag) it is what is wrong, in the words of that
// part; callers say where the part came from.
func (e *ParseError) Error() string {
	if e.part && e.detail != "" {
		return e.detail
	}
	msg := "invalid reference"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	msg += ": " + strconv.Quote(e.Component) + " at offset " + strconv.Itoa(e.Offset)
	if e.detail != "" {
		msg += " (" + e.detail + ")"
	}
	return msg
}

// Unwrap returns the sentinel and, for digests go-digest refused, the
// go-digest error.
func (e *ParseError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// Is makes the finer-grained format errors match ErrInvalidFormat too.
func (e *ParseError) Is(target error) bool {
	if target != ErrInvalidFormat {
		return false
	}
	switch e.Err {
	case ErrTagInvalidFormat, ErrDigestInvalidFormat, ErrInvalidLabel:
		return true
	}
	return false
}

// Detail returns the human explanation appended to the message, if any.
func (e *ParseError) Detail() string { return e.detail }

func newError(input string, off int, component string, kind error, detail string) *ParseError {
	if off < 0 {
		off = 0
	}
	if off > len(input) {
		off = len(input)
	}
	return &ParseError{Input: input, Offset: off, Component: component, Err: kind, detail: detail}
}

// describe names a byte for error details: printable ASCII quoted, anything
// else as a Go escape so control bytes never reach a terminal raw.
func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return "byte " + strconv.QuoteToASCII(string([]byte{c}))
}

// A docker-form name that fails to parse is refused before its error is
// worded: Parse and ParseNormalized return an unexplained error holding
// the input alone, and its *ParseError is built when someone reads the
// error (Error, errors.Is, errors.As), by parsing the input again with
// explanations: a service refusing names it is sent pays for the words
// only when it logs them. A refused name costs its scan, and the input's
// 16-byte string header when the error is kept. An interface value holds
// one pointer and its type, so an error that gives back its input (a start
// and a length) must find the header in memory of its own; Parse and
// ParseNormalized are inlined and make the error in their caller, whose
// stack holds the header when the error goes no further.

// unexplained is the error of Parse for a docker-form syntax failure.
type unexplained string

// Error returns the *ParseError's message.
func (e unexplained) Error() string { return e.Unwrap().Error() }

// Unwrap returns the *ParseError, built anew each call.
func (e unexplained) Unwrap() error {
	var r Reference
	return parse(string(e), &r, true)
}

// unexplainedNormalized is unexplained for ParseNormalized.
type unexplainedNormalized string

// Error returns the *ParseError's message.
func (e unexplainedNormalized) Error() string { return e.Unwrap().Error() }

// Unwrap returns the *ParseError, built anew each call.
func (e unexplainedNormalized) Unwrap() error {
	var r Reference
	return parseNormalized(string(e), &r, true)
}
