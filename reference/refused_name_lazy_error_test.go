//go:build !race

package reference

import (
	"errors"
	"testing"
)

// A refused docker-form name costs its scan and one allocation, the
// input's header: the *ParseError is worded only when the error is read,
// and reads as it did when it was built at once. (The race detector adds
// allocations of its own, hence the build tag.)
func TestRefusedNameIsWordedWhenRead(t *testing.T) {
	tests := []struct {
		in   string
		kind error
		msg  string
	}{
		{"example.com/Org/app:v1", ErrNameContainsUppercase, `repository name must be lowercase: "Org" at offset 12`},
		{"my___app", ErrInvalidFormat, `invalid reference format: "my___app" at offset 4 (separators ('.', '_', '__', '-') must sit between letters or digits)`},
		{"example.com/app:-v1", ErrTagInvalidFormat, `invalid tag format: "-v1" at offset 16 (a tag must start with a letter, digit or '_')`},
	}
	for _, tt := range tests {
		for name, parse := range map[string]func(string) (Reference, error){"Parse": Parse, "ParseNormalized": ParseNormalized} {
			t.Run(name+" "+tt.in, func(t *testing.T) {
				var err error
				if allocs := testing.AllocsPerRun(100, func() { _, err = parse(tt.in) }); allocs > 1 {
					t.Errorf("%v allocs/op, want at most 1", allocs)
				}
				if err == nil || err.Error() != tt.msg {
					t.Fatalf("error %v, want %q", err, tt.msg)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Input != tt.in || !errors.Is(err, tt.kind) || !errors.Is(pe, tt.kind) {
					t.Fatalf("error %v: not a *ParseError of %q matching %v", err, tt.in, tt.kind)
				}
			})
		}
	}
}

// A caller that only tests the error (a validator) pays no allocation at
// all: Parse and ParseNormalized are inlined into it and build the error
// there, so its 16 bytes stay on the caller's stack when the error goes
// no further. refuses (bench_test.go) is such a caller.
func TestRefusedNameTestedOnlyDoesNotAllocate(t *testing.T) {
	for _, in := range []string{"example.com/Org/app:v1", "my___app", "example.com/app:-v1", "Ubuntu", "docker.io/Library/x"} {
		for _, normalized := range []bool{false, true} {
			name := "Parse " + in
			if normalized {
				name = "ParseNormalized " + in
			}
			t.Run(name, func(t *testing.T) {
				refused := true
				if allocs := testing.AllocsPerRun(100, func() { refused = refuses(in, normalized) }); allocs != 0 {
					t.Errorf("%v allocs/op, want 0", allocs)
				}
				if !refused {
					t.Fatalf("%q accepted", in)
				}
			})
		}
	}
}
