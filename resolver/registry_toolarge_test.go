package resolver

import (
	"context"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// bigManifest is a valid OCI manifest padded past 4 MiB with an annotation.
func bigManifest() []byte {
	pad := strings.Repeat("x", defaultMaxManifestBytes+1024)
	return []byte(`{"schemaVersion":2,"mediaType":"` + mediaTypeOCIManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` +
		strings.Repeat("0", 64) + `","size":2},"layers":[],"annotations":{"pad":"` + pad + `"}}`)
}

// docs/protocol.md §11, §12: a manifest GET is capped at 4 MiB. Whichever way the
// registry announces the size — a HEAD Content-Length, a GET
// Content-Length, or none at all (chunked) — the answer is ErrTooLarge
// naming the limit, and never more than limit+1 bytes are read.
func TestManifestOver4MiBIsTooLarge(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	if _, err := reg.PushRaw("org/big", "v1", mediaTypeOCIManifest, bigManifest()); err != nil {
		t.Fatal(err)
	}
	c, _ := testClient(t, reg, nil)
	for _, tc := range []struct {
		name   string
		faults registrytest.Faults
		step   string
	}{
		{"HEAD Content-Length", registrytest.Faults{}, "HEAD manifest"},
		{"GET Content-Length", registrytest.Faults{StripDigest: true}, "GET manifest"},
		{"GET chunked", registrytest.Faults{StripDigest: true, Chunked: true}, "GET manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg.SetFaults(tc.faults)
			_, err := c.resolve(context.Background(), endpointFor(reg, "org/big"), "r", "v1", "", nil, false, nil)
			e := wantKind(t, err, ErrTooLarge)
			if e.Step != tc.step || !strings.Contains(e.Error(), "4 MiB limit") {
				t.Errorf("%s: error %q (step %q)", tc.name, e, e.Step)
			}
		})
	}
}

func TestReadBoundedStopsAtLimitPlusOne(t *testing.T) {
	r := strings.NewReader(strings.Repeat("a", 100))
	_, err := readBounded(r, 10, -1, "thing")
	if err == nil || !strings.Contains(err.Error(), "thing exceeds the 10-byte limit") {
		t.Fatalf("err %v", err)
	}
	if r.Len() != 100-11 {
		t.Fatalf("read %d bytes, want 11", 100-r.Len())
	}
	b, err := readBounded(strings.NewReader("0123456789"), 10, 10, "thing")
	if err != nil || string(b) != "0123456789" {
		t.Fatalf("exactly the limit: %q %v", b, err)
	}
}

func TestOversizedConfigIsTooLarge(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	body := `{"schemaVersion":2,"mediaType":"` + mediaTypeOCIManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` +
		strings.Repeat("0", 64) + `","size":2000000},"layers":[]}`
	if _, err := reg.PushRaw("org/app", "v1", mediaTypeOCIManifest, []byte(body)); err != nil {
		t.Fatal(err)
	}
	c, _ := testClient(t, reg, nil)
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", platform(t, "linux/amd64"), false, nil)
	e := wantKind(t, err, ErrTooLarge)
	if !strings.Contains(e.Error(), "1 MiB limit") || reg.Requests().BlobGET != 0 {
		t.Fatalf("error %q, blob requests %d", e, reg.Requests().BlobGET)
	}
}
