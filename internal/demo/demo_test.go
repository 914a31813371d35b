package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/resolver"
)

// The demo is a test of the whole path: every scripted resolution must give
// the digest the lab's registry holds, with the authentication it claims.
func TestDemoScenariosResolveAsPublished(t *testing.T) {
	ctx := context.Background()
	lab, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	r, err := resolver.New(lab.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := lab.Run(ctx, &out, r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"skipped unauthenticated mapping", "cache hit", "linux/arm64 manifest",
		"signature verified: simplesigning, key " + lab.SigningKey.ID() + " (dns), required by example.test", "refused, as it must be: SIGNATURE_MISSING"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	out.Reset()
	if err := lab.PullThroughFrontDoor(ctx, &out, r); err != nil {
		t.Fatalf("pull through the front door: %v\n%s", err, out.String())
	}
	for _, want := range []string{"2 platforms", "linux/amd64 manifest", "linux/arm64 manifest", "every digest checked"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("front-door pull output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(lab.CommandLine(), "--trust-anchor "+lab.AnchorFile) {
		t.Errorf("command line %q", lab.CommandLine())
	}
}
