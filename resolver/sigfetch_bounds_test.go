package resolver

import (
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// The resolver's signature.Fetcher reads within the limit it is given, says
// not-found for a 404 and "no referrers API" for a registry without one,
// and fails (neither) on anything else.
func TestSignatureFetcherBoundsAndStatuses(t *testing.T) {
	ctx := context.Background()
	for _, referrers := range []bool{false, true} {
		reg := registrytest.StartT(t, registrytest.Options{TLS: true, Referrers: referrers})
		d := push(t, reg, "org/app", "v1")
		k := signtest.MustKey(t, signature.ECDSAP256, "k")
		s := signtest.Signer{Target: reg.Target()}
		if _, err := s.SignTag(ctx, "org/app", d, k, signtest.Options{}); err != nil {
			t.Fatal(err)
		}
		c, _ := testClient(t, reg, nil)
		tg, err := c.target(endpointFor(reg, "org/app"), "example.test/org/app")
		if err != nil {
			t.Fatal(err)
		}
		f := signatureFetcher{c: c, t: tg}
		name := "referrers API off"
		if referrers {
			name = "referrers API on"
		}
		t.Run(name, func(t *testing.T) {
			body, mt, err := f.Manifest(ctx, signature.SignatureTag(d), signature.MaxSignatureManifestBytes)
			if err != nil || mt != "application/vnd.oci.image.manifest.v1+json" || len(body) == 0 {
				t.Fatalf(".sig manifest: %d bytes, %q, %v", len(body), mt, err)
			}
			if _, _, err := f.Manifest(ctx, signature.SignatureTag(d), int64(len(body)-1)); !errors.Is(err, signature.ErrTooLarge) {
				t.Errorf("manifest over the limit: %v, want ErrTooLarge", err)
			}
			other := digest.FromString("nothing signed this")
			if _, _, err := f.Manifest(ctx, signature.SignatureTag(other), signature.MaxSignatureManifestBytes); !errors.Is(err, signature.ErrNotFound) {
				t.Errorf("absent .sig: %v, want ErrNotFound", err)
			}
			if _, err := f.Blob(ctx, other, signature.MaxPayloadBytes); !errors.Is(err, signature.ErrNotFound) {
				t.Errorf("absent blob: %v, want ErrNotFound", err)
			}
			_, err = f.Referrers(ctx, d, signature.BundleMediaType, signature.MaxIndexBytes)
			if referrers && err != nil {
				t.Errorf("referrers: %v", err)
			}
			if !referrers && !errors.Is(err, signature.ErrReferrersUnsupported) {
				t.Errorf("referrers without the API: %v, want ErrReferrersUnsupported", err)
			}

			reg.SetFaults(registrytest.Faults{Throttle: 1 << 20, ThrottleStatus: 500})
			defer reg.SetFaults(registrytest.Faults{})
			_, _, err = f.Manifest(ctx, signature.SignatureTag(d), signature.MaxSignatureManifestBytes)
			if err == nil || errors.Is(err, signature.ErrNotFound) || errors.Is(err, signature.ErrTooLarge) {
				t.Errorf("HTTP 500: %v, want a fetch failure", err)
			}
		})
	}
}
