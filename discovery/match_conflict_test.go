package discovery

import (
	"errors"
	"strings"
	"testing"
)

// "two records with the same prefix and different targets are an error
// unless both are registry= (then they are mirrors)"
func TestSelectConflict(t *testing.T) {
	for _, tc := range []struct {
		rule    string
		records []string
		path    string
		a, b    string
	}{
		{"a delegate and a registry for one prefix",
			[]string{"v=oci1; prefix=acme; delegate=acme.example", "v=oci1; prefix=acme; registry=https://r.example"},
			"acme/app", "v=oci1; prefix=acme; delegate=acme.example", "v=oci1; prefix=acme; registry=https://r.example"},
		{"two different delegates for the whole host",
			[]string{"v=oci1; delegate=a.example", "v=oci1; delegate=b.example"},
			"x", "v=oci1; delegate=a.example", "v=oci1; delegate=b.example"},
		{"registry mirrors then a delegate: the delegate and the first mirror are named in published order",
			[]string{"v=oci1; registry=https://m1.example", "v=oci1; registry=https://m2.example", "v=oci1; delegate=d.example"},
			"x", "v=oci1; registry=https://m1.example", "v=oci1; delegate=d.example"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, _, err := Select(txtMappings(t, tc.records...), tc.path)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Select = %v, %v; want ErrConflict", mappingRecords(got), err)
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not a *ConflictError", err)
			}
			if ce.A.Record != tc.a || ce.B.Record != tc.b {
				t.Errorf("conflict between\n%q and\n%q, want\n%q and\n%q", ce.A.Record, ce.B.Record, tc.a, tc.b)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.a) || !strings.Contains(msg, tc.b) {
				t.Errorf("error %q does not name both records", msg)
			}
		})
	}

	// A conflict under a shorter prefix does not matter when a longer one wins.
	ms := txtMappings(t, "v=oci1; delegate=a.example", "v=oci1; delegate=b.example", "v=oci1; prefix=x; registry=https://r.example")
	if got, _, err := Select(ms, "x/y"); err != nil || len(got) != 1 {
		t.Errorf("longer prefix beside a conflicting shorter one: %v, %v", mappingRecords(got), err)
	}
}

// Conflicts judges a whole set of mappings as Select judges each prefix:
// one *ConflictError a conflicting prefix, in the order prefixes appear;
// mirrors and a delegation repeated are no conflict.
func TestConflicts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		records  []string
		prefixes []string
	}{
		{"mirrors and a repeated delegation", []string{
			"v=oci1; registry=https://m1.example", "v=oci1; registry=https://m2.example",
			"v=oci1; prefix=a; delegate=d.example", "v=oci1; prefix=a; delegate=D.example."}, nil},
		{"two prefixes in conflict, one not", []string{
			"v=oci1; prefix=b; delegate=x.example", "v=oci1; prefix=ok; registry=https://r.example",
			"v=oci1; prefix=b; registry=https://r.example", "v=oci1; delegate=a.example", "v=oci1; delegate=b.example"}, []string{"b", ""}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ce := range Conflicts(txtMappings(t, tc.records...)) {
				if ce.A.Prefix != ce.B.Prefix || !errors.Is(ce, ErrConflict) {
					t.Errorf("conflict %v across prefixes", ce)
				}
				got = append(got, ce.A.Prefix)
			}
			if strings.Join(got, ",") != strings.Join(tc.prefixes, ",") || len(got) != len(tc.prefixes) {
				t.Errorf("conflicting prefixes %q, want %q", got, tc.prefixes)
			}
		})
	}
}
