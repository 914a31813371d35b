package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ocidns/ocidns/discovery"
)

// checkDelegations runs the discovery algorithm itself, as the configured
// client, for one name under each published prefix (and one under no
// prefix), and queues the registries it reaches for the probes. The check
// follows exactly the path discovery takes under the policy in force: a
// mapping that discovery skips (an unauthenticated cross-host mapping under
// --dnssec on, docs/protocol.md §8.3) is reported from discovery's own hop
// report, never followed, described or probed.
func (c *checker) checkDelegations(ctx context.Context) {
	prefixes := []string{""}
	for _, m := range slices.Concat(c.txt, c.wkMaps) {
		if !slices.Contains(prefixes, m.Prefix) {
			prefixes = append(prefixes, m.Prefix)
		}
	}
	for _, p := range prefixes {
		if ctx.Err() != nil {
			return
		}
		res, err := c.on.Discover(ctx, c.host, probePath(p))
		if err == nil {
			c.noteChain(res)
		}
		failedAtSkip := c.skippedOnTheWay(res, err)
		switch {
		case err == nil:
			c.probeEndpoints(res)
		case !failedAtSkip:
			c.delegationError(err)
		}
	}
}

// skippedOnTheWay reports, as UNAUTHENTICATED findings of the delegates,
// the mappings that discovery skipped as unauthenticated and cross-host at
// the hops after the first (the checked host's own are findings of its
// records), each once, with where the name goes instead. It reports
// whether discovery failed at a hop where it skipped one: that failure is
// the skip's consequence, and the finding says so.
func (c *checker) skippedOnTheWay(res *discovery.Result, err error) (failedAtSkip bool) {
	hops := c.hopsOf(res, err)
	var de *discovery.Error
	errors.As(err, &de)
	for i, hop := range hops {
		if hop.Host == c.host {
			continue
		}
		last := err != nil && de != nil && i == len(hops)-1 && de.Host == hop.Host &&
			!errors.Is(err, discovery.ErrLoop) && !errors.Is(err, discovery.ErrTooManyHops)
		for _, src := range hop.Sources {
			for _, sk := range src.Skipped {
				if sk.Reason != discovery.SkipUnauthenticatedCrossHost {
					continue
				}
				var instead string
				switch {
				case err == nil:
					end := res.Chain[len(res.Chain)-1]
					instead = fmt.Sprintf("%s goes to %s (%s at %s)", res.Name, endpointWords(res), end.Source, end.Host)
				case last:
					failedAtSkip = true
					instead = fmt.Sprintf("then discovery fails: %v", err)
				default:
					instead = fmt.Sprintf("discovery goes on from %s as its other sources say, and fails further down: %v", hop.Host, err)
				}
				c.addOnce(hop.Host, Error, CodeUnauthenticated, sk.Record,
					fmt.Sprintf("the %s mapping of %s, %q, sends names to another host, %s, but is not authenticated: clients with --dnssec on (the default) skip it, and %s",
						src.Source, hop.Host, sk.Record, discovery.MappingHost(sk.Mapping), instead),
					fixUnauthenticated(hop.Host))
			}
		}
	}
	return failedAtSkip
}

func fixUnauthenticated(host string) string {
	return "sign the zone of " + host + " with DNSSEC and publish its DS at the parent (docs/operators.md), or publish the mapping in https://" + host + discovery.WellKnownPath
}

// delegationError turns a discovery failure into a finding. Failures at
// the checked host itself are already findings of the host's own records.
func (c *checker) delegationError(err error) {
	var de *discovery.Error
	errors.As(err, &de)
	host := c.host
	if de != nil && de.Host != "" {
		host = de.Host
	}
	maxHops := c.cfg.MaxHops
	if maxHops <= 0 {
		maxHops = discovery.DefaultMaxHops
	}
	switch {
	case errors.Is(err, discovery.ErrLoop):
		c.addFor(host, Error, CodeDelegationLoop, recordOf(de), err.Error(),
			"break the loop: a delegate must not send the name back to a host already on the chain")
	case errors.Is(err, discovery.ErrTooManyHops):
		c.addFor(host, Error, CodeDelegationTooDeep, recordOf(de), err.Error(),
			fmt.Sprintf("shorten the chain to at most %d delegations: delegate straight to the host that maps the names to a registry", maxHops))
	case de != nil && de.Host == c.host:
		// Reported by the checks of the host's own records.
	default:
		c.addFor(host, Error, CodeDelegateFailed, recordOf(de), err.Error(),
			"run `ocidns check "+host+"` to see what is wrong at the delegate")
	}
}

func recordOf(de *discovery.Error) string {
	if de == nil {
		return ""
	}
	return de.Record
}

// noteChain describes a delegated prefix's chain.
func (c *checker) noteChain(res *discovery.Result) {
	if len(res.Chain) < 2 || len(res.Endpoints) == 0 {
		return
	}
	hops := make([]string, len(res.Chain))
	for i, s := range res.Chain {
		hops[i] = s.Host + "/" + s.Path
	}
	ep := res.Endpoints[0]
	last := res.Chain[len(res.Chain)-1]
	c.addFor(c.host, Info, CodeDelegation, res.Chain[0].Record,
		fmt.Sprintf("%s → %s repository %s (%s at %s)", strings.Join(hops, " → "), ep.URL, ep.Repository, last.Source, last.Host), "")
}

func endpointWords(r *discovery.Result) string {
	if len(r.Endpoints) == 0 {
		return "nowhere"
	}
	return r.Endpoints[0].URL + " repository " + r.Endpoints[0].Repository
}

// probeEndpoints queues the registries a discovery reached.
func (c *checker) probeEndpoints(res *discovery.Result) {
	if len(res.Chain) == 0 {
		return
	}
	last := res.Chain[len(res.Chain)-1]
	for _, ep := range res.Endpoints {
		c.addProbe(probe{url: ep.URL, serverName: ep.TLSServerName, host: last.Host, record: last.Record, source: ep.Source})
	}
}
