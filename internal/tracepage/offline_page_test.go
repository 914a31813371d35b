package tracepage_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/tracepage"
)

// A written page holds its script and style sheet inline, allowed by the
// SHA-256 hashes its <meta> policy names, and nothing else: no script
// from a file, no other inline script, no inline style attribute.
func TestOfflinePageAllowsOnlyItsOwnScriptByHash(t *testing.T) {
	var buf bytes.Buffer
	if err := tracepage.WriteHTML(&buf, tracepage.Body{Ref: "example.test/app:1", Events: []trace.Event{}}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	meta := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(page)
	if meta == nil || meta[1] != tracepage.OfflineCSP() {
		t.Fatalf("no policy of its own in the page head:\n%.600s", page)
	}
	csp := meta[1]
	hashOf := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	scripts := regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	var code int
	for _, s := range scripts {
		switch s[1] {
		case ` type="application/json" id="trace-data"`: // data, never run
		case "":
			code++
			if !strings.Contains(csp, "script-src "+hashOf(s[2])) {
				t.Errorf("the inline script's hash %s is not the policy's script-src: %s", hashOf(s[2]), csp)
			}
		default:
			t.Errorf("a script element %q besides the page's own", s[1])
		}
	}
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
	if code != 1 || len(styles) != 1 || !strings.Contains(csp, "style-src "+hashOf(styles[0][1])) {
		t.Errorf("%d inline scripts, %d style sheets, policy %s: want one of each, allowed by hash", code, len(styles), csp)
	}
	for _, banned := range []string{"'unsafe-inline'", "'unsafe-eval'", "http:", "https:", "*"} {
		if strings.Contains(csp, banned) {
			t.Errorf("policy %s allows %s", csp, banned)
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=|\sstyle=|src="|href="`).MatchString(page) {
		t.Errorf("the page has an event handler, a style attribute or a reference to another file")
	}
}

// The trace goes into the page as JSON that ends no element: a TXT record
// of "</script><img src=x onerror=...>" reads back as the same text.
func TestOfflinePageDataCannotEndItsElement(t *testing.T) {
	hostile := `</script><img src=x onerror=alert(1)><!--<script>`
	in := tracepage.Body{Ref: "example.test/app:1", Error: hostile, Events: []trace.Event{{ID: 1, Source: "discovery", Decision: hostile}},
		Hops: []tracepage.Hop{{Host: "example.test", Sources: []tracepage.Source{{Source: "dns-txt", Skipped: []tracepage.Skipped{{Reason: "not-oci", Record: hostile}}}}}}}
	var buf bytes.Buffer
	if err := tracepage.WriteHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<img") || strings.Contains(page, "</script><img") {
		t.Fatal("the record's markup is in the page as markup")
	}
	open := `<script type="application/json" id="trace-data">`
	i := strings.Index(page, open)
	j := strings.Index(page[i:], "</script>")
	if i < 0 || j < 0 {
		t.Fatal("no data element")
	}
	var out tracepage.Body
	if err := json.Unmarshal([]byte(page[i+len(open):i+j]), &out); err != nil {
		t.Fatalf("the data element's text is not the JSON: %v", err)
	}
	if out.Hops[0].Sources[0].Skipped[0].Record != hostile || out.Events[0].Decision != hostile || out.Error != hostile {
		t.Errorf("read back %+v", out)
	}
}

// The script inserts what it reads as text: it never hands a string to
// the HTML parser or to the JavaScript compiler, and sets no attribute
// but the safe ones (checked as the script runs, in el).
func TestScriptInsertsTextOnly(t *testing.T) {
	js, err := os.ReadFile("assets/trace.js")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(string(js), "") // comments may name what is avoided
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		"setTimeout(\"", "srcdoc", ".href", "location.href =", "createContextualFragment", "DOMParser", "setAttribute(\"style"} {
		if strings.Contains(code, banned) {
			t.Errorf("trace.js uses %s", banned)
		}
	}
	if !strings.Contains(code, "createTextNode") || !strings.Contains(code, `var safeAttrs = /^(class|id|role|tabindex|type|hidden|for|scope|aria-[a-z]+|data-[a-z-]+)$/;`) {
		t.Error("trace.js no longer builds text nodes through el and its list of safe attributes")
	}
	for _, f := range []string{"assets/trace.js", "assets/trace.css"} {
		b, _ := os.ReadFile(f)
		if bytes.Contains(bytes.ToLower(b), []byte("</script")) || bytes.Contains(bytes.ToLower(b), []byte("</style")) {
			t.Errorf("%s would end its inline element", f)
		}
	}
}
