package reference

import (
	"strings"
	"testing"

	dref "github.com/distribution/reference"
)

// benchInputs are the benchmark cases, the same for both parsers.
var benchInputs = []struct{ name, in string }{
	{"short", "ubuntu"},
	{"tagged", "example.com/org/app:v1.0.0"},
	{"port-tag-digest", "localhost:5000/a/b/c:tag@sha256:" + strings.Repeat("0123456789abcdef", 4)},
	{"long-200", "example.com/" + strings.Repeat("abcdefghi/", 18) + "abcdefgh"},
	{"ipv6", "[2001:db8::1]:5000/org/app:v1"},
	{"invalid", "example.com/Org/app:v1"},
}

// Results are kept in package variables so the compiler cannot drop the work.
var (
	sinkRef   Reference
	sinkDist  dref.Reference
	sinkError error
)

func BenchmarkParse(b *testing.B) {
	for _, c := range benchInputs {
		b.Run(c.name+"/ocidns", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkRef, sinkError = Parse(c.in)
			}
		})
		b.Run(c.name+"/distribution", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDist, sinkError = dref.Parse(c.in)
			}
		})
	}
	benchRefusalBounds(b, false)
}

func BenchmarkParseNormalized(b *testing.B) {
	for _, c := range benchInputs {
		b.Run(c.name+"/ocidns", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkRef, sinkError = ParseNormalized(c.in)
			}
		})
		b.Run(c.name+"/distribution", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkDist, sinkError = dref.ParseNormalizedNamed(c.in)
			}
		})
	}
	benchRefusalBounds(b, true)
}

// benchRefusalBounds measures, for the invalid input, a caller that only
// tests the error (a validator: the error's 16 bytes stay on its stack),
// and the floor under any refusal whose error is kept and says what it
// refused: converting the input to an error value, which allocates its
// 16-byte header.
// refuses is a caller that only tests the error. Parse and ParseNormalized
// are called directly, not through a function value, so that they are
// inlined as in such a caller's code.
func refuses(in string, normalized bool) bool {
	if normalized {
		_, err := ParseNormalized(in)
		return err != nil
	}
	_, err := Parse(in)
	return err != nil
}

func benchRefusalBounds(b *testing.B, normalized bool) {
	in := benchInputs[len(benchInputs)-1].in
	b.Run("invalid/ocidns-error-tested", func(b *testing.B) {
		b.ReportAllocs()
		refused := 0
		for b.Loop() {
			if refuses(in, normalized) {
				refused++
			}
		}
		if refused == 0 {
			b.Fatal("the invalid input was accepted")
		}
	})
	b.Run("invalid/floor-error-holding-input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkError = unexplained(in)
		}
	})
}

func BenchmarkParseAppc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkRef, sinkError = Parse("example.com/org/app,version=v1.0.0,os=linux,arch=arm64")
	}
}
