package resolver

import (
	"testing"

	"github.com/ocidns/ocidns/reference"
)

func idx(plats ...string) []descriptor {
	var ds []descriptor
	for _, s := range plats {
		if s == "" {
			ds = append(ds, descriptor{}) // no platform, like an attestation manifest
			continue
		}
		p, err := reference.ParsePlatform(s)
		if err != nil {
			// Some rows use spellings the index may carry but ParsePlatform
			// would normalise; split by hand.
			panic(s + ": " + err.Error())
		}
		ds = append(ds, descriptor{Platform: &ociPlatform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}})
	}
	return ds
}

func TestMatchPlatformFollowsContainerdRules(t *testing.T) {
	for _, tc := range []struct {
		want  reference.Platform
		index []descriptor
		pick  int
	}{
		// arm64 without a variant is v8, both ways.
		{reference.Platform{OS: "linux", Architecture: "arm64"}, idx("linux/amd64", "linux/arm64/v8", "linux/arm/v7"), 1},
		{reference.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, idx("linux/amd64", "linux/arm64"), 1},
		// arm without a variant is v7.
		{reference.Platform{OS: "linux", Architecture: "arm"}, idx("linux/arm/v6", "linux/arm/v7"), 1},
		{reference.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, idx("linux/arm64/v8", "linux/arm"), 1},
		// amd64 without a variant is v1; v1 runs on v3.
		{reference.Platform{OS: "linux", Architecture: "amd64"}, idx("linux/amd64/v3", "linux/amd64"), 1},
		{reference.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, idx("linux/amd64", "linux/amd64/v2"), 1},
		{reference.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, idx("linux/amd64/v4", "linux/amd64"), 1},
		// An older variant of the family runs; a newer does not; the
		// closest older wins.
		{reference.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, idx("linux/arm/v5", "linux/arm/v6"), 1},
		{reference.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, idx("linux/arm/v7"), -1},
		// No cross-architecture fallback.
		{reference.Platform{OS: "linux", Architecture: "arm64"}, idx("linux/arm/v7", "linux/amd64"), -1},
		{reference.Platform{OS: "linux", Architecture: "amd64"}, idx("linux/386"), -1},
		// os must match.
		{reference.Platform{OS: "windows", Architecture: "amd64"}, idx("linux/amd64"), -1},
		// Entries without a platform are skipped.
		{reference.Platform{OS: "linux", Architecture: "amd64"}, idx("", "linux/amd64"), 1},
		// Exact variant needed where variants are not ordered.
		{reference.Platform{OS: "linux", Architecture: "ppc64le"}, idx("linux/ppc64le"), 0},
		// Ties: the first in index order.
		{reference.Platform{OS: "linux", Architecture: "amd64"}, idx("linux/amd64", "linux/amd64"), 0},
		{reference.Platform{OS: "linux", Architecture: "amd64"}, nil, -1},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			if got := matchPlatform(tc.want, tc.index); got != tc.pick {
				t.Errorf("%s in %v: picked %d, want %d", tc.want, platforms(tc.index), got, tc.pick)
			}
		})
	}
}

func TestMatchPlatformNormalisesIndexSpellings(t *testing.T) {
	// Indexes in the wild carry uname spellings and bare variant numbers.
	ds := []descriptor{
		{Platform: &ociPlatform{OS: "Linux", Architecture: "x86_64"}},
		{Platform: &ociPlatform{OS: "linux", Architecture: "aarch64", Variant: "8"}},
		{Platform: &ociPlatform{OS: "linux", Architecture: "armhf"}},
	}
	for want, pick := range map[reference.Platform]int{
		{OS: "linux", Architecture: "amd64"}:                0,
		{OS: "linux", Architecture: "arm64", Variant: "v8"}: 1,
		{OS: "linux", Architecture: "arm", Variant: "v7"}:   2,
	} {
		if got := matchPlatform(want, ds); got != pick {
			t.Errorf("%s: picked %d, want %d", want, got, pick)
		}
	}
}

func platforms(ds []descriptor) []string {
	var s []string
	for _, d := range ds {
		if d.Platform == nil {
			s = append(s, "<none>")
		} else {
			s = append(s, d.Platform.String())
		}
	}
	return s
}
