package discovery

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readWellKnownFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "wellknown", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The document of docs/protocol.md §5.2, with priority, weight and caps.
var exampleMappings = []Mapping{
	{Prefix: "acme", Delegate: "acme.example", Caps: CapAll,
		Record: `well-known namespaces[0] prefix="acme" delegate=acme.example`},
	{Prefix: "tools", Registry: "https://ghcr.io/example-tools", Priority: 10, Weight: 5, Caps: CapResolve,
		Record: `well-known namespaces[1].registries[0] prefix="tools" registry=https://ghcr.io/example-tools priority=10 weight=5 caps=resolve`},
	{Prefix: "", Registry: "https://registry.example.com", Caps: CapAll,
		Record: `well-known namespaces[2].registries[0] prefix="" registry=https://registry.example.com`},
}

func equalMappings(a, b []Mapping) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseWellKnownExample(t *testing.T) {
	ms, err := ParseWellKnown(readWellKnownFile(t, "example.json"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalMappings(ms, exampleMappings) {
		t.Fatalf("mappings\n got %+v\nwant %+v", ms, exampleMappings)
	}
}

// "a namespace with several registries yields several Mappings = mirrors",
// selected and ordered as TXT mirrors are.
func TestParseWellKnownMirrors(t *testing.T) {
	ms, err := ParseWellKnown(readWellKnownFile(t, "mirrors.json"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	matched, rest, err := Select(ms, "library/ubuntu")
	if err != nil || rest != "ubuntu" || len(matched) != 3 {
		t.Fatalf("Select = %d mappings, %q, %v", len(matched), rest, err)
	}
	if m := matched[2]; m.Registry != "https://pull-cache.example/library" || m.Caps != CapPull || m.Priority != 20 {
		t.Errorf("the priority-20 pull-only mirror is %+v", m)
	}
	url, repo, err := RegistryEndpoint(matched[0], rest)
	if err != nil || url != "https://primary.example" || repo != "library/ubuntu" {
		t.Errorf("RegistryEndpoint = %q %q %v", url, repo, err)
	}
}

// "unknown fields ignored"; keys are matched exactly, as JSON has them (a
// "Version" is an unknown field, not the version); null is absent.
func TestParseWellKnownLenient(t *testing.T) {
	doc := `{"Version": 7, "version": 1, "x": {"deep": [[[{"a": null}]]], "n": 1e400},
	  "namespaces": [
	    {"prefix": null, "delegate": null, "registries": [{"url": "https://r.example", "mirror-of": "x", "priority": null}], "note": "hi"},
	    {"PREFIX": "ignored", "prefix": "a", "delegate": "A.Example.", "registries": null}
	  ], "later": true}`
	ms, err := ParseWellKnown([]byte(doc), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Registry != "https://r.example" || ms[0].Prefix != "" || ms[1].Delegate != "a.example" || ms[1].Prefix != "a" {
		t.Fatalf("mappings %+v", ms)
	}
	// A document with no namespaces is valid and maps nothing.
	if ms, err := ParseWellKnown([]byte(`{"version":1}`), ParseOptions{}); err != nil || len(ms) != 0 {
		t.Fatalf("empty document: %v %v", ms, err)
	}
	// http:// for a host the operator marked insecure.
	if ms, err := ParseWellKnown(readWellKnownFile(t, "invalid-http-registry.json"), insecureHosts("registry.example.com")); err != nil || ms[0].Registry != "http://registry.example.com" {
		t.Fatalf("insecure registry: %v %v", ms, err)
	}
}

// "version other than 1 → the document is invalid (reported)"; every error
// names the JSON path and the byte offset of the value at fault.
func TestParseWellKnownInvalid(t *testing.T) {
	const ns = `{"version":1,"namespaces":[`
	manyKeys := `{"version":1,`
	for i := range 40 {
		manyKeys += `"k` + strconv.Itoa(i) + `":0,`
	}
	for _, tc := range []struct {
		rule string
		doc  string
		path string
		mark string // the expected offset is where mark starts in doc ("" → offset 0)
		msg  string
	}{
		{"version 2", string(readWellKnownFile(t, "invalid-version-2.json")), "version", "2,", "unsupported version 2: this client reads version 1"},
		{"version as a string", `{"version":"1","namespaces":[]}`, "version", `"1"`, "version is a string, want the number 1"},
		{"version 1.0 is not the integer 1", `{"version":1.0}`, "version", "1.0", "unsupported version 1.0"},
		{"no version", `{"namespaces":[]}`, "version", "", "no version"},
		{"a wrong version is reported before a namespace fault (another version, another schema)",
			`{"namespaces":[{"prefix":"A","delegate":"x.example"}],"version":2}`, "version", "2}", "unsupported version 2"},
		{"not an object", `[{"version":1}]`, "", "", "document is an array, want a JSON object"},
		{"invalid JSON, cut short", string(readWellKnownFile(t, "invalid-truncated.json")), "namespaces", "", "unexpected end of document"},
		{"invalid JSON, a bad token", `{"version":1,"namespaces":[{"prefix":'acme'}]}`, "namespaces[0].prefix", "'acme'", "invalid JSON"},
		{"data after the document", `{"version":1} {"version":1}`, "", `{"version":1}`[1:], "data after the document"},
		{"a key twice", `{"version":1,"namespaces":[{"prefix":"a","prefix":"b","delegate":"d.example"}]}`, "namespaces[0].prefix", `"prefix":"b"`, "duplicated key"},
		{"a key twice among many", manyKeys + `"k3":1}`, "k3", `"k3":1`, "duplicated key"},
		{"exactly one target: both", string(readWellKnownFile(t, "invalid-two-targets.json")), "namespaces[0]", `{"prefix": "acme"`, "both delegate and registries"},
		{"exactly one target: none", ns + `{"prefix":"a"}]}`, "namespaces[0]", `{"prefix":"a"}`, "no target"},
		{"registries empty", ns + `{"prefix":"a","registries":[]}]}`, "namespaces[0].registries", `[]}`, "registries is empty"},
		{"registry without url", ns + `{"registries":[{"priority":1}]}]}`, "namespaces[0].registries[0]", `{"priority"`, `no "url"`},
		{"registry url with a bad scheme, third namespace", ns + `{"delegate":"a.example","prefix":"a"},{"prefix":"b","delegate":"b.example"},{"registries":[{"url":"ftp://x"}]}]}`,
			"namespaces[2].registries[0].url", `"ftp://x"`, "scheme must be https"},
		{"http:// registry for a host not marked insecure", string(readWellKnownFile(t, "invalid-http-registry.json")), "namespaces[0].registries[0].url", `"http://`, "http:// is allowed only for hosts marked insecure"},
		{"priority out of range", ns + `{"registries":[{"url":"https://r.example","priority":70000}]}]}`, "namespaces[0].registries[0].priority", "70000", "out of range"},
		{"priority not an integer", ns + `{"registries":[{"url":"https://r.example","priority":1.5}]}]}`, "namespaces[0].registries[0].priority", "1.5", "not an integer"},
		{"weight as a string", ns + `{"registries":[{"url":"https://r.example","weight":"5"}]}]}`, "namespaces[0].registries[0].weight", `"5"`, "weight is a string, want an integer"},
		{"caps empty", ns + `{"registries":[{"url":"https://r.example","caps":[]}]}]}`, "namespaces[0].registries[0].caps", "[]", "caps is empty"},
		{"caps unknown", ns + `{"registries":[{"url":"https://r.example","caps":["resolve","push"]}]}]}`, "namespaces[0].registries[0].caps[1]", `"push"`, `unknown capability "push"`},
		{"caps twice", ns + `{"registries":[{"url":"https://r.example","caps":["pull","pull"]}]}]}`, "namespaces[0].registries[0].caps[1]", `"pull"]`, "listed twice"},
		{"caps as a comma string", ns + `{"registries":[{"url":"https://r.example","caps":"resolve,pull"}]}]}`, "namespaces[0].registries[0].caps", `"resolve,pull"`, "caps is a string, want an array"},
		{"uppercase prefix", ns + `{"prefix":"Acme","delegate":"acme.example"}]}`, "namespaces[0].prefix", `"Acme"`, "uppercase letter 'A'"},
		{"prefix with an empty component", ns + `{"prefix":"a//b","delegate":"acme.example"}]}`, "namespaces[0].prefix", `"a//b"`, "empty path component"},
		{"bad delegate", ns + `{"prefix":"a","delegate":"acme_corp.example"}]}`, "namespaces[0].delegate", `"acme_corp`, "invalid character '_'"},
		{"delegate as a number", ns + `{"prefix":"a","delegate":42}]}`, "namespaces[0].delegate", `42`, "delegate is a number, want a string"},
		{"namespaces as an object", `{"version":1,"namespaces":{"prefix":"a"}}`, "namespaces", `{"prefix"`, "namespaces is an object, want an array"},
		{"a namespace that is null", ns + `null]}`, "namespaces[0]", `null`, "namespace is null"},
		{"a namespace that is a string", ns + `"acme"]}`, "namespaces[0]", `"acme"`, "namespaces[0] is a string, want an object"},
		{"over 64 KiB", `{"version":1,"pad":"` + strings.Repeat("x", 64<<10) + `"}`, "", "", "over the 64 KiB limit"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			ms, err := ParseWellKnown([]byte(tc.doc), ParseOptions{})
			if err == nil {
				t.Fatalf("ParseWellKnown = %+v, want an error", ms)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%v is not ErrMalformed", err)
			}
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("%T %v is not a *DocumentError", err, err)
			}
			want := int64(0)
			switch {
			case tc.rule == "over 64 KiB":
				want = WellKnownMaxBytes
			case strings.Contains(tc.msg, "unexpected end"):
				want = int64(len(tc.doc))
			case tc.mark != "":
				want = int64(strings.Index(tc.doc, tc.mark))
				if tc.rule == "data after the document" {
					want = int64(strings.LastIndex(tc.doc, "{"))
				}
			}
			if de.Path != tc.path || de.Offset != want {
				t.Errorf("at %s offset %d, want %s offset %d (%v)", de.Path, de.Offset, tc.path, want, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestFormatWellKnownRoundTrip(t *testing.T) {
	ms := []Mapping{
		{Prefix: "tools", Registry: "https://ghcr.io/example-tools", Priority: 10, Weight: 5, Caps: CapResolve},
		{Prefix: "acme", Delegate: "Acme.Example."},
		{Prefix: "", Registry: "https://registry.example.com"},
		{Prefix: "tools", Registry: "https://mirror.example/tools", Priority: 20, Caps: CapPull},
		{Prefix: "acme", Delegate: "acme.example"}, // the same delegation again
	}
	doc, err := FormatWellKnown(ms)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseWellKnown(doc, ParseOptions{})
	if err != nil {
		t.Fatalf("ParseWellKnown(FormatWellKnown):\n%s\n%v", doc, err)
	}
	// Grouped by prefix in first-appearance order; the duplicate delegation once.
	want := []Mapping{
		{Prefix: "tools", Registry: "https://ghcr.io/example-tools", Priority: 10, Weight: 5, Caps: CapResolve},
		{Prefix: "tools", Registry: "https://mirror.example/tools", Priority: 20, Caps: CapPull},
		{Prefix: "acme", Delegate: "acme.example", Caps: CapAll},
		{Prefix: "", Registry: "https://registry.example.com", Caps: CapAll},
	}
	for i := range got {
		got[i].Record = ""
	}
	if !equalMappings(got, want) {
		t.Fatalf("round trip of\n%s\n got %+v\nwant %+v", doc, got, want)
	}
	// The example document survives a round trip exactly.
	example, _ := ParseWellKnown(readWellKnownFile(t, "example.json"), ParseOptions{})
	doc, err = FormatWellKnown(example)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseWellKnown(doc, ParseOptions{})
	if err != nil || !equalMappings(again, exampleMappings) {
		t.Fatalf("example round trip:\n%s\n%+v %v", doc, again, err)
	}
}

func TestFormatWellKnownErrors(t *testing.T) {
	_, err := FormatWellKnown([]Mapping{{Prefix: "a", Delegate: "d.example"}, {Prefix: "a", Registry: "https://r.example"}})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("delegate and registry for one prefix: %v", err)
	}
	_, err = FormatWellKnown([]Mapping{{Prefix: "a", Registry: "https://r.example"}, {Prefix: "a", Delegate: "d.example"}})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("registry then delegate for one prefix: %v", err)
	}
	_, err = FormatWellKnown([]Mapping{{Prefix: "a", Delegate: "d.example"}, {Prefix: "a", Delegate: "e.example"}})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("two delegates for one prefix: %v", err)
	}
	_, err = FormatWellKnown([]Mapping{{Prefix: "A", Delegate: "d.example"}})
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("invalid prefix: %v", err)
	}
	var many []Mapping
	for i := 0; i < 2000; i++ {
		many = append(many, Mapping{Prefix: "p", Registry: "https://registry-" + strings.Repeat("x", 20) + ".example/" + string(rune('a'+i%26))})
	}
	if _, err := FormatWellKnown(many); err == nil || !strings.Contains(err.Error(), "64 KiB") {
		t.Errorf("a document over the limit: %v", err)
	}
	doc, err := FormatWellKnown(nil)
	if err != nil || !strings.Contains(string(doc), `"namespaces": []`) {
		t.Errorf("no mappings: %s %v", doc, err)
	}
}

// "Cache-Control: max-age is parsed and kept with the result for the cache
// (clamped to [5 min, 48 h], default 24 h)"
func TestWellKnownMaxAge(t *testing.T) {
	for _, tc := range []struct {
		header []string // name, value pairs
		want   time.Duration
	}{
		{nil, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=3600"}, time.Hour},
		{[]string{"Cache-Control", "public, max-age=7200, must-revalidate"}, 2 * time.Hour},
		{[]string{"Cache-Control", "MAX-AGE = 600"}, 10 * time.Minute},
		{[]string{"Cache-Control", `max-age="900"`}, 15 * time.Minute},
		{[]string{"Cache-Control", "max-age=60"}, 5 * time.Minute},            // clamped up
		{[]string{"Cache-Control", "max-age=0"}, 5 * time.Minute},             // clamped up
		{[]string{"Cache-Control", "max-age=604800"}, 48 * time.Hour},         // clamped down
		{[]string{"Cache-Control", "max-age=99999999999999"}, 48 * time.Hour}, // saturates
		{[]string{"Cache-Control", "no-store"}, 5 * time.Minute},
		{[]string{"Cache-Control", "max-age=3600, no-cache"}, 5 * time.Minute},
		{[]string{"Cache-Control", `no-cache="Set-Cookie"`}, 5 * time.Minute},
		{[]string{"Cache-Control", "max-age=abc"}, 5 * time.Minute}, // invalid: stale at once
		{[]string{"Cache-Control", "max-age=-5"}, 5 * time.Minute},
		{[]string{"Cache-Control", "max-age=7200", "Cache-Control", "max-age=3600"}, time.Hour}, // the smaller wins
		{[]string{"Cache-Control", "private"}, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=7200", "Age", "3600"}, time.Hour}, // time spent in caches
		{[]string{"Cache-Control", "max-age=7200", "Age", "9000"}, 5 * time.Minute},
		{[]string{"Expires", "Thu, 01 Dec 2094 16:00:00 GMT"}, 24 * time.Hour}, // ignored
	} {
		t.Run(strings.Join(tc.header, ": "), func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.header); i += 2 {
				h.Add(tc.header[i], tc.header[i+1])
			}
			if got := wellKnownMaxAge(h); got != tc.want {
				t.Errorf("%v: MaxAge %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

// The same, end to end through an HTTPS response.
func TestFetchWellKnownCacheControl(t *testing.T) {
	doc := readWellKnownFile(t, "example.json")
	for _, tc := range []struct {
		cc   string
		want time.Duration
	}{
		{"", 24 * time.Hour},
		{"max-age=1800", 30 * time.Minute},
		{"max-age=1", 5 * time.Minute},
		{"max-age=31536000", 48 * time.Hour},
		{"no-store", 5 * time.Minute},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			var h http.HandlerFunc = serveDoc(doc)
			if tc.cc != "" {
				h = serveDoc(doc, "Cache-Control", tc.cc)
			}
			srv, host := wellKnownServer(t, h)
			wk, err := FetchWellKnown(context.Background(), srv.Client(), host, ParseOptions{})
			if err != nil || wk.MaxAge != tc.want {
				t.Errorf("Cache-Control %q: %+v %v, want MaxAge %v", tc.cc, wk, err, tc.want)
			}
		})
	}
}
