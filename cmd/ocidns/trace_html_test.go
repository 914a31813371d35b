package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/tracepage"
)

// pageData reads the trace a written page carries.
func pageData(t *testing.T, page string) tracepage.Body {
	t.Helper()
	open := `<script type="application/json" id="trace-data">`
	i := strings.Index(page, open)
	if i < 0 || !strings.HasPrefix(page, "<!doctype html>") {
		t.Fatalf("not a trace page:\n%.300s", page)
	}
	i += len(open)
	j := strings.Index(page[i:], "</script>")
	var b tracepage.Body
	if err := json.Unmarshal([]byte(page[i:i+j]), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// trace --html FILE writes the page with the trace in it, besides the
// text; --html - writes only the page, to standard output; a failed
// resolution is written too (the page is for bug reports), and a file
// that cannot be written is an error naming the flag.
func TestTraceHTMLWritesThePage(t *testing.T) {
	lab, flags := labFlags(t)
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		return runCLI(t, "", append(append([]string{"trace"}, flags...), args...)...)
	}

	file := filepath.Join(dir, "ok.html")
	code, out, errOut := run("--html", file, "example.test/vendor/scanner:1.0")
	if code != 0 || !strings.Contains(out, ";; ANSWER: example.test/vendor/scanner:1.0") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b := pageData(t, string(page))
	if b.Ref != "example.test/vendor/scanner:1.0" || b.Result == nil || b.Result.Digest != lab.Digests["scanner:1.0"] || len(b.Hops) != 2 || len(b.Events) < 10 {
		t.Errorf("the page's trace: ref %q, result %v, %d hops, %d events", b.Ref, b.Result, len(b.Hops), len(b.Events))
	}
	if !strings.Contains(string(page), `<meta http-equiv="Content-Security-Policy" content="`+tracepage.OfflineCSP()+`">`) {
		t.Error("the page lacks its Content-Security-Policy")
	}

	code, out, _ = run("--html", "-", "--platform", "linux/arm64", "example.test/org/app:v1.0.0")
	if code != 0 || strings.Contains(out, ";; ANSWER") {
		t.Fatalf("--html -: exit %d, text in the page: %t", code, strings.Contains(out, ";; ANSWER"))
	}
	if b := pageData(t, out); b.Platform != "linux/arm64" || b.Result == nil || b.Result.PlatformDigest != lab.Digests["example/org/app:v1.0.0@linux/arm64"] {
		t.Errorf("--html - --platform linux/arm64: platform %q result %+v", b.Platform, b.Result)
	}

	file = filepath.Join(dir, "failed.html")
	code, _, errOut = run("--html", file, "example.test/org/app:nope")
	if code != 1 || !strings.Contains(errOut, "example.test/org/app:nope") {
		t.Fatalf("a missing tag: exit %d, stderr %q", code, errOut)
	}
	page, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if b := pageData(t, string(page)); b.Result != nil || b.Code != "NOT_FOUND" || len(b.Events) == 0 {
		t.Errorf("the page of a failed resolution: code %q, %d events", b.Code, len(b.Events))
	}

	code, _, errOut = run("--html", filepath.Join(dir, "no-such-dir", "x.html"), "example.test/org/app:v1.0.0")
	if code != 1 || !strings.Contains(errOut, "--html") {
		t.Errorf("an unwritable file: exit %d, stderr %q", code, errOut)
	}
}
