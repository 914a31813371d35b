package check

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
)

// wellKnownSites are the documents of TestWellKnownFindings, one broken
// way per host.
func wellKnownSites() map[string]http.Handler {
	redirect := func(to string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) })
	}
	big := `{"version": 1, "namespaces": [], "padding": "` + strings.Repeat("x", discovery.WellKnownMaxBytes) + `"}`
	return map[string]http.Handler{
		"wk.example.com": doc(`{"version": 1, "namespaces": [
			{"prefix": "tools", "registries": [{"url": "https://{{REG}}/tools", "priority": 10}]},
			{"prefix": "", "registries": [{"url": "https://{{REG}}/wk"}]}]}`),
		"disagree.example.com": doc(`{"version": 1, "namespaces": [{"registries": [{"url": "https://{{REG}}/from-web"}]}]}`),
		"good.example.com":     doc(`{"version": 1, "namespaces": [{"registries": [{"url": "https://{{REG}}/good"}]}]}`),
		"wkconflict.example.com": doc(`{"version": 1, "namespaces": [
			{"prefix": "a", "delegate": "good.example.com"},
			{"prefix": "a", "registries": [{"url": "https://{{REG}}/a"}]}]}`),
		"big.example.com": doc(big),
		"chunked.example.com": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(big[:len(big)/2]))
			w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
			w.Write([]byte(big[len(big)/2:]))
		}),
		"json.example.com":      doc(`{"version": 1, "namespaces": [`),
		"v2.example.com":        doc(`{"version": 2, "namespaces": []}`),
		"loop.example.com":      redirect(discovery.WellKnownPath + "?again"),
		"downgrade.example.com": redirect("http://downgrade.example.com" + discovery.WellKnownPath),
		"fail.example.com":      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) }),
		"wk.other.test":         doc(`{"version": 1, "namespaces": []}`),
		"partial.example.com":   http.NotFoundHandler(),
	}
}

// TestWellKnownFindings pins the finding for each way a well-known
// document fails as FetchWellKnown sees it: every one makes the answer
// unknown, an error for a host whose names depend on the document.
func TestWellKnownFindings(t *testing.T) {
	l := newLab(t, wellKnownSites())
	tests := []struct {
		host   string
		want   []string
		wantNo []string
	}{
		{host: "wk.example.com", want: []string{"info WELLKNOWN_OK", "info WELLKNOWN_MAPPING", "info REGISTRY_OK"}},
		{host: "big.example.com", want: []string{"error WELLKNOWN_TOO_LARGE"}},
		{host: "chunked.example.com", want: []string{"error WELLKNOWN_TOO_LARGE"}},
		{host: "json.example.com", want: []string{"error WELLKNOWN_INVALID"}},
		{host: "v2.example.com", want: []string{"error WELLKNOWN_INVALID"}},
		{host: "loop.example.com", want: []string{"error WELLKNOWN_REDIRECT"}},
		{host: "downgrade.example.com", want: []string{"error WELLKNOWN_REDIRECT"}},
		{host: "fail.example.com", want: []string{"error WELLKNOWN_STATUS"}},
		{host: "wk.other.test", want: []string{"error WELLKNOWN_TLS"}},
		{host: "reset.nothing.example.com", want: []string{"error WELLKNOWN_UNREACHABLE"}},
		// No address, or nothing listening: no document, absent.
		{host: "nothing.example.com", want: []string{"info WELLKNOWN_ABSENT", "warning NOTHING_PUBLISHED"}, wantNo: []string{CodeWellKnownUnreachable}},
		{host: "wkconflict.example.com", want: []string{"error WELLKNOWN_CONFLICT"}},
		// TXT maps every path: an unknown document matters to no name.
		{host: "reset.good.example.com", want: []string{"info WELLKNOWN_UNREACHABLE"}},
		// TXT maps one prefix, and the host answers 404: absent, not unknown.
		{host: "partial.example.com", want: []string{"info WELLKNOWN_ABSENT"}, wantNo: []string{CodeWellKnownUnreachable}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			fs := l.check(t, tt.host, nil)
			want(t, fs, tt.want...)
			wantNo(t, fs, tt.wantNo...)
		})
	}
	t.Run("version fix", func(t *testing.T) {
		f, _ := find(l.check(t, "v2.example.com", nil), CodeWellKnownInvalid)
		if !strings.Contains(f.Fix, `"version": 1`) {
			t.Errorf("fix of a wrong version: %q", f.Fix)
		}
	})
}

// TestWellKnownNeededByUncoveredPaths: a host whose TXT record maps only a
// prefix depends on its well-known document for every other path, so an
// unknown document there (the connection drops) is an error.
func TestWellKnownNeededByUncoveredPaths(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "reset.partial.example.com", nil)
	want(t, fs, "error WELLKNOWN_UNREACHABLE")
}

// TestTXTAndWellKnownDisagree: the two sources map one prefix to different
// registries.
func TestTXTAndWellKnownDisagree(t *testing.T) {
	l := newLab(t, wellKnownSites())
	fs := l.check(t, "disagree.example.com", nil)
	want(t, fs, "warning TXT_WELLKNOWN_DIFFER")
	f, _ := find(fs, CodeTXTWellKnownDiffer)
	if !strings.Contains(f.Message, "from-dns") || !strings.Contains(f.Message, "from-web") {
		t.Errorf("the finding does not show both targets: %s", f)
	}
	// The same mapping in both: no disagreement.
	wantNo(t, l.check(t, "good.example.com", nil), CodeTXTWellKnownDiffer)
}

// TestUnauthenticatedMappingCoveredByWellKnown: when the well-known
// document (authenticated by HTTPS) maps the prefix the same way, clients
// that skip the unauthenticated TXT record still get there: a warning.
func TestUnauthenticatedMappingCoveredByWellKnown(t *testing.T) {
	l := newLab(t, wellKnownSites())
	l.validate = false
	fs := l.check(t, "good.example.com", nil)
	want(t, fs, "warning UNAUTHENTICATED")
	wantNoErrors(t, fs)
}

// TestNoWellKnownSkipsTheDocument: --no-well-known clients never fetch it.
func TestNoWellKnownSkipsTheDocument(t *testing.T) {
	l := newLab(t, wellKnownSites())
	fs := l.check(t, "fail.example.com", func(c *Config) { c.NoWellKnown = true })
	want(t, fs, "info WELLKNOWN_NOT_CHECKED")
	wantNo(t, fs, CodeWellKnownStatus)
}
