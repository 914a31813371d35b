package daemon

import (
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// upstreamLine is one series of ocidns_upstream_requests_total.
var upstreamLine = regexp.MustCompile(`^ocidns_upstream_requests_total\{source="([^"]*)",outcome="([^"]*)"\} (\d+)$`)

// The upstream counters count every request a resolution sent — a failed
// one's too (a tag the registry does not have is a 404 after DNS queries)
// — from the events' data, with labels from a closed set: source dns,
// https or registry; outcome an rcode name, an HTTP status, "other" or
// "error". A well-known fetch that found no server (insecure.test's, read
// once its TXT mapping is skipped) is "error", never a word cut from the
// event's text ("no").
func TestUpstreamCountersCountFailedResolutionsWithClosedLabels(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	for _, ref := range []string{"example.test/org/app:nope", "insecure.test/app:nope"} {
		var body errorBody
		if resp := get(t, srv, "/v1/resolve?ref="+url.QueryEscape(ref), &body); resp.StatusCode != 404 || body.Code != "NOT_FOUND" {
			t.Fatalf("%s: status %d, code %q: want 404 NOT_FOUND", ref, resp.StatusCode, body.Code)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	outcome := regexp.MustCompile(`^(NOERROR|FORMERR|SERVFAIL|NXDOMAIN|NOTIMP|REFUSED|[1-5][0-9][0-9]|other|error)$`)
	counts := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "ocidns_upstream_requests_total{") {
			continue
		}
		m := upstreamLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("malformed series %q", line)
			continue
		}
		if m[1] != "dns" && m[1] != "https" && m[1] != "registry" || !outcome.MatchString(m[2]) {
			t.Errorf("label outside the closed set: %q", line)
		}
		counts[m[1]+" "+m[2]]++
	}
	for _, want := range []string{"dns NOERROR", "registry 404", "https error"} {
		if counts[want] == 0 {
			t.Errorf("no %s series after a failed resolution:\n%s", want, b)
		}
	}
}
