//go:build !race

package discovery

import "testing"

// The TXT parser and Select run for every record of every discovery: a valid
// canonical record and a single match allocate nothing. (Not under -race,
// which instruments allocations.)
func TestParseTXTAndSelectDoNotAllocate(t *testing.T) {
	record := "v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10; weight=5; caps=resolve"
	if n := testing.AllocsPerRun(100, func() { ParseTXT(record, ParseOptions{}) }); n != 0 {
		t.Errorf("ParseTXT of a canonical record: %v allocations", n)
	}
	ms := txtMappings(t, record, "v=oci1; prefix=acme; delegate=acme.example", "v=oci1; registry=https://r.example")
	if n := testing.AllocsPerRun(100, func() { Select(ms, "acme/team/app") }); n != 0 {
		t.Errorf("Select with a single match: %v allocations", n)
	}
}
