package resolver

import (
	"crypto/sha512"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
)

// A cached resolution reads back as the Result that was stored, but for
// what belongs to one call (the trace, Cached, Stale, the TTL left): the
// compact form loses nothing, whatever shape the resolution has.
func TestCachedResultReadsBackAsStored(t *testing.T) {
	tagRef, tag := resolutionLike(7, 0)
	idx := tag.Digest
	manifest := digest.FromString("the linux/arm64 manifest")
	arm := &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	mirror := Endpoint{Endpoint: discovery.Endpoint{URL: "https://mirror.example.com", Repository: "mirrors/app",
		Caps: discovery.CapPull, Source: discovery.SourceTXT, Authenticated: discovery.AuthDNSSEC}, Capabilities: []string{"pull"}}
	second := Endpoint{Endpoint: discovery.Endpoint{URL: "https://second.example.com:5000", Repository: "team7/app7",
		Caps: discovery.CapResolve, Source: discovery.SourceSRV, Authenticated: discovery.AuthNone, TLSServerName: "second.example.com"},
		Capabilities: []string{"resolve"}}
	sha512Digest := digest.NewDigestFromBytes(digest.SHA512, func() []byte { s := sha512.Sum512([]byte("x")); return s[:] }())

	tests := []struct {
		name string
		ref  string
		edit func(*Result)
	}{
		{"a tag", tagRef, func(*Result) {}},
		{"a digest reference, no registry request", "registry7.example.com/team7/app7@" + idx.String(), func(r *Result) {
			r.MediaType, r.Size, r.TTL = "", 0, digestTTL
			r.Descriptor = ocispec.Descriptor{Digest: idx}
		}},
		{"a platform selected from an index", tagRef, func(r *Result) {
			r.Platform, r.PlatformDigest = "linux/arm64", manifest
			r.Pinned = "registry7.example.com/team7/app7@" + manifest.String()
			r.Descriptor = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: manifest, Size: 99, Platform: arm}
		}},
		{"a platform asked for, a manifest found", tagRef, func(r *Result) {
			r.Platform, r.MediaType = "linux/arm64", ocispec.MediaTypeImageManifest
			r.Descriptor.MediaType = r.MediaType
		}},
		{"a reference in appc form", "registry7.example.com/team7/app7,version=v1.7.0", func(*Result) {}},
		{"an unknown media type", tagRef, func(r *Result) {
			r.MediaType = "application/vnd.example.odd+json"
			r.Descriptor.MediaType = r.MediaType
		}},
		{"the second endpoint answered", tagRef, func(r *Result) {
			r.Endpoints = []Endpoint{mirror, second, r.Endpoints[0]}
			r.Registry, r.Repository, r.Authenticated = second.URL, second.Repository, second.Authenticated
			r.Pinned = "second.example.com:5000/team7/app7@" + idx.String()
		}},
		{"a registry no endpoint names", tagRef, func(r *Result) {
			r.Registry, r.Repository = "https://elsewhere.example.com", "other/repo"
		}},
		{"no endpoints, no chain", tagRef, func(r *Result) {
			r.Endpoints, r.Chain = nil, nil
		}},
		{"no pinned reference", tagRef, func(r *Result) { r.Pinned = "" }},
		{"a sha512 digest", tagRef, func(r *Result) {
			r.Digest, r.Descriptor.Digest = sha512Digest, sha512Digest
			r.Pinned = "registry7.example.com/team7/app7@" + sha512Digest.String()
		}},
		{"dnssec off, answered without authentication", tagRef, func(r *Result) {
			r.DNSSECOff, r.Authenticated = true, discovery.AuthNone
			r.Endpoints[0].Authenticated = discovery.AuthNone
		}},
		{"a TTL of zero", tagRef, func(r *Result) { r.TTL = 0 }},
		{"a DNS resolver without DNSSEC", tagRef, func(r *Result) { r.DNSSEC = "unavailable" }},
		{"another word for DNSSEC", tagRef, func(r *Result) { r.DNSSEC = "some later word" }},
		{"a verified signature", tagRef, func(r *Result) {
			r.Signature = &Signature{Verified: true, KeyID: "SHA256:abc", Digest: idx, Policy: "required", RequiredBy: "registry7.example.com", Keys: 1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := resolutionLike(7, 0)
			res.Ref = tt.ref
			tt.edit(&res)
			stored := res
			stored.Cached, stored.Stale, stored.Events = true, true, []trace.Event{{Source: "dns"}}
			var locs locationInterner
			c := newCachedResult(tt.ref, &stored, &locs)

			want := res
			want.TTLSeconds = int64(want.TTL / time.Second)
			if got := c.result(tt.ref, 0); !reflect.DeepEqual(got, want) {
				t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// Resolutions of tags of one repository that discovery sent the same way
// share one location; one sent elsewhere does not; and the locations no
// cached resolution holds are forgotten.
func TestCachedResultsShareTheirLocation(t *testing.T) {
	var locs locationInterner
	ref1, res1 := resolutionLike(3, 1)
	ref2, res2 := resolutionLike(3, 2) // the same repository, made anew
	ref3, res3 := resolutionLike(4, 1)
	c1, c2, c3 := newCachedResult(ref1, &res1, &locs), newCachedResult(ref2, &res2, &locs), newCachedResult(ref3, &res3, &locs)
	if c1.loc != c2.loc {
		t.Fatal("two tags of one repository keep a location each")
	}
	if c1.loc == c3.loc {
		t.Fatal("two repositories share a location")
	}
	r2 := c2.result(ref2, 0)
	if &r2.Endpoints[0] != &c1.result(ref1, 0).Endpoints[0] {
		t.Fatal("hits of the two tags do not share their endpoints")
	}

	// Discovery now sends the repository elsewhere: a new location.
	res4 := res2
	res4.Endpoints = []Endpoint{res2.Endpoints[0]}
	res4.Endpoints[0].URL, res4.Registry = "https://moved.example.com", "https://moved.example.com"
	if c4 := newCachedResult(ref2, &res4, &locs); c4.loc == c1.loc {
		t.Fatal("a changed location is shared with the old one")
	}

	for i := range 100 {
		ref, res := resolutionLike(1000+i, 0)
		newCachedResult(ref, &res, &locs) // dropped at once, as the cache evicts
	}
	runtime.KeepAlive(c1)
	runtime.KeepAlive(c3)
	c1, c2, c3 = cachedResult{}, cachedResult{}, cachedResult{}
	for try := 0; ; try++ {
		runtime.GC() // cleanups run after a collection, on their own goroutine
		locs.mu.Lock()
		n := len(locs.byEP)
		locs.mu.Unlock()
		if n == 0 {
			break
		}
		if try == 1000 {
			t.Fatalf("%d locations still remembered after every resolution holding them was dropped", n)
		}
		time.Sleep(time.Millisecond)
	}
}
