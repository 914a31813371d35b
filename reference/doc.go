// Package reference parses container image names in the two forms ocidns
// accepts and converts between them.
//
// # Docker / OCI form (the input has no ',')
//
// In ABNF (RFC 5234; quoted strings are case-sensitive here):
//
//	reference   = name [ ":" tag ] [ "@" digest ]
//	name        = [ domain "/" ] path
//	domain      = host [ ":" port ]
//	host        = hostname / "[" 1*( HEXDIG / ":" ) "]"      ; IPv6 literal, no zone
//	hostname    = hostlabel *( "." hostlabel )
//	hostlabel   = alnum [ *( alnum / "-" ) alnum ]           ; either case
//	port        = 1*DIGIT
//	path        = component *( "/" component )
//	component   = lowalnum *( separator lowalnum )
//	lowalnum    = 1*( %x61-7A / DIGIT )                      ; a-z 0-9
//	separator   = "." / "_" / "__" / 1*"-"
//	tag         = word *127( word / "." / "-" )              ; 1 to 128 bytes
//	word        = ALPHA / DIGIT / "_"
//	digest      = algorithm ":" 32*HEXDIG
//	algorithm   = algpart *( ( "-" / "_" / "+" / "." ) algpart )
//	algpart     = ALPHA *( ALPHA / DIGIT )
//	alnum       = ALPHA / DIGIT
//
// Beyond the grammar, and exactly as github.com/distribution/reference
// v0.6.0 decides (this package is tested against it):
//
//   - The first path segment is the domain whenever it matches domain and a
//     '/' follows, so "org/app" has domain "org" and "Org/app" has domain
//     "Org". A first segment that is no valid host is part of the path:
//     "foo_bar.com/app" has no domain. [Reference.IsShort] applies Docker's
//     separate rule for "does this name still need a registry".
//   - The path, not counting the domain, is at most 255 bytes.
//   - The digest must also satisfy github.com/opencontainers/go-digest:
//     sha256 with 64, sha384 with 96 or sha512 with 128 lowercase hex digits.
//   - Uppercase is an error of its own (ErrNameContainsUppercase) when
//     lowercasing the whole input would make it valid.
//
// [ParseNormalized] then applies Docker's familiar-name rules: when the
// first segment is not "localhost", contains no '.' or ':', and is all
// lowercase, "docker.io/" is implied; on docker.io a one-component path
// gets "library/" (which counts toward the 255 bytes); "index.docker.io"
// becomes "docker.io"; a bare 64-hex string is refused as an image ID;
// uppercase in the repository part (after the host, before the first ':')
// is refused before anything else. So "localhost:5000" is
// docker.io/library/localhost with tag "5000", as in Docker.
//
// # appc form (the input has a ',')
//
//	appc        = acname [ ":" value ] 1*( "," label )
//	label       = acname "=" value                           ; acname "name" is reserved
//	acname      = lowalnum *( ( "-" / "." / "_" / "~" / "/" ) lowalnum )
//	value       = 1*vchar          ; valid UTF-8, no ",", "=", ":", space or control
//
// The ":value" shorthand is the "version" label; a key appears at most
// once, the shorthand included. Labels keep their input order; the version
// is also the reference's Tag. The domain is the first segment of the name
// when it contains a '.' or is "localhost". [Reference.Canonical] sorts
// the labels.
//
// # Round trips and conversions
//
// For every s that Parse accepts, String() returns s. [Reference.ToDocker]
// turns version into tag ('+' becomes '_'), [Reference.ToAppc] turns tag
// into version ("latest" when absent), [Reference.WithDomain] qualifies a
// short name with a search domain, and [Reference.Platform] reads the
// os/arch/variant labels.
//
// # Errors and cost
//
// Every parse error is, or wraps, a *[ParseError] with the byte offset and
// the part at fault, wrapping one of the Err* sentinels (errors.As finds
// it). No input panics. A valid Parse (either form) or docker-form
// ParseNormalized does not allocate; the appc labels stay text inside the
// Reference until asked for. A docker-form name they refuse costs one
// 16-byte allocation when the caller keeps the error, none when it only
// tests it: its *ParseError is worded when the error is read.
package reference
