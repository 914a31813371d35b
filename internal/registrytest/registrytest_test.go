package registrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func get(t *testing.T, c *http.Client, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestPushedImagesAreDeterministicAcrossRegistries(t *testing.T) {
	a := StartT(t, Options{TLS: true})
	b := StartT(t, Options{})
	da := a.MustPushImage(t, "org/app", "v1", WithPlatform("linux/arm64/v8"), WithSeed("x"))
	db := b.MustPushImage(t, "other/name", "v2", WithPlatform("linux/arm64/v8"), WithSeed("x"))
	if da != db {
		t.Fatalf("same options gave %s and %s", da, db)
	}
	if dc := b.MustPushImage(t, "other/name", "v3", WithSeed("y")); dc == db {
		t.Fatalf("different seed and platform gave the same digest %s", dc)
	}
}

func TestServesPushedManifestWithDigestHeader(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) {
			r := StartT(t, Options{TLS: useTLS})
			d := r.MustPushImage(t, "org/app", "v1")
			resp, body := get(t, r.Client(), "GET", r.URL()+"/v2/org/app/manifests/v1", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("tls=%v: status %d: %s", useTLS, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Docker-Content-Digest"); got != d.String() || digest.FromBytes(body) != d {
				t.Fatalf("tls=%v: header %s body %s, pushed %s", useTLS, got, digest.FromBytes(body), d)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.oci.image.manifest.v1+json" {
				t.Fatalf("content type %q", ct)
			}
			if c := r.Requests(); c.ManifestGET != 1 || c.ManifestHEAD != 0 {
				t.Fatalf("push requests leaked into counters: %+v", c)
			}
		})
	}
}

func TestPushIndexHasEveryPlatform(t *testing.T) {
	r := StartT(t, Options{})
	plats := []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}
	idx, children, err := r.PushIndex("org/multi", "v1", plats)
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, r.Client(), "GET", r.URL()+"/v2/org/multi/manifests/"+idx.String(), nil)
	var ix struct {
		MediaType string
		Manifests []struct {
			Digest   digest.Digest
			Platform struct{ OS, Architecture, Variant string }
		}
	}
	if err := json.Unmarshal(body, &ix); err != nil {
		t.Fatal(err)
	}
	if ix.MediaType != "application/vnd.oci.image.index.v1+json" || len(ix.Manifests) != 3 {
		t.Fatalf("index: %s", body)
	}
	for i, m := range ix.Manifests {
		p := m.Platform.OS + "/" + m.Platform.Architecture
		if m.Platform.Variant != "" {
			p += "/" + m.Platform.Variant
		}
		if p != plats[i] || children[p] != m.Digest {
			t.Errorf("child %d: %s %s, want %s %s", i, p, m.Digest, plats[i], children[plats[i]])
		}
	}
}

func TestTokenAuthChallengesAndGrantsScopes(t *testing.T) {
	r := StartT(t, Options{TLS: true, Auth: Auth{Mode: AuthToken, ExpiresIn: 300}})
	r.MustPushImage(t, "org/app", "v1")
	c := r.Client()
	resp, _ := get(t, c, "HEAD", r.URL()+"/v2/org/app/manifests/v1", nil)
	ch := resp.Header.Get("WWW-Authenticate")
	want := `Bearer realm="` + r.URL() + `/token",service="registrytest",scope="repository:org/app:pull"`
	if resp.StatusCode != 401 || ch != want {
		t.Fatalf("got %d %q, want 401 %q", resp.StatusCode, ch, want)
	}
	_, body := get(t, c, "GET", r.URL()+"/token?service=registrytest&scope=repository:org/app:pull", nil)
	var tok struct {
		Token     string
		ExpiresIn int `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" || tok.ExpiresIn != 300 {
		t.Fatalf("token response %s (%v)", body, err)
	}
	resp, _ = get(t, c, "HEAD", r.URL()+"/v2/org/app/manifests/v1", map[string]string{"Authorization": "Bearer " + tok.Token})
	if resp.StatusCode != 200 {
		t.Fatalf("with token: %d", resp.StatusCode)
	}
	resp, _ = get(t, c, "HEAD", r.URL()+"/v2/org/other/manifests/v1", map[string]string{"Authorization": "Bearer " + tok.Token})
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("token for org/app used on org/other: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if n := r.Requests().TokenByScope["repository:org/app:pull"]; n != 1 {
		t.Fatalf("token requests for scope: %d", n)
	}
}

func TestBasicAuthRequiresCredentials(t *testing.T) {
	r := StartT(t, Options{Auth: Auth{Mode: AuthBasic, Username: "u", Password: "p"}})
	r.MustPushImage(t, "org/app", "v1") // the push helper authenticates itself
	resp, _ := get(t, r.Client(), "GET", r.URL()+"/v2/org/app/manifests/v1", nil)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="registrytest"` {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("GET", r.URL()+"/v2/org/app/manifests/v1", nil)
	req.SetBasicAuth("u", "p")
	resp2, err := r.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Fatalf("with credentials: %d", resp2.StatusCode)
	}
}

func TestFaultsApplyToManifestRequests(t *testing.T) {
	r := StartT(t, Options{})
	d := r.MustPushImage(t, "org/app", "v1")
	u := r.URL() + "/v2/org/app/manifests/v1"
	c := r.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	r.SetFaults(Faults{StripDigest: true, Chunked: true})
	resp, body := get(t, c, "GET", u, nil)
	if resp.Header.Get("Docker-Content-Digest") != "" || resp.ContentLength != -1 || digest.FromBytes(body) != d {
		t.Fatalf("strip+chunked: %v %d", resp.Header, resp.ContentLength)
	}

	r.SetFaults(Faults{WrongDigest: true})
	if resp, _ := get(t, c, "HEAD", u, nil); resp.Header.Get("Docker-Content-Digest") == d.String() {
		t.Fatal("wrong digest fault kept the right digest")
	}

	r.SetFaults(Faults{HeadNotAllowed: true})
	if resp, _ := get(t, c, "HEAD", u, nil); resp.StatusCode != 405 {
		t.Fatalf("HEAD: %d", resp.StatusCode)
	}

	r.SetFaults(Faults{Throttle: 2, RetryAfter: "3"})
	for i, want := range []int{429, 429, 200} {
		resp, _ := get(t, c, "GET", u, nil)
		if resp.StatusCode != want || (want == 429 && resp.Header.Get("Retry-After") != "3") {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	r.SetFaults(Faults{NotFound: true})
	if resp, _ := get(t, c, "GET", u, nil); resp.StatusCode != 404 {
		t.Fatalf("not found: %d", resp.StatusCode)
	}

	r.SetFaults(Faults{Redirect: true})
	resp, _ = get(t, c, "GET", u, map[string]string{"Authorization": "Bearer secret"})
	if resp.StatusCode != 307 || !strings.HasPrefix(resp.Header.Get("Location"), r.OtherURL()+"/v2/org/app/manifests/v1") {
		t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = get(t, c, "GET", resp.Header.Get("Location"), nil)
	if resp.StatusCode != 200 || digest.FromBytes(body) != d {
		t.Fatalf("other host: %d", resp.StatusCode)
	}
	other := r.RequestsTo("other")
	if len(other) != 1 || other[0].Authorization != "" || r.Requests().Redirected != 1 {
		t.Fatalf("other host log %+v", other)
	}
}

func TestSlowBodyStallsMidway(t *testing.T) {
	r := StartT(t, Options{Faults: Faults{SlowBody: time.Minute}})
	r.MustPushImage(t, "org/app", "v1")
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", r.URL()+"/v2/org/app/manifests/v1", nil)
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatalf("first byte: %v", err)
	}
	cancel() // the server must notice and give up the stalled response
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("body completed despite the stall")
	}
}
