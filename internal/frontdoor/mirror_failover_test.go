package frontdoor

import (
	"net"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// Two mirrors, the first unable to serve: 404 (it lacks the image), 503
// (down) or a refused connection. The front door resolves the tag and
// pulls manifest, config and layers from the second, after trying the
// first.
func TestSecondMirrorServesWhenTheFirstCannot(t *testing.T) {
	closed := func(t *testing.T) (string, *counting) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr, nil
	}
	for _, tc := range []struct {
		name  string
		first func(t *testing.T) (string, *counting)
	}{
		{"404", func(t *testing.T) (string, *counting) {
			c := &counting{h: proxyTo(registrytest.StartT(t, registrytest.Options{TLS: true}))}
			return startTLS(t, c), c
		}},
		{"503", func(t *testing.T) (string, *counting) {
			c := down(http.StatusServiceUnavailable)
			return startTLS(t, c), c
		}},
		{"500", func(t *testing.T) (string, *counting) {
			c := down(http.StatusInternalServerError)
			return startTLS(t, c), c
		}},
		{"connection refused", closed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, seen := tc.first(t)
			l := startLab(t, labConfig{regs: 1, extra: []string{first}, zones: []dnstest.Zone{
				zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}/acme; priority=10"`+"\n"+
					`_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme; priority=20"`+"\n", true),
			}})
			want := l.regs[0].MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("failover"))
			img, err := remote.Image(l.pathRef(t, "example.test/org/app:v1"))
			if err != nil {
				t.Fatalf("pull: %v\n%s", err, l.logs)
			}
			if d, _ := img.Digest(); d.String() != want.String() {
				t.Fatalf("digest %s, want %s", d, want)
			}
			pullImage(t, img)
			if seen != nil && seen.n.Load() == 0 {
				t.Error("the first mirror was never asked")
			}
			if c := l.regs[0].Requests(); c.BlobGET == 0 || c.ManifestGET == 0 {
				t.Errorf("the second mirror served %d manifests and %d blobs", c.ManifestGET, c.BlobGET)
			}
		})
	}
}

// A registry that refuses ocidns's credentials would refuse them whichever
// mirror is asked next; the front door says DENIED (403: the engine has
// nothing to authenticate with) instead of trying on.
func TestRefusedCredentialsDoNotMoveOn(t *testing.T) {
	locked := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthBasic, Username: "u", Password: "p"}})
	l := startLab(t, labConfig{regs: 1, extra: []string{locked.Host()}, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}/acme; priority=10"`+"\n"+
			`_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme; priority=20"`+"\n", true),
	}})
	d := l.regs[0].MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("denied"))
	resp, body := l.do(t, "GET", "/v2/example.test/org/app/manifests/"+d.String(), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d %s, want 403", resp.StatusCode, body)
	}
	if code, _ := ociError(t, body); code != codeDenied {
		t.Errorf("code %s, want DENIED", code)
	}
	if c := l.regs[0].Requests(); c.Manifests() != 0 {
		t.Errorf("the second mirror was asked %d times after the first refused the credentials", c.Manifests())
	}
}
