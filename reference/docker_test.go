package reference

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

var hex64 = strings.Repeat("0123456789abcdef", 4)

// TestParseDockerSplits pins how a docker-form name splits into its parts,
// quirks included, each row as distribution/reference v0.6.0 splits it.
func TestParseDockerSplits(t *testing.T) {
	tests := []struct {
		in, domain, path, tag, digest string
	}{
		{"ubuntu", "", "ubuntu", "", ""},
		{"ubuntu:22.04", "", "ubuntu", "22.04", ""},
		{"example.com/org/app:v1.0.0", "example.com", "org/app", "v1.0.0", ""},
		{"localhost:5000/a/b/c:tag@sha256:" + hex64, "localhost:5000", "a/b/c", "tag", "sha256:" + hex64},
		{"app@sha256:" + hex64, "", "app", "", "sha256:" + hex64},
		// The first segment is a domain whenever it is a valid host.
		{"org/app", "org", "app", "", ""},
		{"a/b/c", "a", "b/c", "", ""},
		// Uppercase is allowed in domains, so an uppercase first segment is one.
		{"Foo/bar", "Foo", "bar", "", ""},
		{"EXAMPLE.COM/app", "EXAMPLE.COM", "app", "", ""},
		// '_' is not allowed in hosts, so this is all path.
		{"foo_bar.com/app", "", "foo_bar.com/app", "", ""},
		// Without a '/', "localhost:5000" is a name and a tag.
		{"localhost:5000", "", "localhost", "5000", ""},
		{"[::1]:5000/app:tag", "[::1]:5000", "app", "tag", ""},
		{"[2001:db8::1]/org/app", "[2001:db8::1]", "org/app", "", ""},
		{"127.0.0.1:5000/app", "127.0.0.1:5000", "app", "", ""},
		{"a__b/c--d.e_f-g:T_1.x-y", "", "a__b/c--d.e_f-g", "T_1.x-y", ""},
		{"app:" + strings.Repeat("t", 128), "", "app", strings.Repeat("t", 128), ""},
		{strings.Repeat("a", 255), "", strings.Repeat("a", 255), "", ""},
		{"e.com/" + strings.Repeat("a", 255), "e.com", strings.Repeat("a", 255), "", ""},
		{"app@sha512:" + hex64 + hex64, "", "app", "", "sha512:" + hex64 + hex64},
		{"app@sha384:" + hex64 + hex64[:32], "", "app", "", "sha384:" + hex64 + hex64[:32]},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Errorf("Parse(%q): %v", tt.in, err)
				return
			}
			if r.Form() != FormDocker || r.Domain() != tt.domain || r.Path() != tt.path || r.Tag() != tt.tag || string(r.Digest()) != tt.digest {
				t.Errorf("Parse(%q) = domain %q path %q tag %q digest %q, want %q %q %q %q",
					tt.in, r.Domain(), r.Path(), r.Tag(), r.Digest(), tt.domain, tt.path, tt.tag, tt.digest)
			}
			if r.String() != tt.in {
				t.Errorf("Parse(%q).String() = %q", tt.in, r.String())
			}
			wantName := tt.path
			if tt.domain != "" {
				wantName = tt.domain + "/" + tt.path
			}
			if r.Name() != wantName {
				t.Errorf("Parse(%q).Name() = %q, want %q", tt.in, r.Name(), wantName)
			}
		})
	}
}

// TestParseDockerErrors pins what is wrong and where, for people.
func TestParseDockerErrors(t *testing.T) {
	tests := []struct {
		in        string
		kind      error
		offset    int
		component string
		msg       string // substring of Error()
	}{
		{"example.com/Org/app", ErrNameContainsUppercase, 12, "Org", `repository name must be lowercase: "Org" at offset 12`},
		{"", ErrNameEmpty, 0, "", "at least one component"},
		{"UBUNTU", ErrNameContainsUppercase, 0, "UBUNTU", ""},
		{"Foo/Bar", ErrNameContainsUppercase, 4, "Bar", ""},
		{"fooBar!", ErrInvalidFormat, 6, "fooBar!", "'!' is not allowed"},
		{"app:", ErrTagInvalidFormat, 4, "", "must start with a letter, digit or '_'"},
		{"app:.x", ErrTagInvalidFormat, 4, ".x", ""},
		{"app:v1 0", ErrTagInvalidFormat, 6, "v1 0", "' '"},
		{"app:" + strings.Repeat("t", 129), ErrTagInvalidFormat, 132, strings.Repeat("t", 129), "at most 128"},
		{"app@sha256:abc", ErrDigestInvalidFormat, 14, "sha256:abc", "at least 32"},
		{"app@md5:" + hex64[:32], ErrDigestInvalidFormat, 4, "md5:" + hex64[:32], "unsupported digest algorithm"},
		{"app@sha256:" + hex64[:40], ErrDigestInvalidFormat, 11, "sha256:" + hex64[:40], "needs 64 hex digits, this has 40"},
		{"app@sha256:" + strings.ToUpper(hex64), ErrDigestInvalidFormat, 21, "sha256:" + strings.ToUpper(hex64), "lowercase"},
		{strings.Repeat("a", 256), ErrNameTooLong, 0, strings.Repeat("a", 256), "256 bytes"},
		{"a//b", ErrInvalidFormat, 2, "", "empty path component"},
		{"app/", ErrInvalidFormat, 4, "", "ends with an empty component"},
		{"a-/b", ErrInvalidFormat, 2, "a-", "separators"},
		{"a-", ErrInvalidFormat, 2, "a-", "end with a lowercase letter or digit"},
		{"a..b", ErrInvalidFormat, 2, "a..b", "separators"},
		{"a___b", ErrInvalidFormat, 3, "a___b", "separators"},
		{"example.com:50a/app", ErrInvalidFormat, 14, "example.com:50a", "port must be decimal digits"},
		{"ex-.com/app", ErrInvalidFormat, 2, "ex-.com", "must not end with '-'"},
		{"[::1/app", ErrInvalidFormat, 4, "[::1", "IPv6"},
		{"app\x00", ErrInvalidFormat, 3, "app\x00", `byte "\x00"`},
		{"https://example.com/app", ErrInvalidFormat, 6, "https:", `no URL scheme: drop "https://"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("Parse(%q) = %v, want a *ParseError", tt.in, err)
				return
			}
			if !errors.Is(err, tt.kind) || pe.Offset != tt.offset || pe.Component != tt.component || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse(%q) = %v (offset %d, component %q, kind %v)\n want kind %v offset %d component %q containing %q",
					tt.in, err, pe.Offset, pe.Component, pe.Err, tt.kind, tt.offset, tt.component, tt.msg)
			}
		})
	}
}

// TestFinerErrorsAlsoMatchInvalidFormat: code that only asks "is this a
// format error" keeps working when we say more precisely which part.
func TestFinerErrorsAlsoMatchInvalidFormat(t *testing.T) {
	for _, in := range []string{"app:.", "app@x:1", "app,a=", "app,=1"} {
		t.Run(in, func(t *testing.T) {
			_, err := Parse(in)
			if !errors.Is(err, ErrInvalidFormat) {
				t.Errorf("Parse(%q) = %v, want errors.Is ErrInvalidFormat", in, err)
			}
		})
	}
	if _, err := Parse("A"); errors.Is(err, ErrInvalidFormat) {
		t.Errorf("uppercase error %v should not match ErrInvalidFormat", err)
	}
}

// TestDigestErrorsWrapGoDigest: a digest go-digest refuses keeps go-digest's
// reason reachable, as distribution/reference returns it.
func TestDigestErrorsWrapGoDigest(t *testing.T) {
	tests := map[string]error{
		"app@sha1:" + hex64[:40]:               digest.ErrDigestUnsupported,
		"app@SHA256:" + hex64:                  digest.ErrDigestInvalidFormat,
		"app@sha256:" + hex64[:63]:             digest.ErrDigestInvalidLength,
		"app@sha256:" + strings.ToUpper(hex64): digest.ErrDigestInvalidFormat,
	}
	for in, want := range tests {
		_, err := Parse(in)
		if !errors.Is(err, want) || !errors.Is(err, ErrDigestInvalidFormat) {
			t.Errorf("Parse(%q) = %v, want it to wrap %v and ErrDigestInvalidFormat", in, err, want)
		}
	}
}

// TestParseNeverPanics feeds hostile shapes; the fuzz targets do the rest.
func TestParseNeverPanics(t *testing.T) {
	inputs := []string{
		strings.Repeat("/", 1000), strings.Repeat("a/", 100000), strings.Repeat("[", 1000) + "/a",
		strings.Repeat(",", 1000), strings.Repeat("a,b=c", 10000), "a" + strings.Repeat(",k=v", 5000),
		"a@" + strings.Repeat("sha256+", 1000), strings.Repeat("\xff", 100), "\u212a/\u212a:\u212a",
		strings.Repeat("x", 1<<20) + ".com/app",
	}
	for _, in := range inputs {
		for _, parse := range []func(string) (Reference, error){Parse, ParseNormalized} {
			r, err := parse(in)
			if err != nil {
				checkParseError(t, in, err)
				continue
			}
			_, _ = r.ToDocker()
			_, _ = r.ToAppc()
			_, _, _ = r.Platform()
		}
	}
}

// TestLongDomainIsValid: distribution limits the path, not the domain.
func TestLongDomainIsValid(t *testing.T) {
	in := strings.Repeat("x", 1<<16) + ".com/app"
	r, err := Parse(in)
	if err != nil || r.Path() != "app" {
		t.Fatalf("Parse(long domain) = %v, %v", r.Path(), err)
	}
}
