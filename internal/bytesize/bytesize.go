// Package bytesize words a size limit for error messages: "4 MiB",
// "64 KiB", or "1000-byte", to read "over the 4 MiB limit", "over the
// 1000-byte limit". It is a leaf, so that the resolver and the signature
// verifier, which is one too, word their limits alike.
package bytesize

import "strconv"

// Limit words n bytes: in MiB or KiB when n is a whole number of them,
// else as "n-byte".
func Limit(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + "-byte"
}
