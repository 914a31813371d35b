package reference

import (
	"strings"
)

// Platform is an OCI image-index platform: GOOS/GOARCH names and an
// optional variant ("v7" for arm, "v8" for arm64).
type Platform struct {
	OS           string
	Architecture string
	Variant      string
}

// String returns os/arch[/variant], or just the os when no architecture is
// set, or "" for the zero Platform.
func (p Platform) String() string {
	switch {
	case p.Architecture == "":
		return p.OS
	case p.Variant == "":
		return p.OS + "/" + p.Architecture
	}
	return p.OS + "/" + p.Architecture + "/" + p.Variant
}

// ParsePlatform parses os/arch[/variant], e.g. "linux/arm64/v8". Names are
// case-insensitive and normalized like the appc labels (see Platform):
// "linux/aarch64" is linux/arm64, "linux/armv7l" is linux/arm/v7. Errors
// are *ParseError values wrapping ErrInvalidPlatform.
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Platform{}, newError(s, 0, s, ErrInvalidPlatform, "a platform is os/arch or os/arch/variant, like linux/arm64 or linux/arm/v7")
	}
	variant := ""
	if len(parts) == 3 {
		variant = parts[2]
		if variant == "" {
			return Platform{}, newError(s, len(s), "", ErrInvalidPlatform, "empty variant")
		}
	}
	p, which, detail := normalizePlatform(parts[0], parts[1], variant)
	if which < 0 && parts[1] == "" {
		which, detail = 1, "empty architecture"
	}
	if which >= 0 {
		off := 0
		for k := 0; k < which; k++ {
			off += len(parts[k]) + 1
		}
		end := off + len(parts[which])
		if end > len(s) { // lowercasing changed the length of non-ASCII text
			off, end = 0, len(s)
		}
		return Platform{}, newError(s, off, s[off:end], ErrInvalidPlatform, detail)
	}
	return p, nil
}

// Platform maps the appc os, arch and variant labels to an OCI platform.
// ok is false when none of them is present (always for the docker form).
//
// Architectures are accepted under their appc names (aarch64, aarch64_be,
// armv6l, armv7l, armv7b, i386, x86_64, ppc64, ppc64le, s390x), their uname
// spellings (i686, x86-64, ...) and their Go names; "armv7l" carries the
// variant v7, which a variant label may repeat but not contradict. A
// variant "7" is written "v7". Unknown names, an arch without os and a
// variant without arch are errors (*ParseError wrapping ErrInvalidLabel,
// pointing at the label).
func (r Reference) Platform() (Platform, bool, error) {
	osv, hasOS := r.Label("os")
	arch, hasArch := r.Label("arch")
	variant, hasVariant := r.Label("variant")
	if !hasOS && !hasArch && !hasVariant {
		return Platform{}, false, nil
	}
	s := r.String()
	labelErr := func(key, detail string) error {
		at := strings.Index(s, ","+key+"=")
		if at < 0 {
			return newError(s, 0, s, ErrInvalidLabel, detail)
		}
		at++
		return newError(s, at+len(key)+1, s[at:componentEndComma(s, at)], ErrInvalidLabel, detail)
	}
	switch {
	case hasVariant && !hasArch:
		return Platform{}, true, labelErr("variant", "a variant label needs an arch label")
	case hasArch && !hasOS:
		return Platform{}, true, labelErr("arch", "an arch label needs an os label (appc architecture names depend on the os)")
	}
	p, which, detail := normalizePlatform(strings.ToLower(osv), strings.ToLower(arch), strings.ToLower(variant))
	if which >= 0 {
		return Platform{}, true, labelErr([...]string{"os", "arch", "variant"}[which], detail)
	}
	return p, true, nil
}

// knownOS lists GOOS values an image index may name.
var knownOS = map[string]bool{
	"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true,
	"illumos": true, "ios": true, "js": true, "linux": true, "netbsd": true,
	"openbsd": true, "plan9": true, "solaris": true, "wasip1": true, "windows": true,
}

// archAliases maps appc, uname and Go architecture names to the Go name
// and the variant the name itself implies.
var archAliases = map[string][2]string{
	// Go names.
	"386": {"386", ""}, "amd64": {"amd64", ""}, "arm": {"arm", ""}, "arm64": {"arm64", ""},
	"armbe": {"armbe", ""}, "arm64be": {"arm64be", ""}, "loong64": {"loong64", ""},
	"mips": {"mips", ""}, "mipsle": {"mipsle", ""}, "mips64": {"mips64", ""}, "mips64le": {"mips64le", ""},
	"ppc64": {"ppc64", ""}, "ppc64le": {"ppc64le", ""}, "riscv64": {"riscv64", ""},
	"s390x": {"s390x", ""}, "wasm": {"wasm", ""},
	// appc names (the spec's os/arch table) and common uname spellings.
	"x86_64": {"amd64", ""}, "x86-64": {"amd64", ""},
	"i386": {"386", ""}, "i486": {"386", ""}, "i586": {"386", ""}, "i686": {"386", ""}, "x86": {"386", ""},
	"aarch64": {"arm64", ""}, "aarch64_be": {"arm64be", ""},
	"armv5l": {"arm", "v5"}, "armv5tel": {"arm", "v5"},
	"armv6l": {"arm", "v6"}, "armv6": {"arm", "v6"}, "armhf": {"arm", "v7"},
	"armv7l": {"arm", "v7"}, "armv7": {"arm", "v7"}, "armv7b": {"armbe", "v7"},
	"armv8l": {"arm", "v8"},
}

// normalizePlatform returns the platform, or which part (0 os, 1 arch,
// 2 variant) is wrong and why. Inputs are lowercase.
func normalizePlatform(osv, arch, variant string) (Platform, int, string) {
	if !knownOS[osv] {
		return Platform{}, 0, "unknown os " + quote(osv) + "; use a GOOS name such as linux, windows, darwin or freebsd"
	}
	p := Platform{OS: osv}
	if arch == "" {
		if variant != "" {
			return Platform{}, 2, "a variant needs an architecture"
		}
		return p, -1, ""
	}
	a, known := archAliases[arch]
	if !known {
		return Platform{}, 1, "unknown architecture " + quote(arch) + "; use a Go name (amd64, arm64, arm, 386, ppc64le, s390x, riscv64, ...) or an appc name (x86_64, aarch64, armv7l, ...)"
	}
	p.Architecture, p.Variant = a[0], a[1]
	if variant != "" {
		v := variant
		if isDigit(v[0]) {
			v = "v" + v
		}
		for i := 0; i < len(v); i++ {
			if !isLowerAlnum(v[i]) && v[i] != '.' {
				return Platform{}, 2, "a variant is letters, digits and '.', like v7 or v8"
			}
		}
		if p.Variant != "" && p.Variant != v {
			return Platform{}, 2, "variant " + quote(variant) + " contradicts architecture " + quote(arch) + " (" + p.Variant + ")"
		}
		p.Variant = v
	}
	return p, -1, ""
}
