package discovery

import (
	"bytes"
	"testing"
)

// SelectSigners: the longest whole-component prefix wins, independently of
// the mappings' prefixes; its keys replace shorter prefixes'; the
// strictest sign= among its records applies; an empty p= revokes its keys;
// an unknown algorithm's record counts but gives no key.
func TestSelectSigners(t *testing.T) {
	key := func(prefix, seed string, sign SignPolicy) PublishedKey {
		return PublishedKey{Prefix: prefix, Sign: sign, Alg: KeyAlgEd25519, DER: testKeyDER(t, KeyAlgEd25519, seed)}
	}
	root := key("", "root", SignRequired)
	org := key("org", "org", SignOptional)
	org2 := key("org", "org2", SignRequired)
	team := key("org/team", "team", SignOptional)
	revokeLegacy := PublishedKey{Prefix: "org/legacy", Alg: KeyAlgECDSAP256, Revoked: true}
	legacy := key("org/legacy", "legacy", SignOptional)
	future := PublishedKey{Prefix: "org/next", Alg: "ml-dsa-65", Sign: SignRequired}
	keys := []PublishedKey{root, org, org2, team, revokeLegacy, legacy, future, org}

	for _, c := range []struct {
		path    string
		prefix  string
		sign    SignPolicy
		revoked bool
		want    []PublishedKey
	}{
		{"app", "", SignRequired, false, []PublishedKey{root}},
		{"orgx/app", "", SignRequired, false, []PublishedKey{root}}, // whole components: "org" does not match "orgx"
		{"org/app", "org", SignRequired, false, []PublishedKey{org, org2}},
		{"org", "org", SignRequired, false, []PublishedKey{org, org2}},
		{"org/team/app", "org/team", SignOptional, false, []PublishedKey{team}}, // replaces org's keys and org's required
		{"org/legacy/app", "org/legacy", SignOptional, true, nil},
		{"org/next/app", "org/next", SignRequired, false, nil},
	} {
		t.Run(c.path, func(t *testing.T) {
			s := SelectSigners(keys, c.path)
			if !s.Found || s.Prefix != c.prefix || s.Sign != c.sign || s.Revoked != c.revoked || len(s.Keys) != len(c.want) {
				t.Fatalf("got %s %+v, want prefix %q sign=%s revoked=%v %d keys", s, s, c.prefix, c.sign, c.revoked, len(c.want))
			}
			for i := range s.Keys {
				if !bytes.Equal(s.Keys[i].DER, c.want[i].DER) {
					t.Errorf("key %d is not the expected one", i)
				}
			}
		})
	}
	if s := SelectSigners([]PublishedKey{org}, "other/app"); s.Found || len(s.Keys) != 0 || s.Sign != SignOptional {
		t.Errorf("no matching prefix: %+v", s)
	}
	if s := SelectSigners(nil, "app"); s.Found {
		t.Errorf("no keys: %+v", s)
	}
}

// Across a delegation the delegate's keys apply and a parent's
// sign=required carries down; an optional parent does not relax a
// delegate's required.
func TestDelegatedSigners(t *testing.T) {
	parentKey := PublishedKey{Alg: KeyAlgEd25519, DER: testKeyDER(t, KeyAlgEd25519, "parent"), Sign: SignRequired}
	childKey := PublishedKey{Alg: KeyAlgEd25519, DER: testKeyDER(t, KeyAlgEd25519, "child")}
	parent := SelectSigners([]PublishedKey{parentKey}, "org/app")
	child := SelectSigners([]PublishedKey{childKey}, "app")
	got := child.Delegated(parent)
	if got.Sign != SignRequired || len(got.Keys) != 1 || !bytes.Equal(got.Keys[0].DER, childKey.DER) {
		t.Errorf("delegated %+v, want the child's key under required", got)
	}
	if got := (Signers{}).Delegated(parent); got.Sign != SignRequired || len(got.Keys) != 0 {
		t.Errorf("a delegate without keys under a required parent: %+v, want required with no key", got)
	}
	strict := SelectSigners([]PublishedKey{{Alg: KeyAlgEd25519, DER: childKey.DER, Sign: SignRequired}}, "app")
	if got := strict.Delegated(Signers{Found: true}); got.Sign != SignRequired {
		t.Errorf("optional parent relaxed the delegate: %+v", got)
	}
}
