package discovery

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// SRVLabel is the label under a host where the SRV records of its own
// registry live: _oci-registry._tcp.<host>.
const SRVLabel = "_oci-registry._tcp"

// OrderSRV returns srvs in the order to try them (RFC 2782): ascending
// Priority; within one priority a weighted random order by Weight, where
// weight-0 targets get a small chance only when others have weight. srvs is
// not modified. rnd nil uses a process-wide source that is safe for
// concurrent use; a *rand.Rand given here must not be used concurrently.
func OrderSRV(srvs []*dns.SRV, rnd *rand.Rand) []*dns.SRV {
	return orderRFC2782(srvs, func(s *dns.SRV) (int, int) { return int(s.Priority), int(s.Weight) }, rnd)
}

// SRVEndpoints turns the SRV records of _oci-registry._tcp.<host>, in the
// order to try them (see OrderSRV), into endpoints for the repository path:
// https://<target>[:port] (port elided when 443), the path unchanged, all
// capabilities, Source SourceSRV. Authenticated is left for the caller, who
// knows how the RRset was validated.
//
// No records give no endpoints and none false (absent, not "no registry").
// A single record with target "." means the host decidedly runs no registry
// (RFC 2782): none is true and no endpoint is returned. A "." among other
// targets carries no meaning and is skipped. A record with an invalid target
// or port 0 is an error wrapping ErrMalformed that names the record: the
// host's own SRV RRset is wrong, and guessing would hide it.
func SRVEndpoints(srvs []*dns.SRV, host, path string) (eps []Endpoint, none bool, err error) {
	if len(srvs) == 1 && srvs[0].Target == "." {
		return nil, true, nil
	}
	eps = make([]Endpoint, 0, len(srvs))
	for _, s := range srvs {
		if s.Target == "." {
			continue
		}
		target, err := canonicalDNSName(s.Target)
		if err == nil && s.Port == 0 {
			err = fmt.Errorf("port 0")
		}
		if err != nil {
			return nil, false, fmt.Errorf("%w: SRV %s.%s. record %q: %w", ErrMalformed, SRVLabel, strings.TrimSuffix(host, "."), srvText(s), err)
		}
		url := "https://" + target
		if s.Port != 443 {
			url += ":" + strconv.Itoa(int(s.Port))
		}
		eps = append(eps, Endpoint{URL: url, Repository: path, Priority: int(s.Priority), Weight: int(s.Weight), Caps: CapAll, Source: SourceSRV})
	}
	if len(eps) == 0 && len(srvs) > 0 {
		return nil, true, nil // only "." targets
	}
	return eps, false, nil
}

// SRVRecords returns the SRV records among rrs (the answer to
// _oci-registry._tcp.<host>), copied without their owner names, in
// published order. An RRset over MaxRRsetRecords records is an error
// wrapping ErrRRsetTooLarge: its answer is unknown (docs/protocol.md §9).
func SRVRecords(rrs []dns.RR) ([]*dns.SRV, error) {
	var srvs []*dns.SRV
	for _, rr := range rrs {
		s, ok := rr.(*dns.SRV)
		if !ok {
			continue
		}
		if len(srvs) == MaxRRsetRecords {
			return nil, rrsetTooLarge(len(rrs), "")
		}
		srvs = append(srvs, &dns.SRV{Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: s.Target})
	}
	return srvs, nil
}

// srvText is the RDATA of an SRV record as in a zone file.
func srvText(s *dns.SRV) string {
	return fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, s.Target)
}
