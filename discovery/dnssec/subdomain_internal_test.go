package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// isSubDomain is dns.IsSubDomain without its allocations: same answers,
// escapes and case included.
func TestIsSubDomainAgreesWithMiekg(t *testing.T) {
	for _, tc := range []struct{ parent, child string }{
		{".", "."}, {".", "example."}, {"example.", "."},
		{"example.", "example."}, {"example.", "EXAMPLE."}, {"Example", "a.example."},
		{"example.", "a.b.example."}, {"example.", "aexample."}, {"example.", "example.com."},
		{"b.example.", "a.b.example."}, {"a.b.example.", "b.example."},
		{"example.", `a\.example.`}, {`a\.example.`, `x.a\.example.`}, {"example.", `a\\.example.`},
		{"corp.example.", "_oci-discovery.CORP.example"}, {"xample.", "example."},
	} {
		want := dns.IsSubDomain(tc.parent, tc.child)
		if got := isSubDomain(tc.parent, tc.child); got != want {
			t.Errorf("isSubDomain(%q, %q) = %v, dns.IsSubDomain says %v", tc.parent, tc.child, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isSubDomain("corp.example.", "_oci-discovery.corp.example.") }); n != 0 {
		t.Errorf("%v allocations, want none", n)
	}
}
