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
}

func BenchmarkParseAppc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkRef, sinkError = Parse("example.com/org/app,version=v1.0.0,os=linux,arch=arm64")
	}
}
