package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/frontdoor"
	"github.com/ocidns/ocidns/resolver"
)

// PullThroughFrontDoor serves the registry front door of `ocidns serve` on
// 127.0.0.1 over r, and pulls the demo's two-platform image through it
// with go-containerregistry's client, as an engine would: the index, then
// for each platform the manifest, the config and every layer. Every digest
// is checked against what the lab's registry holds and what the bytes hash
// to. It prints what it did to w.
func (lab *Lab) PullThroughFrontDoor(ctx context.Context, w io.Writer, r *resolver.Resolver) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           frontdoor.New(frontdoor.Config{Resolver: r, Logger: slog.New(slog.DiscardHandler)}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go srv.Serve(ln)
	defer srv.Close()
	door := ln.Addr().String()

	fmt.Fprintf(w, "\n== %d. a whole image pulled through the registry front door (ocidns serve's /v2/)\n", len(lab.scenarios())+1)
	fmt.Fprintf(w, "$ crane pull %s/example.test/org/app:v1.0.0   (go-containerregistry's client, as Docker names it)\n", door)
	wantIndex := lab.Digests["example/org/app:v1.0.0"]
	if err := headContainerdForm(ctx, w, door, wantIndex); err != nil {
		return err
	}
	ref, err := name.ParseReference(door+"/example.test/org/app:v1.0.0", name.Insecure)
	if err != nil {
		return err
	}
	idx, err := remote.Index(ref, remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("index through the front door: %w", err)
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	if got := digest.FromBytes(raw); got != wantIndex {
		return fmt.Errorf("index hashes to %s, the registry holds %s", got, wantIndex)
	}
	total, err := lab.pullPlatforms(w, idx, wantIndex, len(raw))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "=> pulled %d bytes through the front door; each one from the registry example.test's records name\n", total+int64(len(raw)))
	return nil
}

// headContainerdForm asks the front door at door for the index in
// containerd's form: the host in ?ns=, the path unchanged.
func headContainerdForm(ctx context.Context, w io.Writer, door string, want digest.Digest) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "http://"+door+"/v2/org/app/manifests/v1.0.0?ns=example.test", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintf(w, "   HEAD /v2/org/app/manifests/v1.0.0?ns=example.test (containerd's form) -> %d, Docker-Content-Digest %s\n",
		resp.StatusCode, resp.Header.Get("Docker-Content-Digest"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != want.String() {
		return fmt.Errorf("HEAD through the front door: %d %s, want 200 %s", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), want)
	}
	return nil
}

// pullPlatforms pulls every platform's image of idx, of rawLen bytes,
// checking each digest against what the lab pushed, and returns the bytes
// pulled.
func (lab *Lab) pullPlatforms(w io.Writer, idx v1.ImageIndex, want digest.Digest, rawLen int) (int64, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "   index %s: %d bytes, %d platforms, digest checked\n", want, rawLen, len(im.Manifests))
	var total int64
	for _, desc := range im.Manifests {
		plat := desc.Platform.String()
		if want := lab.Digests["example/org/app:v1.0.0@"+plat]; want.String() != desc.Digest.String() {
			return 0, fmt.Errorf("%s: index names %s, the registry holds %s", plat, desc.Digest, want)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return 0, fmt.Errorf("%s manifest: %w", plat, err)
		}
		n, err := pullChecked(img, desc.Digest)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", plat, err)
		}
		total += n
		fmt.Fprintf(w, "   %s manifest %s, config and layers: %d bytes, every digest checked\n", plat, desc.Digest, n)
	}
	return total, nil
}

// pullChecked reads img's manifest, config and layers, hashing each and
// comparing with the digest that names it; it returns the bytes read.
func pullChecked(img v1.Image, want v1.Hash) (int64, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	if got := digest.FromBytes(raw); got.String() != want.String() {
		return 0, fmt.Errorf("manifest hashes to %s, want %s", got, want)
	}
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	if got := digest.FromBytes(cfg); got.String() != m.Config.Digest.String() {
		return 0, fmt.Errorf("config hashes to %s, want %s", got, m.Config.Digest)
	}
	n := int64(len(raw) + len(cfg))
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	if len(layers) == 0 {
		return 0, errors.New("no layers")
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return 0, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return 0, fmt.Errorf("layer %s: %w", d, err)
		}
		h := digest.Canonical.Digester()
		k, err := io.Copy(h.Hash(), rc)
		rc.Close()
		if err != nil {
			return 0, fmt.Errorf("layer %s: %w", d, err)
		}
		if got := h.Digest(); got.String() != d.String() {
			return 0, fmt.Errorf("layer hashes to %s, want %s", got, d)
		}
		n += k
	}
	return n, nil
}
