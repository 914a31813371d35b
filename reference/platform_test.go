package reference

import (
	"errors"
	"strings"
	"testing"
)

// TestPlatformFromAppcLabels maps appc os/arch/variant labels, under appc,
// uname and Go names, to OCI platforms.
func TestPlatformFromAppcLabels(t *testing.T) {
	tests := map[string]string{
		"app,os=linux,arch=amd64":              "linux/amd64",
		"app,os=linux,arch=aarch64":            "linux/arm64",
		"app,os=linux,arch=arm64,variant=v8":   "linux/arm64/v8",
		"app,os=linux,arch=arm64,variant=8":    "linux/arm64/v8",
		"app,os=linux,arch=armv7l":             "linux/arm/v7",
		"app,os=linux,arch=armv7l,variant=v7":  "linux/arm/v7",
		"app,os=linux,arch=armv6l":             "linux/arm/v6",
		"app,os=linux,arch=arm,variant=7":      "linux/arm/v7",
		"app,os=linux,arch=armv7b":             "linux/armbe/v7",
		"app,os=linux,arch=aarch64_be":         "linux/arm64be",
		"app,os=linux,arch=i386":               "linux/386",
		"app,os=linux,arch=ppc64le":            "linux/ppc64le",
		"app,os=linux,arch=s390x":              "linux/s390x",
		"app,os=darwin,arch=x86_64":            "darwin/amd64",
		"app,os=freebsd,arch=i386":             "freebsd/386",
		"app,os=windows,arch=AMD64":            "windows/amd64",
		"app,os=linux":                         "linux",
		"app:1.0,arch=riscv64,os=linux":        "linux/riscv64",
		"app,version=1,os=Linux,arch=X86_64":   "linux/amd64",
		"app,os=linux,arch=amd64,variant=v3":   "linux/amd64/v3",
		"app,os=linux,arch=arm64,variant=v8.2": "linux/arm64/v8.2",
	}
	for in, want := range tests {
		r, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		p, ok, err := r.Platform()
		if err != nil || !ok || p.String() != want {
			t.Errorf("Platform(%q) = %q, %v, %v; want %q", in, p, ok, err, want)
		}
	}
}

// TestPlatformAbsent: no platform labels, or the docker form, is no platform.
func TestPlatformAbsent(t *testing.T) {
	for _, in := range []string{"app,version=1", "example.com/app:v1"} {
		t.Run(in, func(t *testing.T) {
			r, _ := Parse(in)
			if p, ok, err := r.Platform(); ok || err != nil || p != (Platform{}) {
				t.Errorf("Platform(%q) = %v, %v, %v", in, p, ok, err)
			}
		})
	}
}

// TestPlatformLabelErrors point at the label at fault.
func TestPlatformLabelErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"app,os=linux,arch=sparc", 18, "unknown architecture"},
		{"app,os=plan10,arch=amd64", 7, "unknown os"},
		{"app,arch=amd64", 9, "needs an os label"},
		{"app,os=linux,variant=v7", 21, "needs an arch label"},
		{"app,os=linux,arch=armv7l,variant=v6", 33, "contradicts"},
		{"app,os=linux,arch=arm,variant=v/7", 30, ""}, // '/' is a fine label value but no variant
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				if tt.msg == "" {
					return
				}
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			_, ok, err := r.Platform()
			var pe *ParseError
			if !ok || !errors.Is(err, ErrInvalidLabel) || !errors.As(err, &pe) || pe.Offset != tt.offset || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Platform(%q) = %v, %v; want offset %d containing %q", tt.in, ok, err, tt.offset, tt.msg)
			}
		})
	}
}

// TestParsePlatform reads --platform values.
func TestParsePlatform(t *testing.T) {
	good := map[string]Platform{
		"linux/arm64/v8": {"linux", "arm64", "v8"},
		"linux/amd64":    {"linux", "amd64", ""},
		"linux/aarch64":  {"linux", "arm64", ""},
		"linux/armv7l":   {"linux", "arm", "v7"},
		"Linux/ARM/7":    {"linux", "arm", "v7"},
		"windows/386":    {"windows", "386", ""},
	}
	for in, want := range good {
		p, err := ParsePlatform(in)
		if err != nil || p != want {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v", in, p, err, want)
		}
	}
	bad := map[string]int{"linux": 0, "": 0, "linux/": 6, "/amd64": 0, "linux/amd64/": 12, "linux/sparc": 6,
		"linux/arm/v7/x": 0, "beos/amd64": 0, "linux/armv7l/v6": 13, "linux/\u212a": 6}
	for in, off := range bad {
		_, err := ParsePlatform(in)
		var pe *ParseError
		if !errors.Is(err, ErrInvalidPlatform) || !errors.As(err, &pe) || pe.Offset != off {
			t.Errorf("ParsePlatform(%q) = %v, want ErrInvalidPlatform at %d", in, err, off)
		}
	}
}

// TestPlatformString prints what ParsePlatform reads.
func TestPlatformString(t *testing.T) {
	for _, s := range []string{"linux/amd64", "linux/arm/v7", "windows/arm64"} {
		t.Run(s, func(t *testing.T) {
			p, err := ParsePlatform(s)
			if err != nil || p.String() != s {
				t.Errorf("ParsePlatform(%q).String() = %q, %v", s, p, err)
			}
		})
	}
	if (Platform{}).String() != "" {
		t.Error("zero Platform should print empty")
	}
}
