package reference

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks, for any input without ',', that Parse and
// ParseNormalized agree with distribution/reference v0.6.0 (validity,
// error class, every field, String), that String round-trips, and that
// errors point into the input. Seeds: testdata/fuzz/FuzzParse and the
// differential corpus.
func FuzzParse(f *testing.F) {
	for _, s := range loadCorpus(f) {
		// Long lines are covered by the differential test; as seeds they
		// only make minimization (quadratic in length) eat the fuzz time.
		if len(s) <= 300 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, ",") {
			if _, err := Parse(s); err != nil {
				checkParseError(t, s, err)
			}
			return
		}
		for _, normalized := range []bool{false, true} {
			if d := compareWithOracle(s, normalized); d != "" {
				t.Fatal(d)
			}
		}
		r, err := Parse(s)
		if err != nil {
			checkParseError(t, s, err)
			return
		}
		if r.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, r.String())
		}
		if r.Name()+suffix(r) != s {
			t.Fatalf("Parse(%q): Name %q + tag %q + digest %q do not rebuild the input", s, r.Name(), r.Tag(), r.Digest())
		}
		n, err := ParseNormalized(s)
		if err == nil {
			again, err := Parse(n.String())
			if err != nil || again.String() != n.String() {
				t.Fatalf("ParseNormalized(%q).String() = %q does not reparse: %v", s, n.String(), err)
			}
		}
		exerciseConversions(t, r)
	})
}

func suffix(r Reference) string {
	var b strings.Builder
	if r.Tag() != "" {
		b.WriteString(":" + r.Tag())
	}
	if r.Digest() != "" {
		b.WriteString("@" + r.Digest().String())
	}
	return b.String()
}

// FuzzParseAppc checks the appc form: no panic, errors inside the input,
// String round-trips, Canonical reparses to the same labels, and the
// conversions and Platform never panic and keep what they promise.
func FuzzParseAppc(f *testing.F) {
	for _, s := range []string{
		"app,version=1", "example.com/org/app,version=v1.0.0,os=linux,arch=arm64",
		"example.com/app:1.0.0+build.1,os=linux,arch=armv7l", "a~b,x=y", "app,name=x",
		"app:1,version=2", "app,os=darwin,arch=x86_64", "app,a=b,a=c", "app,v=é", "app,v=a b",
		"App,x=y", "app:1:2,x=y", "app,x=y:z", ",", "app,", "app,=x", "app,x=", "localhost/app,version=latest",
		"a/b/c,version=" + strings.Repeat("v", 129), "app,variant=v7", "app,os=linux,arch=arm,variant=7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			checkParseError(t, s, err)
			return
		}
		if r.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, r.String())
		}
		if r.Form() == FormAppc {
			c, err := Parse(r.Canonical())
			if err != nil {
				t.Fatalf("Canonical %q of %q does not parse: %v", r.Canonical(), s, err)
			}
			if c.Name() != r.Name() || len(c.Labels()) != len(r.Labels()) {
				t.Fatalf("Canonical %q of %q changed the name or labels", r.Canonical(), s)
			}
			for _, l := range r.Labels() {
				if v, ok := c.Label(l.Key); !ok || v != l.Value {
					t.Fatalf("Canonical %q of %q lost label %v", r.Canonical(), s, l)
				}
				if !utf8.ValidString(l.Value) {
					t.Fatalf("label value %q is not UTF-8", l.Value)
				}
			}
		}
		if n, err := ParseNormalized(s); err == nil {
			if _, err := Parse(n.String()); err != nil {
				t.Fatalf("ParseNormalized(%q) = %q does not reparse: %v", s, n.String(), err)
			}
		}
		exerciseConversions(t, r)
	})
}

// exerciseConversions runs every conversion and checks the results reparse
// to themselves.
func exerciseConversions(t *testing.T, r Reference) {
	t.Helper()
	if d, err := r.ToDocker(); err == nil {
		if again, err := Parse(d.String()); err != nil || again != d {
			t.Fatalf("ToDocker(%q) = %q does not reparse to itself: %v", r, d, err)
		}
		if r.Form() == FormAppc && d.Name() != r.Name() {
			t.Fatalf("ToDocker(%q) changed the name to %q", r, d.Name())
		}
	}
	if a, err := r.ToAppc(); err == nil {
		if _, err := Parse(a.String()); err != nil {
			t.Fatalf("ToAppc(%q) = %q does not reparse: %v", r, a, err)
		}
		if r.Form() == FormDocker && a.Name() != r.Name() {
			t.Fatalf("ToAppc(%q) changed the name to %q", r, a.Name())
		}
	}
	if q, err := r.WithDomain("example.com"); err == nil {
		if q.Domain() != "example.com" || q.IsShort() {
			t.Fatalf("WithDomain(%q) = %q has domain %q", r, q, q.Domain())
		}
	}
	_, _, _ = r.Platform()
}
