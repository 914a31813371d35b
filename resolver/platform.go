package resolver

import (
	"strconv"
	"strings"

	"github.com/ocidns/ocidns/reference"
)

// This file chooses a platform's manifest from an image index, the way
// containerd's platform matcher does for a pull:
//
//   - os and architecture must be equal after normalisation (x86_64 is
//     amd64, aarch64 is arm64, armhf is arm/v7, ...); no cross-architecture
//     fallback (arm64 does not take arm, amd64 does not take 386);
//   - a missing variant is the architecture's baseline: arm64 → v8,
//     arm → v7, amd64 → v1;
//   - a CPU runs code for its own variant and older ones of its family, so
//     arm/v7 accepts v7, v6, v5 and amd64/v3 accepts v3, v2, v1 — the
//     closest one wins; other architectures need the exact variant;
//   - among equally good children, the first in the index wins.

// ociPlatform is an index entry's platform, as in the OCI image spec.
type ociPlatform struct {
	OS           string   `json:"os"`
	Architecture string   `json:"architecture"`
	Variant      string   `json:"variant,omitempty"`
	OSVersion    string   `json:"os.version,omitempty"`
	OSFeatures   []string `json:"os.features,omitempty"`
}

// String formats the platform as os/arch[/variant].
func (p ociPlatform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

func (p ociPlatform) reference() reference.Platform {
	return reference.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// normPlatform is a platform in comparable form.
type normPlatform struct {
	os, arch, variant string
}

// normalizePlatform lower-cases and resolves the aliases and variant
// defaults described at the top of this file.
func normalizePlatform(os, arch, variant string) normPlatform {
	os, arch, variant = strings.ToLower(os), strings.ToLower(arch), strings.ToLower(variant)
	switch os {
	case "macos":
		os = "darwin"
	}
	switch arch {
	case "x86_64", "x86-64", "amd64":
		arch = "amd64"
	case "i386", "i686", "386":
		arch = "386"
	case "aarch64", "arm64":
		arch = "arm64"
	case "armhf":
		arch, variant = "arm", "v7"
	case "armel":
		arch, variant = "arm", "v6"
	case "armv5l", "armv6l", "armv7l", "armv8l":
		arch, variant = "arm", "v"+arch[4:5]
	}
	if variant != "" && variant[0] >= '0' && variant[0] <= '9' {
		variant = "v" + variant // "7" → "v7", as containerd accepts
	}
	switch arch {
	case "arm64":
		if variant == "" || variant == "v8.0" {
			variant = "v8"
		}
	case "arm":
		if variant == "" {
			variant = "v7"
		}
	case "amd64":
		if variant == "" {
			variant = "v1"
		}
	}
	return normPlatform{os: os, arch: arch, variant: variant}
}

// variantLevel parses "vN" or "vN.M" into a comparable number.
func variantLevel(v string) (float64, bool) {
	if len(v) < 2 || v[0] != 'v' {
		return 0, false
	}
	f, err := strconv.ParseFloat(v[1:], 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return f, true
}

// hasVariantFamily lists architectures whose variants are ordered levels,
// each running code built for the lower ones.
func hasVariantFamily(arch string) bool {
	return arch == "arm" || arch == "arm64" || arch == "amd64"
}

// platformScore rates how well have runs on want: 0 is exact, higher is a
// lower compatible variant, -1 does not run.
func platformScore(want, have normPlatform) float64 {
	if want.os != have.os || want.arch != have.arch {
		return -1
	}
	if want.variant == have.variant {
		return 0
	}
	if !hasVariantFamily(want.arch) {
		return -1
	}
	w, ok1 := variantLevel(want.variant)
	h, ok2 := variantLevel(have.variant)
	if !ok1 || !ok2 || h > w {
		return -1
	}
	return w - h
}

// matchPlatform returns the index of the entry of manifests that best
// matches want, or -1. Entries without a platform never match.
func matchPlatform(want reference.Platform, manifests []descriptor) int {
	w := normalizePlatform(want.OS, want.Architecture, want.Variant)
	best, bestScore := -1, 0.0
	for i, m := range manifests {
		if m.Platform == nil {
			continue
		}
		s := platformScore(w, normalizePlatform(m.Platform.OS, m.Platform.Architecture, m.Platform.Variant))
		if s < 0 {
			continue
		}
		if best < 0 || s < bestScore {
			best, bestScore = i, s
		}
	}
	return best
}
