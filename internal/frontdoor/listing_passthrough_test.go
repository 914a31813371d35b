package frontdoor

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// pagedTags is a registry's tag list endpoint with the distribution spec's
// pagination: n and last, and a Link to the next page.
func pagedTags(tags []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			http.NotFound(w, r)
			return
		}
		repo := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/"), "/tags/list")
		q := r.URL.Query()
		rest := tags
		if last := q.Get("last"); last != "" {
			for i, tg := range tags {
				if tg == last {
					rest = tags[i+1:]
				}
			}
		}
		if n, err := strconv.Atoi(q.Get("n")); err == nil && n < len(rest) {
			rest = rest[:n]
			w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s&secret=x>; rel="next"`, repo, n, rest[len(rest)-1]))
		}
		json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": rest})
	})
}

// The tag list is the registry's, under the name the engine asked for, and
// its next-page link leads back to the front door (in the engine's URL
// form) with only the pagination parameters.
func TestTagListIsPassedThroughWithLinksBackToTheFrontDoor(t *testing.T) {
	host := startTLS(t, pagedTags([]string{"a", "b", "c"}))
	l := startLab(t, labConfig{regs: 1, extra: []string{host}, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}/acme"`+"\n", true),
	}})
	for _, tc := range []struct{ path, name, next string }{
		{"/v2/example.test/org/app/tags/list?n=2", "example.test/org/app", "</v2/example.test/org/app/tags/list?last=b&n=2>; rel=\"next\""},
		{"/v2/org/app/tags/list?ns=example.test&n=2", "org/app", "</v2/org/app/tags/list?last=b&n=2&ns=example.test>; rel=\"next\""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := l.do(t, "GET", tc.path, nil)
			var list struct {
				Name string
				Tags []string
			}
			if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, body)
			}
			if list.Name != tc.name || strings.Join(list.Tags, ",") != "a,b" {
				t.Errorf("%s: %+v", tc.path, list)
			}
			if got := resp.Header.Get("Link"); got != tc.next {
				t.Errorf("%s: Link %q, want %q", tc.path, got, tc.next)
			}
			next, _ := url.Parse(strings.Trim(strings.SplitN(resp.Header.Get("Link"), ";", 2)[0], "<>"))
			resp, body = l.do(t, "GET", next.String(), nil)
			if err := json.Unmarshal(body, &list); err != nil || strings.Join(list.Tags, ",") != "c" || resp.Header.Get("Link") != "" {
				t.Errorf("%s: next page %d %s", tc.path, resp.StatusCode, body)
			}
		})
	}
}

// The referrers index of a manifest is the registry's, byte for byte; a
// registry without the API gives 404, so that the engine falls back to the
// referrers tag schema.
func TestReferrersArePassedThrough(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Referrers: true})
	l := startLab(t, labConfig{regs: 1, extra: []string{reg.Host()}, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}/acme"`+"\n", true),
		zone("noapi.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true),
	}})
	subject := reg.MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("subject"))
	l.regs[0].MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("subject"))
	empty, err := reg.PushBlob("acme/org/app", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	sig := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sig",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[],`+
		`"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1}}`, empty, subject)
	sigDigest, err := reg.PushRaw("acme/org/app", "sig", "application/vnd.oci.image.manifest.v1+json", []byte(sig))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := l.do(t, "GET", "/v2/example.test/org/app/referrers/"+subject.String(), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), sigDigest.String()) {
		t.Fatalf("referrers: %d %s", resp.StatusCode, body)
	}
	direct, err := reg.Client().Get(reg.URL() + "/v2/acme/org/app/referrers/" + subject.String())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Body.Close()
	want, err := io.ReadAll(direct.Body)
	if err != nil || digest.FromBytes(want) != digest.FromBytes(body) {
		t.Errorf("referrers body differs from the registry's:\n%s\n%s", want, body)
	}
	resp, body = l.do(t, "GET", "/v2/noapi.test/org/app/referrers/"+subject.String(), nil)
	if resp.StatusCode != 404 {
		t.Errorf("registry without the referrers API: %d %s, want 404", resp.StatusCode, body)
	}
}
