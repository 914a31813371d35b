package discovery

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseWellKnown: no input panics or hangs; every error is a
// *DocumentError with an offset inside the body; every valid document's
// mappings are canonical, and FormatWellKnown of them parses back to the same
// mappings grouped by prefix.
func FuzzParseWellKnown(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "wellknown", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"version":1}`,
		`{"version":1,"namespaces":[{"prefix":"a","delegate":"A.Example."},{"prefix":"a","delegate":"a.example"}]}`,
		`{"version":1,"namespaces":[{"registries":[{"url":"http://localhost:5000","caps":["pull"]}]},{"prefix":"b","registries":[{"url":"https://r.example","priority":1,"weight":2}]}]}`,
		`{"version":1,"version":1}`,
		`{"namespaces":[{"prefix":"A"}],"version":2}`,
		`{"version":1,"x":[[[[{}]]]],"namespaces":null}`,
		`{"version":1} x`,
		`[`,
	} {
		f.Add([]byte(s))
	}
	opt := insecureHosts("localhost", "localhost:5000", "::1")
	f.Fuzz(func(t *testing.T, body []byte) {
		ms, err := ParseWellKnown(body, opt)
		if err != nil {
			var de *DocumentError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) || de.Offset < 0 || de.Offset > int64(max(len(body), WellKnownMaxBytes)) {
				t.Fatalf("ParseWellKnown(%q): error %T %v", body, err, err)
			}
			return
		}
		for _, m := range ms {
			if (m.Registry == "") == (m.Delegate == "") || m.Caps == 0 || m.Record == "" {
				t.Fatalf("mapping %+v from %q", m, body)
			}
			v, err := ValidateMapping(m, opt)
			if err != nil || v != m {
				t.Fatalf("mapping %+v is not canonical: %+v, %v", m, v, err)
			}
		}
		doc, err := FormatWellKnown(ms)
		if err != nil {
			if errors.Is(err, ErrConflict) || len(body) > WellKnownMaxBytes/4 {
				return // conflicts are Select's business; a big document may grow past the limit when indented
			}
			t.Fatalf("FormatWellKnown of %q: %v", body, err)
		}
		again, err := ParseWellKnown(doc, opt)
		if err != nil {
			t.Fatalf("ParseWellKnown(FormatWellKnown):\n%s\n%v", doc, err)
		}
		want := groupByPrefix(ms)
		if len(again) != len(want) {
			t.Fatalf("round trip: %d mappings, want %d\n%s", len(again), len(want), doc)
		}
		for i := range want {
			again[i].Record, want[i].Record = "", ""
			if again[i] != want[i] {
				t.Fatalf("round trip mapping %d: %+v, want %+v", i, again[i], want[i])
			}
		}
	})
}

// groupByPrefix is FormatWellKnown's grouping: prefixes in first-appearance
// order, mappings in order within a prefix, a repeated delegation once.
func groupByPrefix(ms []Mapping) []Mapping {
	var order []string
	by := map[string][]Mapping{}
	for _, m := range ms {
		if _, ok := by[m.Prefix]; !ok {
			order = append(order, m.Prefix)
		}
		if g := by[m.Prefix]; m.Delegate != "" && len(g) > 0 && g[0].Delegate == m.Delegate {
			continue
		}
		by[m.Prefix] = append(by[m.Prefix], m)
	}
	var out []Mapping
	for _, p := range order {
		out = append(out, by[p]...)
	}
	return out
}
