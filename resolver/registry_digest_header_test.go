package resolver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: without a usable Docker-Content-Digest, GET the
// manifest (at most 4 MiB), hash it, and require any header digest to match.
func TestMissingDigestHeaderFallsBackToGETAndHash(t *testing.T) {
	for _, f := range []registrytest.Faults{
		{StripDigest: true},
		{StripDigest: true, Chunked: true}, // no Content-Length either: the body is streamed and hashed
	} {
		t.Run(fmt.Sprint("chunked=", f.Chunked), func(t *testing.T) {
			reg := registrytest.StartT(t, registrytest.Options{Faults: f})
			want := reg.MustPushImage(t, "org/app", "v1")
			c, _ := testClient(t, reg, nil)
			tr := trace.New(nil)
			res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, tr)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			if res.Digest != want || res.MediaType != mediaTypeOCIManifest {
				t.Fatalf("%+v: got %+v, want %s", f, res, want)
			}
			if n := reg.Requests(); n.ManifestHEAD != 1 || n.ManifestGET != 1 {
				t.Fatalf("%+v: requests %+v", f, n)
			}
			ev := tr.Events()
			if len(ev) != 2 || !strings.Contains(ev[0].Decision, "no Docker-Content-Digest") || !strings.HasPrefix(ev[1].Query, "GET ") {
				t.Fatalf("trace %+v", ev)
			}
		})
	}
}

func TestWrongHeaderDigestIsAnErrorNeverIgnored(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	want := reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil)
	reg.SetFaults(registrytest.Faults{WrongDigest: true})

	// HEAD alone cannot detect the lie; every path that fetches must.
	ep := endpointFor(reg, "org/app")
	for name, call := range map[string]func() error{
		"tag+verify": func() error {
			_, err := c.resolve(context.Background(), ep, "r", "v1", "", nil, true, nil)
			return err
		},
		"tag+platform": func() error {
			_, err := c.resolve(context.Background(), ep, "r", "v1", "", platform(t, "linux/amd64"), false, nil)
			return err
		},
		"digest+verify": func() error {
			_, err := c.resolve(context.Background(), ep, "r", "", want, nil, true, nil)
			return err
		},
	} {
		e := wantKind(t, call(), ErrDigestMismatch)
		if !strings.Contains(e.Error(), "Docker-Content-Digest says") || !strings.Contains(e.Error(), want.String()) {
			t.Errorf("%s: error %q should name both digests", name, e)
		}
		if e.Host != reg.Host() || e.Step != "GET manifest" {
			t.Errorf("%s: error fields %+v", name, e)
		}
	}
}

func TestHEADDigestHeaderUsedOnlyWhenValid(t *testing.T) {
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"sha256:" + strings.Repeat("a", 64), true},
		{"", false},
		{"sha256:abc", false},
		{"sha256:" + strings.Repeat("A", 64), false},
		{"md5:" + strings.Repeat("a", 32), false},
		{"not a digest", false},
	} {
		t.Run(tc.header, func(t *testing.T) {
			_, present, err := parseDigestHeader(tc.header)
			if ok := present && err == nil; ok != tc.ok {
				t.Errorf("%q: usable=%v, want %v (err %v)", tc.header, ok, tc.ok, err)
			}
		})
	}
}

func TestDigestReferenceNeedsNoRequestUnlessVerified(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	want := reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil)
	ep := endpointFor(reg, "org/app")
	res, err := c.resolve(context.Background(), ep, "r", "", want, nil, false, nil)
	if err != nil || res.Digest != want {
		t.Fatalf("got %+v %v", res, err)
	}
	if n := reg.Requests().Manifests(); n != 0 {
		t.Fatalf("%d requests for a digest reference", n)
	}
	res, err = c.resolve(context.Background(), ep, "r", "", want, nil, true, nil)
	if err != nil || res.Digest != want || res.Size == 0 || res.MediaType != mediaTypeOCIManifest {
		t.Fatalf("verify: got %+v %v", res, err)
	}
	if n := reg.Requests(); n.ManifestGET != 1 || n.ManifestHEAD != 0 {
		t.Fatalf("verify: requests %+v, want one GET", n)
	}
	// A digest the registry does not have is "not found", so the next
	// endpoint can be tried.
	other := registrytest.StartT(t, registrytest.Options{})
	c2, _ := testClient(t, other, nil)
	_, err = c2.resolve(context.Background(), endpointFor(other, "org/app"), "r", "", want, nil, true, nil)
	wantKind(t, err, ErrNotFound)
}

func TestTagAndDigestTogetherMeanTheDigest(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	want := reg.MustPushImage(t, "org/app", "v1")
	reg.MustPushImage(t, "org/app", "v2", registrytest.WithSeed("other"))
	c, _ := testClient(t, reg, nil)
	res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v2", want, nil, true, nil)
	if err != nil || res.Digest != want {
		t.Fatalf("got %+v %v, want the digest %s", res, err, want)
	}
}
