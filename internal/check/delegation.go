package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
)

// checkDelegations runs the discovery algorithm itself for one name under
// each published prefix (and one under no prefix): twice, as a --dnssec off
// client that follows every mapping — which finds loops and chains too deep
// wherever they are — and as the configured client, whose chain may differ
// where a mapping further down is unauthenticated. The endpoints both reach
// are queued for the registry probes.
func (c *checker) checkDelegations(ctx context.Context) {
	prefixes := []string{""}
	for _, m := range slices.Concat(c.txt, c.wkMaps) {
		if !slices.Contains(prefixes, m.Prefix) {
			prefixes = append(prefixes, m.Prefix)
		}
	}
	// The --dnssec off client finds loops and depth wherever they are; the
	// configured client is what the operator's users run.
	off, on := c.off, c.on
	if off == nil {
		off, on = c.on, nil
	}

	for _, p := range prefixes {
		if ctx.Err() != nil {
			return
		}
		path := probeComponent
		if p != "" {
			path = p + "/" + probeComponent
		}
		resOff, errOff := off.Discover(ctx, c.host, path)
		if errOff != nil {
			c.delegationError(errOff, "")
		} else {
			c.noteChain(resOff)
		}
		if on == nil {
			if resOff != nil {
				c.probeEndpoints(resOff)
			}
			continue
		}
		resOn, errOn := on.Discover(ctx, c.host, path)
		switch {
		case errOn == nil:
			// The configured client's registries; a --dnssec off client's
			// too when its chain differs (the operator's intent).
			c.probeEndpoints(resOn)
			if resOff != nil && c.compareChains(resOff, resOn) {
				c.probeEndpoints(resOff)
			}
		case errOff == nil:
			c.onlyOnFails(resOff, errOn)
			c.probeEndpoints(resOff)
		}
	}
}

// onlyOnFails reports a discovery that a --dnssec off client completes and
// the configured client does not. Off a bogus answer, the only difference
// between the two is the mappings the configured client skipped as
// unauthenticated, so the finding names the step it skipped.
func (c *checker) onlyOnFails(off *discovery.Result, errOn error) {
	var de *discovery.Error
	errors.As(errOn, &de)
	if de == nil || errors.Is(errOn, dnssec.ErrBogus) {
		c.delegationError(errOn, "clients with --dnssec on: ")
		return
	}
	for _, step := range off.Chain {
		if step.Host != de.Host {
			continue
		}
		if step.Host == c.host {
			return // the host's own UNAUTHENTICATED finding says it
		}
		c.addFor(step.Host, Error, CodeUnauthenticated, step.Record,
			fmt.Sprintf("the %s mapping of %s, %q, is not authenticated: clients with --dnssec on (the default) skip it, and then fail: %v", step.Source, step.Host, step.Record, errOn),
			fixUnauthenticated(step.Host))
		return
	}
	c.delegationError(errOn, "clients with --dnssec on: ")
}

func fixUnauthenticated(host string) string {
	return "sign the zone of " + host + " with DNSSEC and publish its DS at the parent (docs/operators.md), or publish the mapping in https://" + host + discovery.WellKnownPath
}

// delegationError turns a discovery failure into a finding. Failures at
// the checked host itself are already findings of the host's own records.
func (c *checker) delegationError(err error, who string) {
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
		c.addFor(host, Error, CodeDelegationLoop, recordOf(de), who+err.Error(),
			"break the loop: a delegate must not send the name back to a host already on the chain")
	case errors.Is(err, discovery.ErrTooManyHops):
		c.addFor(host, Error, CodeDelegationTooDeep, recordOf(de), who+err.Error(),
			fmt.Sprintf("shorten the chain to at most %d delegations: delegate straight to the host that maps the names to a registry", maxHops))
	case de != nil && de.Host == c.host:
		// Reported by the checks of the host's own records.
	default:
		c.addFor(host, Error, CodeDelegateFailed, recordOf(de), who+err.Error(),
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

// compareChains finds the first hop where a --dnssec on client leaves the
// chain a --dnssec off client follows, and reports whether there is one. At
// the checked host that is already an UNAUTHENTICATED finding of its own
// records; further down it is one of the delegate's.
func (c *checker) compareChains(off, on *discovery.Result) bool {
	i := 0
	for i < len(off.Chain) && i < len(on.Chain) && sameStep(off.Chain[i], on.Chain[i]) {
		i++
	}
	if i == len(off.Chain) && i == len(on.Chain) {
		return false
	}
	if i >= len(off.Chain) || off.Chain[i].Host == c.host {
		return true
	}
	step := off.Chain[i]
	c.addFor(step.Host, Error, CodeUnauthenticated, step.Record,
		fmt.Sprintf("the %s mapping of %s, %q, is not authenticated: clients with --dnssec on (the default) skip it, and %s goes to %s instead of %s",
			step.Source, step.Host, step.Record, off.Name, endpointWords(on), endpointWords(off)),
		fixUnauthenticated(step.Host))
	return true
}

func sameStep(a, b discovery.Step) bool {
	return a.Host == b.Host && a.Path == b.Path && a.Source == b.Source && a.Record == b.Record
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

// memo is a discovery.SourceCache for one check: each source of each host
// is asked once however many names are discovered through it. Errors are
// not kept, as the interface requires.
type memo struct {
	mu sync.Mutex
	m  map[string]any
}

// Fetch implements discovery.SourceCache.
func (c *memo) Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (any, bool, bool, error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, true, false, nil
	}
	v, _, err := fn(ctx)
	if err != nil {
		return nil, false, false, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]any)
	}
	c.m[key] = v
	c.mu.Unlock()
	return v, false, false, nil
}

// Idle implements discovery.SourceCache: a memo bounds nothing, so it
// just waits.
func (c *memo) Idle(_ context.Context, wait func() error) error { return wait() }
