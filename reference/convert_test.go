package reference

import (
	"errors"
	"strings"
	"testing"
)

// TestToDocker: version becomes the tag, '+' becomes '_' (as Helm writes
// SemVer build metadata in OCI tags), other labels are dropped.
func TestToDocker(t *testing.T) {
	tests := map[string]string{
		"example.com/org/app,version=v1.0.0,os=linux,arch=arm64": "example.com/org/app:v1.0.0",
		"app:1.0.0+build.7,os=linux":                             "app:1.0.0_build.7",
		"example.com/app,os=linux":                               "example.com/app",
		"org/app,version=" + strings.Repeat("v", 128):            "org/app:" + strings.Repeat("v", 128),
		"localhost/a/b,version=latest":                           "localhost/a/b:latest",
		"example.com/org/app:v1":                                 "example.com/org/app:v1", // already docker
	}
	for in, want := range tests {
		r, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		d, err := r.ToDocker()
		if err != nil || d.String() != want || d.Form() != FormDocker {
			t.Errorf("ToDocker(%q) = %q, %v; want %q", in, d.String(), err, want)
		}
	}
}

// TestToDockerRefusesWhatOCICannotName: each error names the part and where.
func TestToDockerRefusesWhatOCICannotName(t *testing.T) {
	long := strings.Repeat("v", 129)
	tests := []struct {
		in     string
		kind   error
		offset int
		msg    string
	}{
		{"example.com/a~b,version=1", ErrInvalidFormat, 13, "'~' is not allowed"},
		{"app,version=" + long, ErrTagInvalidFormat, 12 + 128, "at most 128"},
		{"app:" + long + ",os=linux", ErrTagInvalidFormat, 4 + 128, "at most 128"},
		{"app,version=v1~rc", ErrTagInvalidFormat, 14, "'~' is not allowed in an OCI tag"},
		{"app,version=.1", ErrTagInvalidFormat, 12, "must start with"},
		{"app,version=é", ErrTagInvalidFormat, 12, "must start with"},
		{"foo_bar.com/app,version=1", ErrInvalidFormat, 0, "not a valid registry host"},
		{strings.Repeat("a", 256) + ",version=1", ErrNameTooLong, 0, "255"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			_, err = r.ToDocker()
			var pe *ParseError
			if !errors.Is(err, ErrNotConvertible) || !errors.Is(err, tt.kind) || !errors.As(err, &pe) ||
				pe.Offset != tt.offset || pe.Input != tt.in || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ToDocker(%q) = %v\n want %v at offset %d containing %q", tt.in, err, tt.kind, tt.offset, tt.msg)
			}
		})
	}
}

// TestToAppc: tag becomes version; no tag means "latest", as in Docker.
func TestToAppc(t *testing.T) {
	tests := []struct {
		in         string
		normalized bool
		want       string
	}{
		{"example.com/org/app:v1.0.0", false, "example.com/org/app,version=v1.0.0"},
		{"example.com/org/app", false, "example.com/org/app,version=latest"},
		{"ubuntu:22.04", true, "docker.io/library/ubuntu,version=22.04"},
		{"app:V_1.x", false, "app,version=V_1.x"},
		{"app,version=1", false, "app,version=1"}, // already appc
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			parse := Parse
			if tt.normalized {
				parse = ParseNormalized
			}
			r, err := parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			a, err := r.ToAppc()
			if err != nil || a.String() != tt.want || a.Form() != FormAppc {
				t.Errorf("ToAppc(%q) = %q, %v; want %q", tt.in, a.String(), err, tt.want)
			}
		})
	}
}

// TestToAppcRefusesWhatAppcCannotName: ports, IPv6, uppercase hosts,
// docker-only separators and digests.
func TestToAppcRefusesWhatAppcCannotName(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"localhost:5000/app:v1", 9, "port"},
		{"[::1]/app", 0, "IPv6"},
		{"Example.com/app", 0, "lowercase"},
		{"example.com/a__b", 14, "one at a time"},
		{"example.com/a--b", 14, "one at a time"},
		{"app@sha256:" + hex64, 4, "digest"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			_, err = r.ToAppc()
			var pe *ParseError
			if !errors.Is(err, ErrNotConvertible) || !errors.As(err, &pe) || pe.Offset != tt.offset || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ToAppc(%q) = %v\n want offset %d containing %q", tt.in, err, tt.offset, tt.msg)
			}
		})
	}
}

// TestConversionsRoundTrip: docker → appc → docker keeps name and tag when
// the tag has no '_' (which ToDocker cannot tell from a '+').
func TestConversionsRoundTrip(t *testing.T) {
	for _, in := range []string{"example.com/org/app:v1.0.0", "localhost/a/b:c", "x.io/y:1.2-rc.3"} {
		t.Run(in, func(t *testing.T) {
			r, _ := Parse(in)
			a, err := r.ToAppc()
			if err != nil {
				t.Fatal(err)
			}
			d, err := a.ToDocker()
			if err != nil || d.String() != in {
				t.Errorf("%q → %q → %q, %v", in, a, d, err)
			}
		})
	}
}

// TestIsShortUsesDockersHostRule: Domain mirrors distribution (org/app has
// domain "org") but IsShort asks whether a registry host is present.
func TestIsShortUsesDockersHostRule(t *testing.T) {
	tests := map[string]bool{
		"app": true, "org/app": true, "a/b/c:v1": true, "foo_bar.com/app": true,
		"app,version=1": true, "org/app,version=1": true,
		"example.com/app": false, "localhost/app": false, "registry:5000/app": false,
		"[::1]/app": false, "Org/app": false, "example.com/app,version=1": false, "localhost/app,os=linux": false,
	}
	for in, want := range tests {
		r, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if r.IsShort() != want {
			t.Errorf("Parse(%q).IsShort() = %v (domain %q)", in, r.IsShort(), r.Domain())
		}
	}
}

// TestWithDomain qualifies short names with a search domain, in either form.
func TestWithDomain(t *testing.T) {
	tests := []struct{ in, domain, want string }{
		{"app", "example.com", "example.com/app"},
		{"org/app:v1", "example.com", "example.com/org/app:v1"},
		{"app@sha256:" + hex64, "registry:5000", "registry:5000/app@sha256:" + hex64},
		{"app,version=1", "example.com", "example.com/app,version=1"},
		{"org/app:1,os=linux", "localhost", "localhost/org/app:1,os=linux"},
		{"app", "[::1]:5000", "[::1]:5000/app"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, _ := Parse(tt.in)
			q, err := r.WithDomain(tt.domain)
			if err != nil || q.String() != tt.want || q.Domain() != tt.domain || q.IsShort() {
				t.Errorf("WithDomain(%q, %q) = %q (domain %q), %v; want %q", tt.in, tt.domain, q.String(), q.Domain(), err, tt.want)
			}
		})
	}
}

// TestWithDomainRefuses: already qualified, not a host, or the result
// breaks a limit Parse enforces.
func TestWithDomainRefuses(t *testing.T) {
	tests := []struct{ in, domain, msg string }{
		{"example.com/app", "other.com", "already qualified"},
		{"app", "", "a search domain is a host"},
		{"app", "org", "a search domain is a host"},
		{"app", "foo_bar.com", "a search domain is a host"},
		{"app", "example.com/x", "a search domain is a host"},
		{"app,version=1", "localhost:5000", "not a valid host in appc names"},
		{"app,version=1", "[::1]", "IPv6"},
		{"app,version=1", "Example.com", "uppercase"},
		{"org/" + strings.Repeat("a", 252), "example.com", "must not be more than 255"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			_, err = r.WithDomain(tt.domain)
			if !errors.Is(err, ErrNotConvertible) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("WithDomain(%q, %q) = %v, want ErrNotConvertible containing %q", tt.in, tt.domain, err, tt.msg)
			}
		})
	}
}
