package discovery

import "strconv"

// SkipReason says why a published record or mapping was not used.
type SkipReason uint8

// Why a record or mapping was skipped. The zero value is not a reason.
const (
	// SkipNotOCI: a TXT record of another protocol or version (v=spf1,
	// v=oci2), ignored as docs/protocol.md §3.2 says.
	SkipNotOCI SkipReason = iota + 1
	// SkipMalformed: a v=oci1 record that breaks the grammar (§3.2);
	// Skipped.Err is the *RecordError.
	SkipMalformed
)

var skipReasonNames = [...]string{
	SkipNotOCI:    "not-oci",
	SkipMalformed: "malformed",
}

// String returns the reason's stable name, such as "not-oci".
func (r SkipReason) String() string {
	if int(r) < len(skipReasonNames) && skipReasonNames[r] != "" {
		return skipReasonNames[r]
	}
	return "skip(" + strconv.Itoa(int(r)) + ")"
}

// Skipped is one published record or mapping that a source did not use,
// and why.
type Skipped struct {
	Reason SkipReason
	// Record is the record or document entry as published.
	Record string
	// Mapping is the parsed mapping; zero for records that are not one
	// (SkipNotOCI, SkipMalformed).
	Mapping Mapping
	// Err is the parse error of a SkipMalformed record.
	Err error
}
