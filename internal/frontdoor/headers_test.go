package frontdoor

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// Manifests go out byte for byte with the registry's Content-Type, their
// digest and length; HEAD answers with exactly GET's headers and no body;
// every named answer echoes the namespace in OCI-Namespace; the second
// request for a digest is served from memory.
func TestManifestHeadersHEADLikeGETAndCache(t *testing.T) {
	l := startLab(t, labConfig{regs: 1, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true),
	}})
	reg := l.regs[0]
	d := reg.MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("headers"))
	direct, err := http.NewRequest("GET", reg.URL()+"/v2/acme/org/app/manifests/"+d.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	direct.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	dresp, err := reg.Client().Do(direct)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.ReadFrom(dresp.Body)
	dresp.Body.Close()

	for _, path := range []string{
		"/v2/example.test/org/app/manifests/v1",
		"/v2/example.test/org/app/manifests/" + d.String(),
		"/v2/org/app/manifests/v1?ns=example.test",
	} {
		t.Run(path, func(t *testing.T) {
			get, body := l.do(t, "GET", path, nil)
			head, hbody := l.do(t, "HEAD", path, nil)
			if get.StatusCode != 200 || head.StatusCode != 200 {
				t.Fatalf("GET %d, HEAD %d: %s", get.StatusCode, head.StatusCode, body)
			}
			if !bytes.Equal(body, want.Bytes()) || len(hbody) != 0 {
				t.Fatalf("GET body differs from the registry's, or HEAD has a body (%d bytes)", len(hbody))
			}
			if digest.FromBytes(body) != d {
				t.Fatal("body does not hash to the digest")
			}
			for _, h := range []string{"Content-Type", "Docker-Content-Digest", "Content-Length", "OCI-Namespace", "Docker-Distribution-Api-Version"} {
				if get.Header.Get(h) == "" || get.Header.Get(h) != head.Header.Get(h) {
					t.Errorf("%s: GET %q, HEAD %q", h, get.Header.Get(h), head.Header.Get(h))
				}
			}
			if got := get.Header.Get("Content-Type"); got != dresp.Header.Get("Content-Type") {
				t.Errorf("Content-Type %q, the registry's %q", got, dresp.Header.Get("Content-Type"))
			}
			if got := get.Header.Get("Docker-Content-Digest"); got != d.String() {
				t.Errorf("Docker-Content-Digest %q", got)
			}
			if got := get.Header.Get("Content-Length"); got != strconv.Itoa(len(want.Bytes())) {
				t.Errorf("Content-Length %s", got)
			}
			if got := get.Header.Get("OCI-Namespace"); got != "example.test" {
				t.Errorf("OCI-Namespace %q", got)
			}
		})
	}
	before := reg.Requests().ManifestGET
	l.do(t, "GET", "/v2/example.test/org/app/manifests/"+d.String(), nil)
	if after := reg.Requests().ManifestGET; after != before {
		t.Errorf("a cached manifest was fetched again (%d GETs)", after-before)
	}
	if n, _ := l.h.manifests.stats(); n == 0 {
		t.Error("manifest cache empty")
	}

	resp, body := l.do(t, "GET", "/v2/", nil)
	if resp.StatusCode != 200 || string(body) != "{}\n" || resp.Header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
		t.Errorf("/v2/: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

// The manifest cache holds at most its byte bound.
func TestManifestCacheIsBoundedInBytes(t *testing.T) {
	c := newManifestCache(1000)
	for i := 0; i < 50; i++ {
		c.add(strconv.Itoa(i), manifestOfSize(300))
	}
	n, b := c.stats()
	if b > 1000 || n != 3 {
		t.Errorf("%d entries, %d bytes; want 3 entries within 1000 bytes", n, b)
	}
	c.add("big", manifestOfSize(2000))
	if _, ok := c.get("big"); ok {
		t.Error("a manifest over the whole bound was kept")
	}
	if _, ok := c.get("49"); !ok {
		t.Error("the most recent entry was evicted")
	}
}

// stats returns the entries and bytes held.
func (c *manifestCache) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
