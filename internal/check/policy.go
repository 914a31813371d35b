package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ocidns/ocidns/discovery"
)

// checkAuthentication finds the cross-host mappings that clients with
// --dnssec on (the default) skip because their source is not authenticated,
// and says where those clients go instead.
func (c *checker) checkAuthentication(ctx context.Context) {
	if c.cfg.DNSSECOff {
		c.add(Info, CodeDNSSECNotChecked, "", "--dnssec off: cross-host mappings were taken as published; clients with --dnssec on (the default) may skip some of them", "run the check without --dnssec off")
		return
	}
	c.unauthenticated(ctx, discovery.SourceTXT, "TXT "+c.txtName(), c.txt, c.txtAuth)
	c.unauthenticated(ctx, discovery.SourceWellKnown, "well-known document "+c.wellKnownURL(), c.wkMaps, c.wkAuth)
}

func (c *checker) unauthenticated(ctx context.Context, src discovery.Source, where string, ms []discovery.Mapping, auth discovery.Auth) {
	for _, m := range ms {
		if c.usable(m, auth) {
			continue
		}
		instead, same := c.fallback(ctx, src, m)
		sev := Error
		if same {
			sev = Warning
		}
		fix := fixUnauthenticated(c.name)
		if src == discovery.SourceWellKnown {
			fix = "serve the well-known document over HTTPS"
		}
		c.add(sev, CodeUnauthenticated, m.Record,
			fmt.Sprintf("%s: %s sends names to another host, %s, but the record is not authenticated: clients with --dnssec on (the default) skip it, and %s go to %s", where, describe(m), discovery.MappingHost(m), pathWords(c.host, m.Prefix), instead),
			fix)
	}
}

// fallback says where a --dnssec on client sends the names of m, a mapping
// of src it skips: the discovery algorithm itself, run as the configured
// client for a name under m's prefix, reports which source decided the
// host's hop instead. same reports that this is where m sends them too.
func (c *checker) fallback(ctx context.Context, src discovery.Source, m discovery.Mapping) (where string, same bool) {
	res, err := c.on.Discover(ctx, c.host, probePath(m.Prefix))
	hops := c.hopsOf(res, err)
	var decided *discovery.SourceReport
	if len(hops) > 0 && hops[0].Host == c.host {
		decided = hops[0].Decided()
	}
	switch {
	case decided == nil && err != nil:
		return fmt.Sprintf("no registry: discovery fails (%v)", err), false
	case decided == nil:
		return "no registry", false
	}
	switch decided.Source {
	case discovery.SourceSRV:
		return "the registry of the SRV record, " + c.srvEPs[0].URL, false
	case discovery.SourceDirect:
		return "https://" + c.host + " itself (direct)", false
	case src:
		return fmt.Sprintf("where another mapping of the same source sends them, %s", describe(decided.Used[0])), false
	}
	// A later source (the well-known document after TXT) decides.
	if decided.Used[0].Prefix == m.Prefix && targetKey(decided.Used) == targetKey(prefixGroup(c.mappingsOf(src), m.Prefix)) {
		return fmt.Sprintf("the same place through the %s (authenticated by %s)", sourceWords(decided.Source), authWords(decided.Auth)), true
	}
	return fmt.Sprintf("where the %s sends them, %s", sourceWords(decided.Source), describe(decided.Used[0])), false
}

// hopsOf are the hop reports of a discovery, successful or not.
func (c *checker) hopsOf(res *discovery.Result, err error) []discovery.HopReport {
	if err == nil {
		return res.Hops
	}
	var de *discovery.Error
	if errors.As(err, &de) {
		return de.Hops
	}
	return nil
}

// mappingsOf are the checked host's valid mappings of src.
func (c *checker) mappingsOf(src discovery.Source) []discovery.Mapping {
	switch src {
	case discovery.SourceTXT:
		return c.txt
	case discovery.SourceWellKnown:
		return c.wkMaps
	}
	return nil
}

// prefixGroup are the mappings of ms with the prefix.
func prefixGroup(ms []discovery.Mapping, prefix string) []discovery.Mapping {
	var g []discovery.Mapping
	for _, m := range ms {
		if m.Prefix == prefix {
			g = append(g, m)
		}
	}
	return g
}

// sourceWords names a source in a finding.
func sourceWords(src discovery.Source) string {
	switch src {
	case discovery.SourceTXT:
		return "TXT records"
	case discovery.SourceSRV:
		return "SRV record"
	case discovery.SourceWellKnown:
		return "well-known document"
	}
	return string(src)
}

// authWords names how a source is authenticated in a finding.
func authWords(a discovery.Auth) string {
	switch a {
	case discovery.AuthHTTPS:
		return "HTTPS"
	case discovery.AuthDNSSEC:
		return "DNSSEC"
	}
	return string(a)
}

func pathWords(host, prefix string) string {
	if prefix == "" {
		return "names " + host + "/…"
	}
	return "names " + host + "/" + prefix + "/…"
}

// checkAgreement compares the TXT records and the well-known document
// prefix by prefix: a client that reads one and a client that reads the
// other (a --dnssec on client that skipped an unauthenticated TXT record, a
// --no-well-known client) should end up in the same place.
func (c *checker) checkAgreement() {
	if len(c.txt) == 0 || len(c.wkMaps) == 0 {
		return
	}
	var prefixes []string
	for _, m := range c.txt {
		if !slices.Contains(prefixes, m.Prefix) && slices.ContainsFunc(c.wkMaps, func(w discovery.Mapping) bool { return w.Prefix == m.Prefix }) {
			prefixes = append(prefixes, m.Prefix)
		}
	}
	for _, p := range prefixes {
		t, w := prefixGroup(c.txt, p), prefixGroup(c.wkMaps, p)
		if targetKey(t) != targetKey(w) {
			var recs []string
			for _, m := range slices.Concat(t, w) {
				recs = append(recs, m.Record)
			}
			c.add(Warning, CodeTXTWellKnownDiffer, strings.Join(recs, " | "),
				fmt.Sprintf("%s: the TXT records say %s, the well-known document says %s: clients that read DNS and clients that skip it disagree",
					prefixWords(p), targetKey(t), targetKey(w)),
				"publish the same mapping in both, or only in one")
		}
	}
}

// checkNothingPublished notes a host that publishes nothing usable: every
// name goes to https://<host> itself.
func (c *checker) checkNothingPublished() {
	if len(c.txt) > 0 || len(c.srvEPs) > 0 || c.srvNone || len(c.wkMaps) > 0 ||
		c.txtBroken || c.srvBroken || c.wkErr != nil {
		return
	}
	for _, f := range c.findings {
		if f.Code == CodeTXTMalformed {
			return // the malformed record is the finding
		}
	}
	c.add(Warning, CodeNothingPublished, "",
		fmt.Sprintf("%s publishes no discovery mapping: every name %s/… goes to https://%s itself", c.host, c.host, c.host),
		"publish TXT records at "+c.txtName()+" or a well-known document; `ocidns records` writes them")
}
