package frontdoor

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// A Range request is passed to the registry and its 206 back to the engine
// (resuming a download); HEAD of a blob answers its length; an
// unsatisfiable range is 416.
func TestBlobRangeIsPassedThrough(t *testing.T) {
	l := startLab(t, labConfig{regs: 1, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true),
	}})
	d := l.regs[0].MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("range"), registrytest.WithLayerSize(100<<10))
	img, err := remote.Image(l.pathRef(t, "example.test/org/app@"+d.String()))
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	rc, _ := layers[0].Compressed()
	whole, _ := io.ReadAll(rc)
	rc.Close()
	path := "/v2/example.test/org/app/blobs/" + ld.String()

	resp, body := l.do(t, "GET", path, http.Header{"Range": {"bytes=1000-1999"}})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, whole[1000:2000]) {
		t.Fatalf("range: status %d, %d bytes", resp.StatusCode, len(body))
	}
	if cr := resp.Header.Get("Content-Range"); cr != "bytes 1000-1999/"+strconv.Itoa(len(whole)) {
		t.Errorf("Content-Range %q", cr)
	}
	end := strconv.Itoa(len(whole) - 1)
	resp, body = l.do(t, "GET", path, http.Header{"Range": {"bytes=5000-" + end}})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, whole[5000:]) {
		t.Fatalf("range to the end: status %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = l.do(t, "GET", path, http.Header{"Range": {"bytes=0-1,5-6"}})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, whole) {
		t.Errorf("a multi-range request must get the whole blob: status %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = l.do(t, "GET", path, http.Header{"Range": {"bytes=" + strconv.Itoa(10*len(whole)) + "-" + strconv.Itoa(11*len(whole))}})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("unsatisfiable range: status %d, want 416", resp.StatusCode)
	}
	resp, body = l.do(t, "HEAD", path, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(whole)) ||
		resp.Header.Get("Docker-Content-Digest") != ld.String() {
		t.Errorf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = l.do(t, "GET", path, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, whole) || resp.Header.Get("Content-Length") != strconv.Itoa(len(whole)) {
		t.Errorf("GET: %d, %d bytes", resp.StatusCode, len(body))
	}
}
