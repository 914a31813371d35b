package reference

import (
	_ "crypto/sha256" // go-digest accepts only algorithms whose hash is linked in
	_ "crypto/sha512" // sha384 and sha512

	"strings"

	"github.com/opencontainers/go-digest"
)

// Parse parses a reference in either form: the appc form when s contains a
// ',', the docker form otherwise.
//
// Docker-form inputs are accepted and rejected exactly as by
// github.com/distribution/reference v0.6.0 Parse, with the same Domain,
// Path, Tag, Digest and String; see the package documentation for the
// grammar and its quirks. Valid input in either form is parsed without
// allocating. Errors are, or wrap, *ParseError values wrapping one of the
// package's sentinels; a refused docker-form name costs one 16-byte
// allocation (none when the caller only tests the error), and its
// *ParseError is built when the error is read.
func Parse(s string) (r Reference, err error) {
	if err = parse(s, &r, false); err == errSyntax {
		// Converted here, in the caller once this is inlined: a caller
		// that does not keep the error keeps its 16 bytes on its stack.
		err = unexplained(s)
	}
	return r, err
}

// parse is Parse, into *r, which it leaves zero on failure. A syntax
// failure in the docker form returns errSyntax, or with explain its
// *ParseError. (The result travels by pointer so that the inlined Parse
// does not copy it once more.)
func parse(s string, r *Reference, explain bool) (err error) {
	var f failure
	err = scanDocker(s, strings.IndexByte(s, '/'), r, &f)
	switch {
	case err == nil || !isSyntax(err):
		return err
	// ',' is invalid everywhere in the docker form, so looking for it
	// only after the scan failed keeps valid docker input to one pass.
	case strings.IndexByte(s, ',') >= 0:
		*r, err = parseAppc(s)
		return err
	case !explain:
		return errSyntax
	}
	return dockerError(s, f)
}

// ParseNormalized parses s like Parse and then applies Docker's
// normalization: a name without a registry host gets "docker.io/", and a
// single-component name on docker.io gets "library/" ("ubuntu" →
// "docker.io/library/ubuntu"; "index.docker.io" is rewritten to
// "docker.io"). String returns the normalized text; no default tag is added.
//
// For docker-form inputs the result equals distribution/reference v0.6.0
// ParseNormalizedNamed, quirks included: a bare 64-hex string is refused
// with ErrNameNotCanonical, "localhost:5000" is the repository
// docker.io/library/localhost with tag "5000", and "foo_bar.com/app" keeps
// no domain. A valid docker-form input is parsed without allocating.
// Appc-form short names are qualified by the same rules (at the cost of
// building the qualified text). The one difference in errors: ""
// is ErrNameEmpty here, ErrReferenceInvalidFormat there.
func ParseNormalized(s string) (r Reference, err error) {
	if err = parseNormalized(s, &r, false); err == errSyntax {
		err = unexplainedNormalized(s) // in the caller, as in Parse
	}
	return r, err
}

// parseNormalized is ParseNormalized, into *r as parse does. A syntax
// failure in the docker form returns errSyntax, or with explain its
// *ParseError.
func parseNormalized(s string, r *Reference, explain bool) error {
	if s == "" {
		return newError(s, 0, "", ErrNameEmpty, "")
	}
	if isHex64(s) {
		return newError(s, 0, s, ErrNameNotCanonical,
			"a 64-character hex string is an image ID, not a name; write @sha256:<hex> after a name to pin a digest")
	}
	slash := strings.IndexByte(s, '/')
	pre, tailAt := familiarPrefix(s, slash)
	if pre == preNone {
		var f failure
		err := scanDocker(s, slash, r, &f)
		if err == nil {
			return nil
		}
		syntax := isSyntax(err)
		if syntax && strings.IndexByte(s, ',') >= 0 {
			*r, err = normalizeAppc(s)
			return err
		}
		if syntax && !explain {
			return errSyntax
		}
		if uerr := remoteUppercase(s, pre, tailAt); uerr != nil {
			return uerr
		}
		if syntax {
			err = dockerError(s, f)
		}
		return err
	}
	return parseFamiliar(s, pre, tailAt, r, explain)
}

// parseFamiliar is parseNormalized for s, a familiar Docker Hub name (pre
// says which kind) whose part after the implied prefix begins at tailAt.
func parseFamiliar(s string, pre uint8, tailAt int, r *Reference, explain bool) error {
	tail := s[tailAt:]
	extra := 0
	if pre == preLibrary {
		extra = len(libraryPrefix)
	}
	var t tailParts
	var f failure
	if !scanTail(tail, 0, &t, &f) {
		if strings.IndexByte(s, ',') >= 0 {
			var err error
			*r, err = normalizeAppc(s)
			return err
		}
		if !explain {
			return errSyntax
		}
		if err := remoteUppercase(s, pre, tailAt); err != nil {
			return err
		}
		return normalizedError(s, tailAt, f)
	}
	var err error
	if t.pathEnd+extra > NameMaxLength {
		err = newError(s, tailAt, tail[:t.pathEnd], ErrNameTooLong, tooLongDetail(t.pathEnd+extra, extra))
	} else {
		err = checkDigest(s, tailAt+t.digestAt, tail, t)
	}
	if err != nil {
		// An uppercase digest algorithm passes the syntax but not Docker's
		// earlier uppercase check.
		if uerr := remoteUppercase(s, pre, tailAt); uerr != nil {
			return uerr
		}
		return err
	}
	*r = Reference{
		s:      tail,
		domain: defaultDomain,
		path:   tail[:t.pathEnd],
		tag:    t.tag(tail),
		digest: t.digest(tail),
		pre:    pre,
	}
	return nil
}

// familiarPrefix decides, as Docker does, whether the first segment of s
// (up to i, the first '/', or -1) is a registry host, and what text is
// implied in front of s[tailAt:]: Docker parses prefixes[pre] + s[tailAt:].
func familiarPrefix(s string, i int) (pre uint8, tailAt int) {
	if i < 0 {
		return preLibrary, 0
	}
	first, rest := s[:i], s[i+1:]
	switch {
	case first == "localhost":
		return preNone, 0
	case first == "index.docker.io" || first == defaultDomain:
		if strings.IndexByte(rest, '/') < 0 {
			return preLibrary, i + 1
		}
		if first == defaultDomain {
			return preNone, 0 // already written in full
		}
		return preDomain, i + 1
	case hasDotOrColon(first):
		return preNone, 0
	case !isLower(first):
		return preNone, 0
	}
	return preDomain, 0
}

// hasDotOrColon reports whether s holds a '.' or a ':'. One pass over a
// first segment, which is short: two calls of strings.IndexByte cost more.
func hasDotOrColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' || s[i] == ':' {
			return true
		}
	}
	return false
}

// remoteUppercase is Docker's uppercase check of the remote name (after
// the host, up to the first ':'), which runs before its parse and so wins
// over any parse error. Valid input always passes it (paths are lowercase,
// and go-digest accepts only lowercase algorithms), so it is only
// consulted on failure.
func remoteUppercase(s string, pre uint8, tailAt int) error {
	remoteAt := tailAt
	if pre == preNone {
		remoteAt = strings.IndexByte(s, '/') + 1
	}
	remote := s[remoteAt:]
	if j := strings.IndexByte(remote, ':'); j >= 0 {
		remote = remote[:j]
	}
	if !isLower(remote) {
		off := remoteAt + firstUpper(remote)
		return newError(s, off, componentAt(s, off), ErrNameContainsUppercase, "")
	}
	return nil
}

// normalizedError reports a failure in the written tail of a normalized
// name. Distribution classifies by reparsing the lowercased whole, whose
// implied prefix is already lowercase.
func normalizedError(s string, tailAt int, f failure) error {
	tail := s[tailAt:]
	lower := strings.ToLower(tail)
	if lower != tail {
		var t tailParts
		var lf failure
		if scanTail(lower, 0, &t, &lf) {
			off := tailAt + firstUpper(tail)
			return newError(s, off, componentAt(s, off), ErrNameContainsUppercase, "")
		}
		if len(lower) == len(tail) {
			f = lf // the fault that remains once case is ignored
		}
	}
	if f.kind == kUppercase {
		f.kind = kInvalidFormat // case is not the only problem
	}
	return f.at(s, tailAt)
}

// tailParts locates the parts after the domain: the path ends at pathEnd;
// the tag, if any, is s[tagAt:tagEnd]; the digest, if any, is s[digestAt:].
type tailParts struct {
	pathEnd         int
	tagAt, tagEnd   int
	digestAt        int
	hasTag, hasDgst bool
	hexUpper        bool // the digest's hex has an uppercase letter
}

func (t tailParts) tag(s string) string {
	if !t.hasTag {
		return ""
	}
	return s[t.tagAt:t.tagEnd]
}

func (t tailParts) digest(s string) digest.Digest {
	if !t.hasDgst {
		return ""
	}
	return digest.Digest(s[t.digestAt:])
}

// failure is where and why a scan stopped. It holds no pointers: a
// scanner writes it through a pointer on every refused name, and a
// pointer-free struct is copied without the garbage collector's write
// barriers, which were a fifth of a refusal's cost. Its kind and detail
// are indexes into failureKinds and failureDetails.
type failure struct {
	off       int
	compStart int // start of the component at fault
	// compEnd is the end of that component; compPath means the path
	// component that starts at compStart, found when the error is built.
	compEnd int
	n       int // the number a detail's "%n" stands for
	kind    uint8
	detail  uint8
}

// compPath as failure.compEnd: the fault's component is a path component,
// and its end is looked for only when the error is worded.
const compPath = -1

// A failure's kind, as an index in failureKinds.
const (
	kInvalidFormat uint8 = iota
	kUppercase
	kTag
	kDigest
)

var failureKinds = [...]error{
	kInvalidFormat: ErrInvalidFormat,
	kUppercase:     ErrNameContainsUppercase,
	kTag:           ErrTagInvalidFormat,
	kDigest:        ErrDigestInvalidFormat,
}

// A failure's detail, as an index in failureDetails.
const (
	dNone uint8 = iota
	dHostLabelStart
	dHostLabelEnd
	dHostIPv6
	dHostPort
	dHostByte
	dTagStart
	dTagLong
	dTagByte
	dAfterName
	dPathEndsEmpty
	dPathCompEnd
	dPathEmpty
	dPathCompStart
	dPathSeparators
	dPathByte
	dDigestAlgorithm
	dDigestColon
	dDigestHexByte
	dDigestShort
	dOCITagByte
	dOCITagLong
	dURLScheme
)

// failureDetails are templates: "%c" stands for the byte at the failure's
// offset, "%n" for its n; dURLScheme is worded from the input by render.
var failureDetails = [...]string{
	dHostLabelStart:  "a host label must start with a letter or digit",
	dHostLabelEnd:    "a host label must not end with '-'",
	dHostIPv6:        "an IPv6 host is '[' hex digits and colons ']'",
	dHostPort:        "a port must be decimal digits",
	dHostByte:        "unexpected %c in host",
	dTagStart:        "a tag must start with a letter, digit or '_'",
	dTagLong:         "a tag is at most 128 characters, this one has %n",
	dTagByte:         "unexpected %c; a tag uses letters, digits, '_', '.' and '-'",
	dAfterName:       "unexpected %c after the name",
	dPathEndsEmpty:   "the name ends with an empty component",
	dPathCompEnd:     "a path component must end with a lowercase letter or digit",
	dPathEmpty:       "empty path component",
	dPathCompStart:   "a path component must start with a lowercase letter or digit, not %c",
	dPathSeparators:  "separators ('.', '_', '__', '-') must sit between letters or digits",
	dPathByte:        "%c is not allowed; a path uses a-z, 0-9 and the separators '.', '_', '__', '-', '/'",
	dDigestAlgorithm: "a digest algorithm is letters and digits, each part starting with a letter, like sha256",
	dDigestColon:     "expected ':' between the digest algorithm and its hex value",
	dDigestHexByte:   "unexpected %c in the digest's hex value",
	dDigestShort:     "a digest's hex value has at least 32 digits",
	dOCITagByte:      "%c is not allowed in an OCI tag (letters, digits, '_', '.', '-')",
	dOCITagLong:      "an OCI tag is at most 128 characters, this version has %n",
	dURLScheme:       "",
}

// render words the detail for s, where off points.
func (f failure) render(s string) string {
	if f.detail == dURLScheme {
		i := strings.Index(s, "://")
		return "a reference has no URL scheme: drop " + quote(s[:i+3])
	}
	d := failureDetails[f.detail]
	if strings.IndexByte(d, '%') < 0 {
		return d
	}
	var b strings.Builder
	for i := 0; i < len(d); i++ {
		if d[i] == '%' && i+1 < len(d) {
			switch d[i+1] {
			case 'c':
				if f.off >= 0 && f.off < len(s) {
					b.WriteString(describe(s[f.off]))
				} else {
					b.WriteString("end of input")
				}
				i++
				continue
			case 'n':
				b.WriteString(itoa(f.n))
				i++
				continue
			}
		}
		b.WriteByte(d[i])
	}
	return b.String()
}

// at builds the *ParseError of a failure found in s[base:].
func (f failure) at(s string, base int) *ParseError {
	ce := f.compEnd
	if ce == compPath {
		ce = max(componentEnd(s[base:], f.compStart), f.off)
	}
	off, cs, ce := f.off+base, f.compStart+base, ce+base
	if ce > len(s) {
		ce = len(s)
	}
	if cs > ce {
		cs = ce
	}
	return newError(s, off, s[cs:ce], failureKinds[f.kind], f.render(s[base:]))
}

func parseDocker(s string) (Reference, error) {
	var r Reference
	var f failure
	err := scanDocker(s, strings.IndexByte(s, '/'), &r, &f)
	if isSyntax(err) {
		return Reference{}, dockerError(s, f)
	}
	return r, err
}

// errSyntax tells scanDocker's callers that *f describes a syntax
// failure, and Parse and ParseNormalized that the docker form refused
// their input (isSyntax tests for it).
var errSyntax = &syntaxFailure{}

// syntaxFailure is errSyntax's type: a type of its own, so that testing
// an error for it compares two words instead of calling the runtime's
// comparison of interfaces.
type syntaxFailure struct{ _ byte }

func (*syntaxFailure) Error() string { return "syntax" }

func isSyntax(err error) bool { return err == errSyntax }

// scanDocker parses the docker form into *r; slash is the index of the
// first '/' in s, or -1. A syntax failure returns
// errSyntax with the details in *f, so callers can try the appc form
// before paying for an error; the checks that follow a syntactic match
// (length, go-digest) return their error. Results travel by pointer
// because copying them back up was a measurable part of the cost.
func scanDocker(s string, slash int, r *Reference, f *failure) error {
	if s == "" {
		return newError(s, 0, "", ErrNameEmpty, "")
	}
	var t tailParts
	domain, at, ok := splitAndScan(s, slash, &t, f)
	if !ok {
		return errSyntax
	}
	if pathLen := t.pathEnd - at; pathLen > NameMaxLength {
		return newError(s, at, s[at:t.pathEnd], ErrNameTooLong, tooLongDetail(pathLen, 0))
	}
	if err := checkDigest(s, t.digestAt, s, t); err != nil {
		return err
	}
	*r = Reference{
		s:      s,
		domain: domain,
		path:   s[at:t.pathEnd],
		tag:    t.tag(s),
		digest: t.digest(s),
	}
	return nil
}

// splitAndScan applies distribution's preference: the first segment is the
// domain whenever it is a valid host and a '/' follows it; otherwise the
// whole input is path, tag and digest. i is the index of the first '/',
// or -1; at is where the path starts. On failure ok is false and *f says
// why. (Scanners report failures through a pointer: returning the struct
// by value cost a third of a parse.)
func splitAndScan(s string, i int, t *tailParts, f *failure) (domain string, at int, ok bool) {
	if i > 0 {
		var df failure
		if scanDomain(s[:i], &df) {
			return s[:i], i + 1, scanTail(s, i+1, t, f)
		}
		if scanTail(s, 0, t, f) {
			return "", 0, true
		}
		// Blame the domain when the segment was plainly meant as one and
		// did not parse as a path component either.
		if f.off <= i && strings.ContainsAny(s[:i], ".:[]") {
			*f = df
		}
		return "", 0, false
	}
	return "", 0, scanTail(s, 0, t, f)
}

// dockerError classifies a syntax failure like distribution does: when the
// lowercased input would parse, the problem is uppercase in the path.
func dockerError(s string, f failure) error {
	lower := strings.ToLower(s)
	if lower != s {
		var t tailParts
		var lf failure
		_, at, ok := splitAndScan(lower, strings.IndexByte(lower, '/'), &t, &lf)
		if ok {
			off := at + firstUpper(s[at:])
			if len(lower) != len(s) { // non-ASCII changed length; positions differ
				off = firstUpper(s)
			}
			return newError(s, off, componentAt(s, off), ErrNameContainsUppercase, "")
		}
		if len(lower) == len(s) {
			f = lf // the fault that remains once case is ignored
		}
	}
	if f.kind == kUppercase {
		f.kind = kInvalidFormat // case is not the only problem
	}
	if i := strings.Index(s, "://"); i > 0 && f.off <= i+3 {
		f.detail = dURLScheme
	}
	return f.at(s, 0)
}

func tooLongDetail(n, extra int) string {
	d := "the path is " + itoa(n) + " bytes"
	if extra > 0 {
		d += " including the implied \"library/\""
	}
	return d
}

// scanDomain reports whether d is exactly host[:port]; if not, *f says where.
func scanDomain(d string, f *failure) bool {
	fail := func(off int, detail uint8) bool {
		*f = failure{off: off, kind: kInvalidFormat, compStart: 0, compEnd: len(d), detail: detail}
		return false
	}
	i := 0
	if d[0] == '[' {
		i = 1
		for i < len(d) && (isHex(d[i]) || d[i] == ':') {
			i++
		}
		if i == 1 || i >= len(d) || d[i] != ']' {
			return fail(i, dHostIPv6)
		}
		i++
	} else {
		for {
			if i >= len(d) || !isAlnum(d[i]) {
				return fail(i, dHostLabelStart)
			}
			j := i
			for j < len(d) && (isAlnum(d[j]) || d[j] == '-') {
				j++
			}
			if d[j-1] == '-' {
				return fail(j-1, dHostLabelEnd)
			}
			i = j
			if i < len(d) && d[i] == '.' {
				i++
				continue
			}
			break
		}
	}
	if i < len(d) && d[i] == ':' {
		i++
		p := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == p || i != len(d) {
			return fail(i, dHostPort)
		}
	}
	if i != len(d) {
		return fail(i, dHostByte)
	}
	return true
}

// scanTail scans path [":" tag] ["@" digest] from s[at:] to the end of s.
// Offsets in t and *f are relative to s.
func scanTail(s string, at int, t *tailParts, f *failure) bool {
	i := scanPath(s, at, f)
	if i < 0 {
		return false
	}
	t.pathEnd = i
	if i < len(s) && s[i] == ':' {
		i++
		t.hasTag, t.tagAt = true, i
		if i >= len(s) || !isWord(s[i]) {
			*f = failure{off: i, kind: kTag, compStart: i, compEnd: tokenEnd(s, i), detail: dTagStart}
			return false
		}
		for i < len(s) && class[s[i]]&cTag != 0 {
			i++
		}
		if i-t.tagAt > 128 {
			*f = failure{off: t.tagAt + 128, kind: kTag, compStart: t.tagAt, compEnd: i, detail: dTagLong, n: i - t.tagAt}
			return false
		}
		t.tagEnd = i
		if i < len(s) && s[i] != '@' {
			*f = failure{off: i, kind: kTag, compStart: t.tagAt, compEnd: tokenEnd(s, i), detail: dTagByte}
			return false
		}
	}
	if i < len(s) && s[i] == '@' {
		i++
		t.hasDgst, t.digestAt = true, i
		return scanDigest(s, i, t, f)
	}
	if i < len(s) {
		*f = failure{off: i, kind: kInvalidFormat, compStart: i, compEnd: len(s), detail: dAfterName}
		return false
	}
	return true
}

// scanPath scans path components from s[i:] and returns where the path ends
// (at ':', '@' or the end), or -1 with *f set.
func scanPath(s string, i int, f *failure) int {
	compStart := i
	need := true // the next byte must be a lowercase letter or digit
	for ; i < len(s); i++ {
		c := s[i]
		if isLowerAlnum(c) {
			need = false
			continue
		}
		if need {
			pathFailure(f, s, compStart, i)
			return -1
		}
		switch c {
		case '/':
			compStart = i + 1
			need = true
		case '.':
			need = true
		case '_':
			if i+1 < len(s) && s[i+1] == '_' {
				i++
			}
			need = true
		case '-':
			for i+1 < len(s) && s[i+1] == '-' {
				i++
			}
			need = true
		case ':', '@':
			return i
		default:
			pathFailure(f, s, compStart, i)
			return -1
		}
	}
	if need {
		pathFailure(f, s, compStart, i)
		return -1
	}
	return i
}

// pathFailure records in *f why scanPath stopped at byte i of s in the
// component that starts at compStart. It stores field by field: building
// the struct and copying it out made the copy wait on the byte stores
// before it, a third of the cost of refusing a name.
func pathFailure(f *failure, s string, compStart, i int) {
	f.off, f.compStart, f.compEnd, f.n = i, compStart, compPath, 0
	f.kind, f.detail = kInvalidFormat, dNone
	switch {
	case i >= len(s):
		if i == compStart {
			f.detail = dPathEndsEmpty
		} else {
			f.detail = dPathCompEnd
		}
	case i == compStart && s[i] == '/':
		f.detail = dPathEmpty
	case isUpper(s[i]):
		f.kind = kUppercase
	case i == compStart:
		f.detail = dPathCompStart
	case s[i] == '.' || s[i] == '_' || s[i] == '-' || s[i] == '/' || s[i] == ':' || s[i] == '@':
		f.detail = dPathSeparators
	default:
		f.detail = dPathByte
	}
}

// scanDigest checks the digest syntax distribution's grammar allows; the
// go-digest rules are applied by checkDigest once the whole input matched.
func scanDigest(s string, at int, t *tailParts, f *failure) bool {
	fail := func(off int, detail uint8) bool {
		*f = failure{off: off, kind: kDigest, compStart: at, compEnd: len(s), detail: detail}
		return false
	}
	i := at
	for {
		if i >= len(s) || !isAlpha(s[i]) {
			return fail(i, dDigestAlgorithm)
		}
		for i < len(s) && isAlnum(s[i]) {
			i++
		}
		if i < len(s) && (s[i] == '-' || s[i] == '_' || s[i] == '+' || s[i] == '.') {
			i++
			continue
		}
		break
	}
	if i >= len(s) || s[i] != ':' {
		return fail(i, dDigestColon)
	}
	i++
	h := i
	var seen uint8 = cLowerHex
	for i < len(s) && class[s[i]]&cHex != 0 {
		seen &= class[s[i]]
		i++
	}
	t.hexUpper = seen == 0
	if i < len(s) {
		return fail(i, dDigestHexByte)
	}
	if i-h < 32 {
		return fail(i, dDigestShort)
	}
	return true
}

// checkDigest applies go-digest's Digest.Validate rules without calling it
// (so valid input costs no allocation): the algorithm must be one go-digest
// knows and whose hash is linked in (sha256, sha384, sha512), the hex the
// exact length for it, and lowercase.
func checkDigest(input string, base int, s string, t tailParts) error {
	if !t.hasDgst {
		return nil
	}
	d := s[t.digestAt:]
	colon := strings.IndexByte(d, ':')
	alg, hex := d[:colon], d[colon+1:]
	var want int
	switch alg {
	case "sha256":
		want = 64
	case "sha384":
		want = 96
	case "sha512":
		want = 128
	default:
		e := newError(input, base, d, ErrDigestInvalidFormat,
			"unsupported digest algorithm "+quote(alg)+"; use sha256, sha384 or sha512")
		e.cause = digest.Digest(d).Validate()
		return e
	}
	if len(hex) != want {
		e := newError(input, base+colon+1, d, ErrDigestInvalidFormat,
			alg+" needs "+itoa(want)+" hex digits, this has "+itoa(len(hex)))
		e.cause = digest.ErrDigestInvalidLength
		return e
	}
	for i := 0; t.hexUpper && i < len(hex); i++ {
		if class[hex[i]]&cLowerHex == 0 {
			e := newError(input, base+colon+1+i, d, ErrDigestInvalidFormat, "digest hex must be lowercase")
			e.cause = digest.ErrDigestInvalidFormat
			return e
		}
	}
	return nil
}

// componentAt returns the path component (or tag, or digest part) that
// contains byte off of s, for error messages.
func componentAt(s string, off int) string {
	if off >= len(s) {
		off = len(s)
	}
	start := off
	for start > 0 && !strings.ContainsRune("/:@", rune(s[start-1])) {
		start--
	}
	return s[start:componentEnd(s, off)]
}

func componentEnd(s string, i int) int {
	for i < len(s) && s[i] != '/' && s[i] != ':' && s[i] != '@' {
		i++
	}
	return i
}

// tokenEnd is where a tag token that begins at i ends, for error messages.
func tokenEnd(s string, i int) int {
	for i < len(s) && s[i] != '@' {
		i++
	}
	return i
}

// isLower reports whether strings.ToLower(s) == s, the test Docker uses,
// without allocating for ASCII input.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s) == s
		}
		if isUpper(c) {
			return false
		}
	}
	return true
}

// firstUpper returns the offset of the first byte of s that lowercasing
// changes (an ASCII capital, or any non-ASCII byte), or 0.
func firstUpper(s string) int {
	for i := 0; i < len(s); i++ {
		if isUpper(s[i]) || s[i] >= 0x80 {
			return i
		}
	}
	return 0
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Byte classes, one table lookup per byte in the scanning loops.
const (
	cDigit      = 1 << iota // 0-9
	cUpper                  // A-Z
	cLowerAlnum             // a-z 0-9
	cAlpha                  // A-Z a-z
	cWord                   // A-Z a-z 0-9 _
	cTag                    // A-Z a-z 0-9 _ . -
	cHex                    // 0-9 a-f A-F
	cLowerHex               // 0-9 a-f
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		var k uint8
		switch {
		case '0' <= c && c <= '9':
			k = cDigit | cLowerAlnum | cWord | cTag | cHex | cLowerHex
		case 'a' <= c && c <= 'z':
			k = cLowerAlnum | cAlpha | cWord | cTag
			if c <= 'f' {
				k |= cHex | cLowerHex
			}
		case 'A' <= c && c <= 'Z':
			k = cUpper | cAlpha | cWord | cTag
			if c <= 'F' {
				k |= cHex
			}
		case c == '_':
			k = cWord | cTag
		case c == '.' || c == '-':
			k = cTag
		}
		t[c] = k
	}
	return t
}()

func isDigit(c byte) bool      { return class[c]&cDigit != 0 }
func isUpper(c byte) bool      { return class[c]&cUpper != 0 }
func isAlpha(c byte) bool      { return class[c]&cAlpha != 0 }
func isAlnum(c byte) bool      { return class[c]&(cAlpha|cDigit) != 0 }
func isLowerAlnum(c byte) bool { return class[c]&cLowerAlnum != 0 }
func isWord(c byte) bool       { return class[c]&cWord != 0 }
func isHex(c byte) bool        { return class[c]&cHex != 0 }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }
