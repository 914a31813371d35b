package reference

import (
	"errors"
	"strings"
	"testing"
)

// TestParseNormalizedFollowsDocker pins Docker's familiar-name rules.
func TestParseNormalizedFollowsDocker(t *testing.T) {
	tests := []struct {
		in, domain, path, tag, str string
	}{
		{"ubuntu", "docker.io", "library/ubuntu", "", "docker.io/library/ubuntu"},
		{"ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", "docker.io/library/ubuntu:22.04"},
		{"org/app", "docker.io", "org/app", "", "docker.io/org/app"},
		{"docker.io/ubuntu", "docker.io", "library/ubuntu", "", "docker.io/library/ubuntu"},
		{"docker.io/org/app", "docker.io", "org/app", "", "docker.io/org/app"},
		{"index.docker.io/ubuntu", "docker.io", "library/ubuntu", "", "docker.io/library/ubuntu"},
		{"index.docker.io/org/app:v1", "docker.io", "org/app", "v1", "docker.io/org/app:v1"},
		{"example.com/app", "example.com", "app", "", "example.com/app"},
		{"localhost/app", "localhost", "app", "", "localhost/app"},
		{"registry:5000/app", "registry:5000", "app", "", "registry:5000/app"},
		{"Foo/bar", "Foo", "bar", "", "Foo/bar"},
		// Docker's own quirks, kept on purpose.
		{"localhost:5000", "docker.io", "library/localhost", "5000", "docker.io/library/localhost:5000"},
		{"foo_bar.com/app", "", "foo_bar.com/app", "", "foo_bar.com/app"},
		{"[::1]:5000/app", "[::1]:5000", "app", "", "[::1]:5000/app"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseNormalized(tt.in)
			if err != nil {
				t.Errorf("ParseNormalized(%q): %v", tt.in, err)
				return
			}
			if r.Domain() != tt.domain || r.Path() != tt.path || r.Tag() != tt.tag || r.String() != tt.str {
				t.Errorf("ParseNormalized(%q) = %q %q %q %q, want %q %q %q %q",
					tt.in, r.Domain(), r.Path(), r.Tag(), r.String(), tt.domain, tt.path, tt.tag, tt.str)
			}
			if r.Name() != strings.TrimSuffix(tt.str, suffix(r)) {
				t.Errorf("ParseNormalized(%q).Name() = %q", tt.in, r.Name())
			}
		})
	}
}

// TestParseNormalizedLimits: "library/" counts toward the 255 bytes, bare
// 64-hex is an image ID, and uppercase in the repository wins over
// everything else wrong with the input.
func TestParseNormalizedLimits(t *testing.T) {
	if _, err := ParseNormalized(strings.Repeat("a", 247)); err != nil {
		t.Errorf("247 bytes + library/ = 255: %v", err)
	}
	_, err := ParseNormalized(strings.Repeat("a", 248))
	if !errors.Is(err, ErrNameTooLong) || !strings.Contains(err.Error(), `implied "library/"`) {
		t.Errorf("248 bytes + library/: %v", err)
	}
	if _, err := Parse(strings.Repeat("a", 248)); err != nil {
		t.Errorf("Parse counts no library/: %v", err)
	}
	_, err = ParseNormalized(hex64)
	if !errors.Is(err, ErrNameNotCanonical) {
		t.Errorf("64 hex: %v", err)
	}
	if r, err := ParseNormalized(hex64[:63]); err != nil || r.Path() != "library/"+hex64[:63] {
		t.Errorf("63 hex is a name: %v %v", r, err)
	}
	_, err = ParseNormalized("org/App:bad tag")
	var pe *ParseError
	if !errors.Is(err, ErrNameContainsUppercase) || !errors.As(err, &pe) || pe.Offset != 4 || pe.Component != "App" {
		t.Errorf("uppercase first: %v", err)
	}
}

// TestParseNormalizedAppc: a short appc name is qualified like a familiar one.
func TestParseNormalizedAppc(t *testing.T) {
	tests := map[string]string{
		"app,version=1":                 "docker.io/library/app,version=1",
		"org/app:1,os=linux":            "docker.io/org/app:1,os=linux",
		"example.com/app,version=1":     "example.com/app,version=1",
		"localhost/app,version=1":       "localhost/app,version=1",
		"docker.io/library/x,version=1": "docker.io/library/x,version=1",
	}
	for in, want := range tests {
		r, err := ParseNormalized(in)
		if err != nil || r.String() != want || r.Form() != FormAppc {
			t.Errorf("ParseNormalized(%q) = %q, %v; want %q", in, r.String(), err, want)
		}
	}
}
