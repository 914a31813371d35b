package reference

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// loadCorpus reads testdata/corpus.txt: one input per line, "# " comments,
// Go-quoted lines unquoted.
func loadCorpus(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "# "):
			continue
		case strings.HasPrefix(line, `"`):
			u, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("corpus.txt:%d: %v", n, err)
			}
			line = u
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// generatedCorpus crosses name prefixes, paths and suffixes so that every
// domain rule meets every path and tag/digest rule.
func generatedCorpus() []string {
	h64 := strings.Repeat("0123456789abcdef", 4)
	domains := []string{"", "example.com/", "localhost/", "localhost:5000/", "Foo/", "org/", "[::1]:5000/",
		"foo_bar.com/", "docker.io/", "index.docker.io/", "a:b/", "EXAMPLE.com:443/"}
	paths := []string{"app", "org/app", "a__b/c--d", "App", "a.b_c-d", strings.Repeat("x", 247),
		strings.Repeat("x", 248), "a/" + strings.Repeat("y", 246), "-a", "a//b"}
	suffixes := []string{"", ":v1.0.0", ":V_1", "@sha256:" + h64, ":t@sha256:" + h64, ":", "@sha256:" + h64[:40],
		"@sha256:" + strings.ToUpper(h64), ":" + strings.Repeat("t", 129)}
	var out []string
	for _, d := range domains {
		for _, p := range paths {
			for _, s := range suffixes {
				out = append(out, d+p+s)
			}
		}
	}
	return out
}

// TestMatchesDistributionOnCorpus is the compatibility promise: for every
// input without ',', Parse and ParseNormalized agree with
// distribution/reference v0.6.0 on validity, error class, Domain, Path, Tag,
// Digest, Name and String.
func TestMatchesDistributionOnCorpus(t *testing.T) {
	inputs := append(loadCorpus(t), generatedCorpus()...)
	if len(inputs) < 500 {
		t.Fatalf("corpus has %d inputs, want at least 500", len(inputs))
	}
	var valid, invalid int
	for _, s := range inputs {
		if strings.Contains(s, ",") {
			continue
		}
		for _, normalized := range []bool{false, true} {
			if d := compareWithOracle(s, normalized); d != "" {
				t.Error(d)
			}
		}
		if _, err := Parse(s); err == nil {
			valid++
		} else {
			invalid++
		}
	}
	t.Logf("%d inputs: %d valid, %d invalid under Parse", len(inputs), valid, invalid)
	if valid < 100 || invalid < 100 {
		t.Errorf("corpus is lopsided: %d valid, %d invalid", valid, invalid)
	}
}

// TestRoundTripOnCorpus: for every valid input, String() is the input, and
// reparsing a normalized String() is a fixed point.
func TestRoundTripOnCorpus(t *testing.T) {
	for _, s := range append(loadCorpus(t), generatedCorpus()...) {
		if r, err := Parse(s); err == nil && r.String() != s {
			t.Errorf("Parse(%q).String() = %q", s, r.String())
		}
		n, err := ParseNormalized(s)
		if err != nil {
			continue
		}
		again, err := ParseNormalized(n.String())
		if err != nil || again.String() != n.String() || again.Path() != n.Path() || again.Domain() != n.Domain() {
			t.Errorf("ParseNormalized(%q) = %q is not a fixed point: %q, %v", s, n.String(), again.String(), err)
		}
	}
}

// TestErrorsPointIntoInput: every rejection is a *ParseError whose offset
// and component lie within the input.
func TestErrorsPointIntoInput(t *testing.T) {
	for _, s := range append(loadCorpus(t), generatedCorpus()...) {
		for _, parse := range []func(string) (Reference, error){Parse, ParseNormalized} {
			_, err := parse(s)
			if err == nil {
				continue
			}
			checkParseError(t, s, err)
		}
	}
}

func checkParseError(t testing.TB, s string, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%q: error %T is not, and does not wrap, a *ParseError: %v", s, err, err)
	}
	if err.Error() != pe.Error() {
		t.Fatalf("%q: error says %q, its *ParseError %q", s, err, pe)
	}
	if pe.Input != s {
		t.Errorf("%q: ParseError.Input = %q", s, pe.Input)
	}
	if pe.Offset < 0 || pe.Offset > len(s) {
		t.Errorf("%q: offset %d out of range", s, pe.Offset)
	}
	if !strings.Contains(s, pe.Component) {
		t.Errorf("%q: component %q is not part of the input", s, pe.Component)
	}
	if pe.Err == nil {
		t.Errorf("%q: no sentinel", s)
	}
}
