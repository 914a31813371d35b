package discovery

import (
	"errors"
	"fmt"
)

// What one host's records may cost a client (docs/protocol.md §11). A
// client keeps the parsed records of every host it asked for as long as
// their TTL, and sends requests to every endpoint they name, so both are
// bounded whatever a zone or document holds.
const (
	// MaxRRsetRecords is the most records a TXT or SRV RRset of discovery
	// may have.
	MaxRRsetRecords = 128
	// MaxTXTBytes is the most bytes the records of a TXT RRset may hold
	// together (each record's strings concatenated, as TXTString gives them).
	MaxTXTBytes = 16 << 10
	// MaxEndpoints is the most endpoints one source gives at one hop: the
	// registry mirrors of the matched prefix (TXT, well-known document,
	// local configuration) or the SRV targets, taken in the order of
	// OrderMirrors and OrderSRV. The others are reported as skipped.
	MaxEndpoints = 16
)

// ErrRRsetTooLarge: a TXT RRset over MaxRRsetRecords records or
// MaxTXTBytes bytes, or an SRV RRset over MaxRRsetRecords records. The
// whole RRset is refused and the answer is unknown (docs/protocol.md §9):
// keeping some TXT records would change which prefix matches, and
// skipping them all would fall through to a source the owner did not
// choose.
var ErrRRsetTooLarge = errors.New("RRset too large")

// rrsetTooLarge is the error of an RRset of n records refused for why
// ("" when for its number of records).
func rrsetTooLarge(n int, why string) error {
	if why == "" {
		return fmt.Errorf("%w: %d records, more than the %d a client reads", ErrRRsetTooLarge, n, MaxRRsetRecords)
	}
	return fmt.Errorf("%w: %d records, %s; a client reads at most %d records and %d KiB", ErrRRsetTooLarge, n, why, MaxRRsetRecords, MaxTXTBytes>>10)
}
