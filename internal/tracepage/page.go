package tracepage

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the page's parts
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The page's parts, in the binary's data as the linker laid them out:
// no start-up work, where reading them from an embed.FS at init copied
// 40 KB on every start of ocidns, whatever the command. Never modified.
var (
	//go:embed assets/index.html
	indexHTML []byte
	//go:embed assets/trace.js
	traceJS []byte
	//go:embed assets/trace.css
	traceCSS []byte
)

// servedCSP is the Content-Security-Policy of the page `ocidns serve`
// serves: scripts, styles and requests from the daemon itself only, no
// inline script, no other origin, and no page may frame it.
const servedCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// The markers in index.html that WriteHTML replaces.
const (
	markCSP    = "<!--offline-csp-->"
	markData   = "<!--offline-data-->"
	linkCSS    = `<link rel="stylesheet" href="/assets/trace.css">`
	scriptJS   = `<script src="/assets/trace.js"></script>`
	dataOpen   = `<script type="application/json" id="trace-data">`
	scriptOpen = "<script>"
)

// Handler serves the page: GET / (the page, which asks /v1/trace) and
// GET /assets/trace.js and /assets/trace.css, each with servedCSP,
// X-Content-Type-Options: nosniff and no framing. The caller mounts it
// for "/" and "/assets/" and checks the Host header first.
func Handler() http.Handler {
	type asset struct {
		body        []byte
		ctype, etag string
	}
	// The assets change with the binary only: their tags are computed
	// once, here, not at each request.
	assets := map[string]asset{
		"/":                 {indexHTML, "text/html; charset=utf-8", etag(indexHTML)},
		"/assets/trace.js":  {traceJS, "text/javascript; charset=utf-8", etag(traceJS)},
		"/assets/trace.css": {traceCSS, "text/css; charset=utf-8", etag(traceCSS)},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("Content-Security-Policy", servedCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		// Ask each time, answer 304 while the binary is the same.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

// OfflineCSP is the Content-Security-Policy a page written by WriteHTML
// carries in a <meta> element: its one script and its one style sheet,
// inline, allowed by their SHA-256 hashes; nothing else runs, nothing is
// fetched. (A <meta> policy cannot forbid framing; a file opened from disk
// is framed by nobody.)
func OfflineCSP() string {
	return "default-src 'none'; script-src '" + hash(traceJS) + "'; style-src '" + hash(traceCSS) + "'; " +
		"img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"
}

// hash is the CSP source expression of an inline element's text.
func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// WriteHTML writes the page with b inside, to open offline: the script and
// style sheet inline under OfflineCSP, and b as JSON in a
// <script type="application/json"> element the page reads as text. The
// JSON escapes <, > and &, so no text of a trace can end that element.
func WriteHTML(w io.Writer, b Body) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("trace page: %w", err)
	}
	if bytes.Contains(data, []byte("</")) {
		return errors.New("trace page: the JSON of the trace holds \"</\"") // json.Marshal escapes '<': never
	}
	page := string(indexHTML)
	for _, r := range []struct{ old, new string }{
		{markCSP, `<meta http-equiv="Content-Security-Policy" content="` + OfflineCSP() + `">`},
		{linkCSS, "<style>" + string(traceCSS) + "</style>"},
		{markData, dataOpen + string(data) + "</script>"},
		{scriptJS, scriptOpen + string(traceJS) + "</script>"},
	} {
		if strings.Count(page, r.old) != 1 {
			return fmt.Errorf("trace page: the template lacks %q", r.old)
		}
		page = strings.Replace(page, r.old, r.new, 1)
	}
	_, err = io.WriteString(w, page)
	return err
}
