package reference

import (
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Form is the surface syntax a Reference was written in.
type Form uint8

const (
	// FormDocker is the docker / OCI form: domain/path:tag@digest.
	FormDocker Form = iota
	// FormAppc is the appc (rkt) form: name[:version],key=value,...
	FormAppc
)

// String returns "docker" or "appc".
func (f Form) String() string {
	if f == FormAppc {
		return "appc"
	}
	return "docker"
}

// Label is one appc label, key=value.
type Label struct {
	Key   string
	Value string
}

// The implied text ParseNormalized adds in front of a familiar name. Keeping
// it as a small enum instead of concatenating is what lets ParseNormalized
// return without allocating.
const (
	preNone    = 0
	preDomain  = 1 // "docker.io/"
	preLibrary = 2 // "docker.io/library/"
)

const (
	defaultDomain = "docker.io"
	libraryPrefix = "library/"
)

var prefixes = [...]string{preNone: "", preDomain: defaultDomain + "/", preLibrary: defaultDomain + "/" + libraryPrefix}

// Reference is a parsed image name in either form. It is a small,
// comparable value (== compares the text and every part): copy it freely
// and use it as a map key. The zero Reference is an empty docker-form
// reference.
//
// Accessors return substrings of the parsed input and do not allocate,
// except Path, Name and String of a ParseNormalized result whose
// "docker.io/" or "library/" was implied rather than written, and Labels
// and Canonical, which build new values. The appc labels are kept as the
// text after the name and read from it on demand.
type Reference struct {
	// s is the written text: String() == prefixes[pre] + s. When pre is
	// preNone, s starts with Name(); otherwise s starts with the written
	// part of the path.
	s      string
	domain string
	path   string // as written, without an implied "library/"
	tag    string // docker tag, or the appc version label
	digest digest.Digest
	form   Form
	pre    uint8
	short  bool // appc: version was written as name:version
}

// Form reports which syntax the reference was written in.
func (r Reference) Form() Form { return r.form }

// Domain returns the registry host[:port], or "" when the name has none.
//
// For the docker form this is exactly distribution/reference's Domain: the
// first path segment whenever it is a syntactically valid host, so
// Parse("org/app").Domain() is "org". Use IsShort to ask whether the name
// still needs qualifying.
func (r Reference) Domain() string { return r.domain }

// Path returns the repository path: the name without the domain.
func (r Reference) Path() string {
	if r.pre == preLibrary {
		return libraryPrefix + r.path
	}
	return r.path
}

// Name returns Domain() + "/" + Path(), or Path() when there is no domain.
func (r Reference) Name() string {
	if r.pre != preNone {
		return prefixes[r.pre] + r.path
	}
	n := len(r.path)
	if r.domain != "" {
		n += len(r.domain) + 1
	}
	if n > len(r.s) { // a Reference built by hand; never from this package
		return r.domain + "/" + r.path
	}
	return r.s[:n]
}

// Tag returns the docker tag, or for the appc form the version label; "" if absent.
func (r Reference) Tag() string { return r.tag }

// Digest returns the digest, "" if absent (always for the appc form).
func (r Reference) Digest() digest.Digest { return r.digest }

// Labels returns the appc labels in input order, including "version"
// however it was written; nil for the docker form. The slice is new on
// every call.
func (r Reference) Labels() []Label {
	if r.form != FormAppc {
		return nil
	}
	var out []Label
	it := r.labelIter()
	for k, v, ok := it.next(); ok; k, v, ok = it.next() {
		out = append(out, Label{Key: k, Value: v})
	}
	return out
}

// Label returns the value of the appc label key, without allocating.
func (r Reference) Label(key string) (string, bool) {
	if r.form != FormAppc {
		return "", false
	}
	it := r.labelIter()
	for k, v, ok := it.next(); ok; k, v, ok = it.next() {
		if k == key {
			return v, true
		}
	}
	return "", false
}

func (r Reference) labelIter() labelIter {
	n := len(r.Name())
	if n > len(r.s) {
		return labelIter{}
	}
	return labelIter{rest: r.s[n:], short: r.short}
}

// labelIter walks the validated label text after an appc name:
// [":" version] *("," key "=" value).
type labelIter struct {
	rest  string
	short bool
}

func (it *labelIter) next() (key, value string, ok bool) {
	if len(it.rest) < 2 {
		return "", "", false
	}
	body := it.rest[1:]
	end := strings.IndexByte(body, ',')
	if end < 0 {
		end = len(body)
	}
	item := body[:end]
	it.rest = body[end:]
	if it.short {
		it.short = false
		return "version", item, true
	}
	eq := strings.IndexByte(item, '=')
	if eq < 0 {
		return "", "", false
	}
	return item[:eq], item[eq+1:], true
}

// String returns the reference as written (Parse) or normalized
// (ParseNormalized); Parse(r.String()) yields r again.
func (r Reference) String() string {
	if r.pre != preNone {
		return prefixes[r.pre] + r.s
	}
	return r.s
}

// Canonical returns a canonical spelling: for the appc form the name
// followed by every label, "version" included, sorted by key
// ("example.com/app,arch=amd64,os=linux,version=1.0"); for the docker form
// String().
func (r Reference) Canonical() string {
	if r.form != FormAppc {
		return r.String()
	}
	ls := r.Labels()
	sort.Slice(ls, func(i, j int) bool { return ls[i].Key < ls[j].Key })
	var b strings.Builder
	b.WriteString(r.Name())
	for _, l := range ls {
		b.WriteByte(',')
		b.WriteString(l.Key)
		b.WriteByte('=')
		b.WriteString(l.Value)
	}
	return b.String()
}

// IsShort reports whether the name lacks a registry host and so needs
// qualifying (a search domain, or docker.io under normalization). It uses
// Docker's rule for the first path segment: a host is "localhost", or
// contains '.' or ':', or is an IPv6 literal, or contains an uppercase
// letter. So "app" and "org/app" are short; "example.com/app",
// "localhost/app" and "Org/app" are not. A ParseNormalized result is short
// only in distribution's "foo_bar.com/app" quirk (no valid host at all).
func (r Reference) IsShort() bool {
	return r.domain == "" || !looksLikeHost(r.domain)
}

func looksLikeHost(d string) bool {
	if d == "localhost" {
		return true
	}
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case c == '.' || c == ':' || c == '[':
			return true
		case 'A' <= c && c <= 'Z':
			return true
		}
	}
	return false
}
