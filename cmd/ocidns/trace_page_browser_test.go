//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// The trace page in a real browser: Debian's chromium, headless, renders
// the page `ocidns serve` serves for the demo lab's two-hop name, and the
// page `ocidns trace --html` writes for it; the DOM it built is read back
// (--dump-dom) and screenshots are taken. The name goes from example.test
// (signed) to vendor.test, an unsigned zone where an attacker forged a
// mapping to evil.example.test (skipped) and a TXT record of markup
// (<img src=x onerror=...>), whose SRV names a registry and a mirror.
//
// Without chromium the test is skipped, but not under CI=true (.ci/run
// installs it). Screenshots go to $OCIDNS_E2E_DIR/artifacts/trace-page
// when the e2e lab is up (.ci/run prints where it kept them), else to the
// test's artifact directory (go test -artifacts). With
// OCIDNS_TRACE_PAGE_PNG=FILE the README's picture is taken too.
func TestTracePageInChromium(t *testing.T) {
	browser := findChromium(t)
	lab, flags := labFlags(t)
	const ref = "example.test/vendor/scanner:1.0"
	digest := lab.Digests["scanner:1.0"].String()
	shots := screenshotDir(t)

	t.Run("served", func(t *testing.T) {
		// Each page load is traced by a serve of its own, so that every
		// one draws a resolution whose answers all had to be asked for.
		fresh := func(ref string) string {
			base, logs, stop := startServe(t, append(flags, allowLab(lab)...)...)
			t.Cleanup(func() {
				if code := stop(); code != 0 {
					t.Errorf("serve exited %d: %s", code, logs.String())
				}
			})
			return base + "/?ref=" + url.QueryEscape(ref)
		}
		checkTracePage(t, browser.dumpDOM(t, fresh(ref)), digest)
		browser.screenshot(t, fresh(ref), filepath.Join(shots, "served-1280x800.png"), "1280,800")
		browser.screenshot(t, fresh(ref), filepath.Join(shots, "served-1280-full.png"), "1280,1900")
		browser.screenshot(t, fresh(ref), filepath.Join(shots, "served-narrow-420.png"), "420,2600")
		if out := os.Getenv("OCIDNS_TRACE_PAGE_PNG"); out != "" {
			browser.screenshot(t, fresh("example.test/partners/acme/tool:1.0"), out, "1280,1640")
		}
	})

	t.Run("written by trace --html", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "trace.html")
		code, _, errOut := runCLI(t, "", append(append([]string{"trace", "--html", file}, flags...), ref)...)
		if code != 0 {
			t.Fatalf("trace --html: exit %d: %s", code, errOut)
		}
		page := "file://" + file
		checkTracePage(t, browser.dumpDOM(t, page), digest)
		browser.screenshot(t, page, filepath.Join(shots, "offline-1280x800.png"), "1280,800")

		// A result with a signature state shows it, as text: here a
		// verification that found nothing, whose error names a place a
		// registry chose.
		withSignature(t, file, `{"verified":false,"digest":"`+digest+`","policy":"optional","keys":1,"code":"SIGNATURE_MISSING",`+
			`"error":"no signature at <img src=y onerror=alert(2)>"}`)
		doc, err := html.Parse(strings.NewReader(browser.dumpDOM(t, page)))
		if err != nil {
			t.Fatal(err)
		}
		answer := find(doc, func(n *html.Node) bool { return attr(n, "id") == "answer" })
		if answer == nil || !strings.Contains(text(answer), "Signature") || !strings.Contains(text(answer), "✗ SIGNATURE_MISSING") ||
			!strings.Contains(text(answer), "SIGNATURE_MISSING") || !strings.Contains(text(answer), "<img src=y onerror=alert(2)>") {
			t.Errorf("the answer does not show the signature state:\n%s", text(answer))
		}
		if imgs := findAll(doc, func(n *html.Node) bool { return n.Data == "img" }); len(imgs) > 0 {
			t.Errorf("%d <img> elements in the page", len(imgs))
		}
	})
}

// withSignature gives the result in the page file a signature state, as
// the resolver reports one when it verifies signatures.
func withSignature(t *testing.T, file, signature string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	open := `<script type="application/json" id="trace-data">`
	i := strings.Index(page, open) + len(open)
	j := i + strings.Index(page[i:], "</script>")
	var body map[string]any
	if err := json.Unmarshal([]byte(page[i:j]), &body); err != nil {
		t.Fatal(err)
	}
	res, _ := body["result"].(map[string]any)
	if res == nil {
		t.Fatal("no result in the page")
	}
	res["signature"] = json.RawMessage(signature)
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(page[:i]+string(data)+page[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkTracePage reads the DOM chromium built: each hop's host, the
// forged mapping skipped with its reason, the digest, and the record of
// markup as text that made no element.
func checkTracePage(t *testing.T, dom, digest string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	body := find(doc, func(n *html.Node) bool { return n.Data == "body" })
	if body == nil || attr(body, "data-state") != "done" {
		t.Fatalf("the page did not finish drawing the trace:\n%s", dom)
	}
	byID := func(id string) string {
		n := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
		if n == nil {
			t.Fatalf("no #%s in the page", id)
		}
		return text(n)
	}
	chain, answer := byID("chain"), byID("answer")

	var hosts []string
	for _, hop := range findAll(doc, hasClass("hop")) {
		if h3 := find(hop, func(n *html.Node) bool { return n.Data == "h3" }); h3 != nil {
			hosts = append(hosts, text(h3))
		}
	}
	if len(hosts) != 2 || !strings.Contains(hosts[0], "example.test") || !strings.Contains(hosts[1], "vendor.test") {
		t.Errorf("hops drawn: %q, want example.test then vendor.test", hosts)
	}
	for _, want := range []string{"dnssec", "registry.example.test", "mirror.example.test", "priority 20"} {
		if !strings.Contains(chain, want) {
			t.Errorf("the delegation chain lacks %q:\n%s", want, chain)
		}
	}

	forged := false
	for _, sk := range findAll(doc, hasClass("skipped")) {
		s := text(sk)
		forged = forged || (strings.Contains(s, "unauthenticated-cross-host") && strings.Contains(s, "evil.example.test:6666/stolen") &&
			strings.Contains(s, "not authenticated"))
	}
	if !forged {
		t.Errorf("no skipped mapping to evil.example.test with its reason:\n%s", chain)
	}
	if !strings.Contains(answer, digest) {
		t.Errorf("the answer lacks the digest %s:\n%s", digest, answer)
	}

	// The TXT record of markup is in the page as its text, and no element
	// came of it: no <img>, no attribute of an event handler.
	if !strings.Contains(chain, "<img src=x onerror=alert(document.domain)>") {
		t.Errorf("the TXT record of markup is not shown as text:\n%s", chain)
	}
	if imgs := findAll(doc, func(n *html.Node) bool { return n.Data == "img" }); len(imgs) > 0 {
		t.Errorf("%d <img> elements in the page", len(imgs))
	}
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "src" && n.Data != "script" || a.Key == "style" && strings.Contains(a.Val, "url(") {
				t.Errorf("<%s %s=%q> in the page", n.Data, a.Key, a.Val)
			}
		}
	}

	// The waterfall: a focusable bar for each timed step, each labelled
	// with what it was, and steps that overlapped in separate lanes.
	bars := findAll(doc, func(n *html.Node) bool { return n.Data == "button" && hasClass("bar")(n) })
	if len(bars) < 8 {
		t.Errorf("%d bars in the waterfall, want every DNS query, validation and request", len(bars))
	}
	for _, b := range bars {
		if !strings.Contains(attr(b, "aria-label"), "took ") {
			t.Errorf("bar %q says nothing of its duration", attr(b, "aria-label"))
		}
	}
	if lanes := findAll(doc, func(n *html.Node) bool { return hasClass("wf-label")(n) && strings.HasPrefix(text(n), "lane ") }); len(lanes) < 2 {
		t.Errorf("%d lanes: the lookups of a hop run at once and should not share one", len(lanes))
	}
}

// chromium is the browser to run.
type chromium struct{ path string }

func findChromium(t *testing.T) chromium {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return chromium{p}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: .ci/run installs Debian's chromium for this test")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return chromium{}
}

// command is chromium headless in a new empty profile, logging to stderr,
// with args; when ctx ends it is killed with its helper processes.
func (c chromium) command(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.path, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs chromium headless on page with args, in a new empty profile,
// until it exits; the page gets up to 10 s of virtual time, which does not
// pass while its requests are in flight. Messages the page logged to the
// console (a Content-Security-Policy violation, a script error) fail the
// test.
func (c chromium) run(t *testing.T, page string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := c.command(ctx, t, append([]string{"--virtual-time-budget=10000", "--hide-scrollbars"}, append(args, page)...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", page, err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("the page logged: %s", line)
		}
	}
	return stdout.String()
}

func (c chromium) dumpDOM(t *testing.T, page string) string {
	t.Helper()
	return c.run(t, page, "--dump-dom")
}

func (c chromium) screenshot(t *testing.T, page, file, size string) {
	t.Helper()
	c.run(t, page, "--window-size="+size, "--screenshot="+file)
	if fi, err := os.Stat(file); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	t.Logf("screenshot: %s", file)
}

// screenshotDir is where screenshots are kept: in the e2e lab's artifacts
// when it is up, else in the test's artifact directory.
func screenshotDir(t *testing.T) string {
	if lab := os.Getenv("OCIDNS_E2E_DIR"); lab != "" {
		dir := filepath.Join(lab, "artifacts", "trace-page")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(c string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+c+" ")
	}
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if all := findAll(n, match); len(all) > 0 {
		return all[0]
	}
	return nil
}

// text is the text of n's subtree, as a browser's textContent.
func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
