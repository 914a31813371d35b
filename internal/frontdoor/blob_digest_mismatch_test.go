package frontdoor

import (
	"io"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// A registry that serves other bytes under a blob's digest must not get
// them past the front door as a whole blob: the transfer is cut before its
// last byte, so the engine sees a broken download (never a clean end it
// could take for a complete blob), with Content-Length or chunked.
func TestLyingUpstreamBlobAbortsTheTransfer(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		name := "content-length"
		if chunked {
			name = "chunked"
		}
		t.Run(name, func(t *testing.T) {
			honest := registrytest.StartT(t, registrytest.Options{TLS: true})
			d := honest.MustPushImage(t, "org/app", "v1", registrytest.WithSeed("lying"), registrytest.WithLayerSize(200<<10))
			liar := startTLS(t, lyingBlobs(honest, chunked))
			l := startLab(t, labConfig{extra: []string{liar}, zones: []dnstest.Zone{
				zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true),
			}, opts: rootsOf(honest)})

			img, err := remote.Image(l.pathRef(t, "example.test/org/app@"+d.String()))
			if err != nil {
				t.Fatalf("manifest: %v", err)
			}
			layers, _ := img.Layers()
			ld, _ := layers[0].Digest()
			size, _ := layers[0].Size()

			resp, err := http.Get(l.srv.URL + "/v2/example.test/org/app/blobs/" + ld.String())
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if err == nil {
				t.Fatalf("read %d of %d bytes and a clean end: the forged blob passed as whole", len(got), size)
			}
			if int64(len(got)) >= size {
				t.Errorf("the engine got all %d bytes of a forged blob", len(got))
			}
			if !logHas(l, "DIGEST_MISMATCH") {
				t.Errorf("the log does not name the mismatch:\n%s", l.logs)
			}

			rc, err := layers[0].Compressed()
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			if err == nil {
				t.Error("go-containerregistry read the forged layer without an error")
			}
		})
	}
}
