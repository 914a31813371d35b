package dnssec

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The per-validation bound holds across RRsets: each RRset has its own
// count of 8, and all of them together at most 32.
func TestSignatureBudgetPerRRsetAndPerValidation(t *testing.T) {
	r := &validation{}
	ctx := context.Background()
	spent := 0
	for set := 0; ; set++ {
		c := sigCounter{r: r, what: rrsetName{dns.TypeTXT, "set" + string(rune('a'+set)) + "."}}
		for i := 0; i < maxVerifiesPerRRset; i++ {
			e := c.next(ctx, "example.")
			if spent == maxVerifiesPerValidation {
				if e == nil || !errors.Is(e, ErrBudgetExceeded) || !strings.Contains(e.Reason, "32 signature verifications in one validation") {
					t.Fatalf("verification %d of the validation: %v, want the per-validation bound", spent+1, e)
				}
				return
			}
			if e != nil {
				t.Fatalf("verification %d of RRset %d (%d in all): %v", i+1, set+1, spent+1, e)
			}
			spent++
		}
		if e := c.next(ctx, "example."); e == nil || !strings.Contains(e.Reason, "8 signature verifications for one RRset") || e.Signer != "example." {
			t.Fatalf("9th verification of one RRset: %v, want the per-RRset bound", e)
		}
	}
}

// NSEC3 hashing (denial.go): iterations above 100 are
// insecure without hashing (RFC 9276 §3.2), and one validation hashes at
// most 8 names at 100 iterations, or more at fewer.
func TestNSEC3HashBudget(t *testing.T) {
	for _, tc := range []struct {
		iterations uint16
		insecure   bool
		names      int // hashed before the budget runs out
	}{
		{0, false, maxNSEC3Hashes},
		{10, false, maxNSEC3Hashes / 11},
		{100, false, 8},
		{101, true, 0},
		{2500, true, 0},
	} {
		n := &dns.NSEC3{Iterations: tc.iterations}
		if got := nsec3Insecure(n); got != tc.insecure {
			t.Errorf("%d iterations: insecure %v, want %v", tc.iterations, got, tc.insecure)
		}
		if tc.insecure {
			continue
		}
		var b hashBudget
		names := 0
		for b.spend("NSEC3 example.", tc.iterations) == nil {
			names++
		}
		if names != tc.names {
			t.Errorf("%d iterations: %d names hashed, want %d", tc.iterations, names, tc.names)
		}
		e := b.spend("NSEC3 example.", tc.iterations)
		if !errors.Is(e, ErrBudgetExceeded) || !strings.Contains(e.Error(), "NSEC3 hash computations") {
			t.Errorf("%d iterations: over budget gives %v", tc.iterations, e)
		}
	}
}
