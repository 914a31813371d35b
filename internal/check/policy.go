package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ocidns/ocidns/discovery"
)

// checkAuthentication finds the cross-host mappings that clients with
// --dnssec on (the default) skip because their source is not authenticated,
// and says where those clients go instead.
func (c *checker) checkAuthentication() {
	if c.cfg.DNSSECOff {
		c.add(Info, CodeDNSSECNotChecked, "", "--dnssec off: cross-host mappings were taken as published; clients with --dnssec on (the default) may skip some of them", "run the check without --dnssec off")
		return
	}
	c.unauthenticated("TXT "+c.txtName(), c.txt, c.txtAuth)
	c.unauthenticated("well-known document "+c.wellKnownURL(), c.wkMaps, c.wkAuth)
}

func (c *checker) unauthenticated(source string, ms []discovery.Mapping, auth discovery.Auth) {
	if auth != discovery.AuthNone {
		return
	}
	for _, m := range ms {
		if !c.crossHost(m) {
			continue
		}
		instead, same := c.fallback(m, source)
		sev := Error
		if same {
			sev = Warning
		}
		fix := fixUnauthenticated(c.name)
		if strings.HasPrefix(source, "well-known") {
			fix = "serve the well-known document over HTTPS"
		}
		c.add(sev, CodeUnauthenticated, m.Record,
			fmt.Sprintf("%s: %s sends names to another host, %s, but the record is not authenticated: clients with --dnssec on (the default) skip it, and %s go to %s", source, describe(m), targetHost(m), pathWords(c.host, m.Prefix), instead),
			fix)
	}
}

// fallback says where a --dnssec on client sends the names of m once it
// skipped m, following the precedence TXT → SRV → well-known → direct; same
// reports that this is where m sends them too.
func (c *checker) fallback(m discovery.Mapping, source string) (where string, same bool) {
	fromTXT := strings.HasPrefix(source, "TXT")
	if fromTXT && len(c.srvEPs) > 0 {
		return "the registry of the SRV record, " + c.srvEPs[0].URL, false
	}
	if fromTXT && c.wkAuth == discovery.AuthHTTPS {
		var group []discovery.Mapping
		for _, w := range c.wkMaps {
			if w.Prefix == m.Prefix {
				group = append(group, w)
			}
		}
		if len(group) > 0 {
			var txtGroup []discovery.Mapping
			for _, t := range c.txt {
				if t.Prefix == m.Prefix {
					txtGroup = append(txtGroup, t)
				}
			}
			if targetKey(group) == targetKey(txtGroup) {
				return "the same place through the well-known document (authenticated by HTTPS)", true
			}
			return "where the well-known document sends them, " + describe(group[0]), false
		}
	}
	return "https://" + c.host + " itself (direct)", false
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
		var t, w []discovery.Mapping
		var recs []string
		for _, m := range c.txt {
			if m.Prefix == p {
				t = append(t, m)
				recs = append(recs, m.Record)
			}
		}
		for _, m := range c.wkMaps {
			if m.Prefix == p {
				w = append(w, m)
				recs = append(recs, m.Record)
			}
		}
		if targetKey(t) != targetKey(w) {
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
