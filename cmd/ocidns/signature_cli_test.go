package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// protocol.md §15: resolve -o json carries the signature of a name its
// owner requires signed; an unsigned one exits 1 with its code; check
// reports both names against the owner's policy.
func TestSignatureCLI(t *testing.T) {
	lab, flags := labFlags(t)
	code, out, errOut := runCLI(t, "", append(append([]string{"resolve", "-o", "json"}, flags...),
		"example.test/signed/app:1.0", "example.test/signed/unsigned:1.0")...)
	objs := jsonLines(t, out)
	if code != 1 || len(objs) != 2 {
		t.Fatalf("exit %d, %d objects\n%s\nstderr %s", code, len(objs), out, errOut)
	}
	var res struct {
		Digest    string
		Signature struct {
			Verified                                  bool
			KeyID, Format, Signer, Policy, RequiredBy string
		}
	}
	b, _ := json.Marshal(objs[0])
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if s := res.Signature; res.Digest != lab.Digests["example/signed/app:1.0"].String() || !s.Verified || s.KeyID != lab.SigningKey.ID() ||
		s.Format != "simplesigning" || s.Signer != "dns" || s.Policy != "required" || s.RequiredBy != "example.test" {
		t.Errorf("signed: %s", b)
	}
	if objs[1]["code"] != "SIGNATURE_MISSING" || !strings.Contains(errOut, "SIGNATURE_MISSING") {
		t.Errorf("unsigned: %v, stderr %q", objs[1], errOut)
	}

	code, out, _ = runCLI(t, "", append(append([]string{"check", "--no-registry-probe"}, flags...),
		"example.test", "signed/app:1.0", "example.test/signed/unsigned:1.0")...)
	if code != 1 {
		t.Errorf("check: exit %d, want 1 (an error finding)", code)
	}
	for _, want := range []string{"info     SIGNER_KEY", "info     IMAGE_SIGNED  example.test/signed/app:1.0", "error    IMAGE_UNSIGNED  example.test/signed/unsigned:1.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}
