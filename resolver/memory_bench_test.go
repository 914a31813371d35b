package resolver

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocidns/ocidns/discovery"
)

// BenchmarkMemoryPerCachedResolution fills the resolution cache with
// 1,000,000 resolutions shaped as the resolver makes them (distinct
// references and digests over 97 registries, each with its pinned
// reference, descriptor, endpoint and one-step delegation chain) and
// reports the heap each takes. own-repository gives every reference a
// repository of its own; ten-tags-a-repository resolves ten tags of each
// repository, as a cache in front of a cluster holds them. Run it alone:
//
//	go test -run '^$' -bench MemoryPerCachedResolution -benchtime 1x ./resolver/
func BenchmarkMemoryPerCachedResolution(b *testing.B) {
	for _, tags := range []int{1, 10} {
		name := "own-repository"
		if tags > 1 {
			name = fmt.Sprintf("%d-tags-a-repository", tags)
		}
		b.Run(name, func(b *testing.B) {
			const n = 1_000_000
			for b.Loop() {
				r, err := New(WithCacheSize(n), WithDNSServers("127.0.0.1:9"))
				if err != nil {
					b.Fatal(err)
				}
				before := heap()
				for i := range n {
					ref, res := resolutionLike(i/tags, i%tags)
					r.results.c.Set(resultKey{ref: ref}, newCachedResult(ref, &res, &r.results.locs), res.TTL)
				}
				after := heap()
				if got := r.results.c.Len(); got != n {
					b.Fatalf("%d entries cached, want %d", got, n)
				}
				b.ReportMetric(float64(after-before)/n, "B/entry")
				runtime.KeepAlive(r)
			}
		})
	}
}

// resolutionLike returns the reference and Result of the tag-th tag of
// the repo-th repository, its strings and slices made anew as a
// resolution makes them.
func resolutionLike(repo, tag int) (string, Result) {
	host := fmt.Sprintf("registry%d.example.com", repo%97)
	path := fmt.Sprintf("team%d/app%d", repo%1000, repo)
	ref := fmt.Sprintf("%s/%s:v1.%d.%d", host, path, repo%13, tag)
	sum := sha256.Sum256([]byte(ref))
	d := digest.NewDigestFromBytes(digest.SHA256, sum[:])
	ep := discovery.Endpoint{URL: "https://" + host, Repository: path, Caps: discovery.CapResolve | discovery.CapPull,
		Source: discovery.SourceTXT, Authenticated: discovery.AuthDNSSEC}
	step := discovery.Step{Host: host, Path: path, Source: discovery.SourceTXT, Record: "v=oci1; registry=https://" + host,
		TTL: time.Hour, Authenticated: discovery.AuthDNSSEC}
	mt := ocispec.MediaTypeImageIndex
	return ref, Result{
		Ref: ref, Resolved: ref,
		Digest: d, MediaType: mt, Size: 1234,
		Registry: ep.URL, Repository: ep.Repository, Authenticated: ep.Authenticated,
		Pinned:     host + "/" + path + "@" + d.String(),
		Descriptor: ocispec.Descriptor{MediaType: mt, Digest: d, Size: 1234},
		Endpoints:  endpoints([]discovery.Endpoint{ep}),
		Chain:      []discovery.Step{step},
		TTL:        DefaultTagTTL, TTLSeconds: 60,
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
