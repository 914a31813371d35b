package check

import (
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// TestRegistryProbe pins GET /v2/: a registry answers 200 or 401 with a
// challenge; a web site or a closed port is not one.
func TestRegistryProbe(t *testing.T) {
	l := newLab(t, nil)
	tests := []struct {
		host string
		want string
	}{
		{"good.example.com", "info REGISTRY_OK"},         // 401 with a Bearer challenge
		{"notoci.example.com", "error REGISTRY_NOT_OCI"}, // 404 text/html
		{"down.example.com", "error REGISTRY_UNREACHABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			want(t, l.check(t, tt.host, nil), tt.want)
		})
	}
}

// TestRegistryProbeAnonymous: a registry without authentication answers
// 200 with the API version header.
func TestRegistryProbeAnonymous(t *testing.T) {
	l := newLab(t, nil)
	l.reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthNone})
	fs := l.check(t, "good.example.com", nil)
	want(t, fs, "info REGISTRY_OK")
	if f, _ := find(fs, CodeRegistryOK); !strings.Contains(f.Message, "200") {
		t.Errorf("want a 200 answer: %s", f)
	}
}

// TestRegistryProbeBasic: a Basic challenge is a registry's too.
func TestRegistryProbeBasic(t *testing.T) {
	l := newLab(t, nil)
	l.reg.SetAuth(registrytest.Auth{Mode: registrytest.AuthBasic, Username: "u", Password: "p"})
	fs := l.check(t, "good.example.com", nil)
	want(t, fs, "info REGISTRY_OK")
	if f, _ := find(fs, CodeRegistryOK); !strings.Contains(f.Message, "Basic challenge") {
		t.Errorf("want a Basic challenge: %s", f)
	}
}

// TestNothingPublished: a host without records sends every name to itself;
// here nothing answers there either.
func TestNothingPublished(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "nothing.example.com", func(c *Config) { c.NoWellKnown = true })
	want(t, fs, "warning NOTHING_PUBLISHED", "warning DIRECT_NOT_REGISTRY")
	wantNoErrors(t, fs)
}

// TestNoRegistryProbe: the probes can be turned off.
func TestNoRegistryProbe(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "notoci.example.com", func(c *Config) { c.NoRegistryProbe = true })
	want(t, fs, "info REGISTRY_NOT_CHECKED")
	wantNo(t, fs, CodeRegistryNotOCI)
}
