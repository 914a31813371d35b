package discovery

import (
	"context"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

// Authenticate says how this Discoverer authenticates a positive answer
// to a TXT or SRV question, with the very code discovery runs: the
// returned Auth is AuthDNSSEC or AuthNone, and state is what traces show
// in their DNSSEC field ("secure", "insecure", "ad", or "" when nothing
// was attempted). A bogus answer is the validator's error, which discovery
// treats as a failure, never a fall-through. It exists for `ocidns check`,
// which must judge a host's records exactly as clients will.
func (d *Discoverer) Authenticate(ctx context.Context, a *dnsclient.Answer) (auth Auth, state string, err error) {
	l := &dnsLookup{auth: AuthNone}
	err = d.authenticate(ctx, a, l)
	return l.auth, l.dnssec, err
}
