package discovery

import (
	"context"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

// Authenticate judges a TXT or SRV answer, positive or negative, as this
// Discoverer does before using it (docs/protocol.md §8.2): validated
// in-process when it has a Validator, else vouched for by a trusted AD
// bit, else not authenticated; nothing is judged with --dnssec off. A bogus
// answer is the validator's error (a *dnssec.BogusError), which discovery
// treats as a failure, never a fall-through. It exists for `ocidns check`,
// which must judge a host's records exactly as clients will.
func (d *Discoverer) Authenticate(ctx context.Context, a *dnsclient.Answer) (Authentication, error) {
	return d.authenticate(ctx, a)
}
