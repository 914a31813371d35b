package signature_test

import (
	"testing"

	"github.com/ocidns/ocidns/resolver/signature"
)

// Under required (and unset) anything but a verified result is an error,
// a zero Result included; under optional nothing is.
func TestPolicyNeverFailsOpen(t *testing.T) {
	results := map[string]signature.Result{
		"zero":        {},
		"missing":     {Code: signature.CodeMissing},
		"invalid":     {Code: signature.CodeInvalid},
		"no key":      {Code: signature.CodeNoUsableKey},
		"unfetchable": {Code: signature.CodeUnfetchable},
		"verified":    {Verified: true, KeyID: "k", Format: signature.FormatBundle},
	}
	for name, r := range results {
		t.Run(name, func(t *testing.T) {
			for _, p := range []signature.Policy{signature.PolicyRequired, signature.PolicyUnset} {
				if err := p.Check(r); (err == nil) != r.Verified {
					t.Errorf("%s: Check = %v", p, err)
				}
			}
			if err := signature.PolicyOptional.Check(r); err != nil {
				t.Errorf("optional: Check = %v", err)
			}
		})
	}
}

// The strictest policy wins, in either order.
func TestStricterPolicy(t *testing.T) {
	for _, c := range []struct{ a, b, want signature.Policy }{
		{signature.PolicyOptional, signature.PolicyOptional, signature.PolicyOptional},
		{signature.PolicyOptional, signature.PolicyRequired, signature.PolicyRequired},
		{signature.PolicyRequired, signature.PolicyOptional, signature.PolicyRequired},
		{signature.PolicyUnset, signature.PolicyOptional, signature.PolicyUnset},
		{signature.PolicyRequired, signature.PolicyUnset, signature.PolicyUnset},
	} {
		t.Run(c.a.String()+"+"+c.b.String(), func(t *testing.T) {
			if got := c.a.Stricter(c.b); got != c.want {
				t.Errorf("%s.Stricter(%s) = %s, want %s", c.a, c.b, got, c.want)
			}
		})
	}
}
