//go:build !race

package reference

import (
	"strings"
	"testing"
)

// TestValidDockerParseDoesNotAllocate pins the promise: a valid
// docker-form Parse, and ParseNormalized, cost no heap allocation, and
// neither do the accessors of what they return. (The race detector adds
// allocations of its own, hence the build tag.)
func TestValidDockerParseDoesNotAllocate(t *testing.T) {
	inputs := []string{
		"ubuntu", "example.com/org/app:v1.0.0", "localhost:5000/a/b/c:tag@sha256:" + hex64,
		"example.com/" + strings.Repeat("abcdefghi/", 18) + "abcdefgh", "[2001:db8::1]:5000/org/app:v1",
		"docker.io/library/ubuntu", "index.docker.io/org/app", "org/app@sha512:" + hex64 + hex64,
		"foo_bar.com/app:v1", "Foo/bar", "localhost:5000", "a__b.c--d/e_f:T",
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			for name, parse := range map[string]func(string) (Reference, error){"Parse": Parse, "ParseNormalized": ParseNormalized} {
				var r Reference
				var err error
				allocs := testing.AllocsPerRun(100, func() {
					r, err = parse(in)
					sinkString = r.Domain()
					sinkString = r.Tag()
					sinkString = string(r.Digest())
				})
				if err != nil {
					t.Fatalf("%s(%q): %v", name, in, err)
				}
				if allocs != 0 {
					t.Errorf("%s(%q): %v allocs/op, want 0", name, in, allocs)
				}
			}
			allocs := testing.AllocsPerRun(100, func() {
				r, _ := Parse(in)
				sinkString = r.String()
				sinkString = r.Name()
				sinkString = r.Path()
			})
			if allocs != 0 {
				t.Errorf("Parse(%q) String/Name/Path: %v allocs/op, want 0", in, allocs)
			}
		})
	}
}

var sinkString string

// TestValidAppcParseDoesNotAllocate: the appc form keeps its labels as
// text, so parsing it and reading a label cost no allocation either.
func TestValidAppcParseDoesNotAllocate(t *testing.T) {
	in := "example.com/org/app:v1.0.0,os=linux,arch=arm64,variant=v8"
	allocs := testing.AllocsPerRun(100, func() {
		r, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		sinkString, _ = r.Label("arch")
		sinkString = r.String()
	})
	if allocs != 0 {
		t.Errorf("Parse(%q) + Label: %v allocs/op, want 0", in, allocs)
	}
}
