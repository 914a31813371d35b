package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ocidns/ocidns/discovery"
)

const fixTXTGrammar = "correct the record to the v=oci1 grammar (docs/protocol.md); `ocidns records` writes valid records"

// checkTXT judges the TXT RRset at _oci-discovery.<host>: each record as
// ParseTXT reads it, the RRset's DNSSEC status, and conflicts between
// records as Select finds them.
func (c *checker) checkTXT(ctx context.Context) {
	if !c.dns {
		return
	}
	q := "TXT " + c.txtName()
	if c.txtErr != nil {
		c.txtBroken = true
		c.add(Error, CodeTXTLookupFailed, "", fmt.Sprintf("%s: %v: the answer is unknown, so clients fail every name under %s rather than fall through to another source", q, c.txtErr, c.host),
			"make every authoritative server of the zone answer this name (NOERROR with the records, or NXDOMAIN/NODATA); check with dig "+strings.TrimPrefix(q, "TXT ")+" TXT")
		return
	}
	a := c.txtAnswer
	if a.Absent() {
		c.add(Info, CodeTXTNone, "", q+": no records", "")
		return
	}
	auth, how, err := c.authenticate(ctx, a)
	if err != nil {
		c.txtBroken = true
		c.add(Error, CodeTXTBogus, "", fmt.Sprintf("%s: %v: clients reject the answer and fail every name under %s", q, err, c.host),
			"re-sign the zone (signatures expired or records changed after signing) or fix the DS at the parent; check with delv "+strings.TrimPrefix(q, "TXT ")+" TXT")
		return
	}
	c.txtAuth = auth
	c.add(Info, CodeDNSSECStatus, "", q+": DNSSEC "+how, "")

	ms, skipped, err := discovery.ParseTXTRecords(a.Records, c.popts)
	if err != nil {
		c.txtBroken = true
		c.add(Error, CodeTXTTooLarge, "", fmt.Sprintf("%s: %v: clients refuse the whole RRset as an unknown answer and fail every name under %s", q, err, c.host),
			fmt.Sprintf("publish at most %d records and %d KiB at %s: delegate parts of the namespace to other hosts instead of listing them", discovery.MaxRRsetRecords, discovery.MaxTXTBytes>>10, c.txtName()))
		return
	}
	for _, sk := range skipped {
		switch sk.Reason {
		case discovery.SkipNotOCI:
			if !c.signerRecord(q, sk.Record) {
				c.notOCI(sk.Record)
			}
		case discovery.SkipMalformed:
			fix := fixTXTGrammar
			if errors.Is(sk.Err, discovery.ErrPlainHTTP) {
				fix = "publish an https:// registry URL: clients accept http:// only for hosts they were told are insecure (--insecure-registry)"
			}
			c.add(Error, CodeTXTMalformed, sk.Record, fmt.Sprintf("%s: %v: clients skip this record", q, sk.Err), fix)
		}
	}
	for _, m := range ms {
		c.txt = append(c.txt, m)
		c.add(Info, CodeTXTMapping, m.Record, fmt.Sprintf("%s: %s", q, describe(m)), "")
	}
	c.checkMappingSet(q, c.txt, CodeTXTConflict)
	c.checkSigners(q, c.txtSigners, c.txtAuth)
	c.checkTXTSize(q, a.Records)
}

// notOCI classifies a record ParseTXT ignores.
func (c *checker) notOCI(rec string) {
	q := "TXT " + c.txtName()
	first, _, _ := strings.Cut(rec, ";")
	key, value, hasEq := strings.Cut(first, "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	lower := strings.ToLower(rec)
	switch {
	case hasEq && strings.EqualFold(key, "v") && strings.HasPrefix(strings.ToLower(value), "oci"):
		c.add(Warning, CodeTXTIgnoredVersion, rec, fmt.Sprintf("%s: record of version %q is ignored: clients of protocol v1 read only v=oci1 records", q, value),
			"publish a v=oci1 record as well, for clients of protocol v1")
	case strings.Contains(lower, "registry=") || strings.Contains(lower, "delegate="):
		c.add(Warning, CodeTXTMissingVersion, rec, q+": record looks like a mapping but does not start with v=oci1, so clients ignore it",
			`begin the record with "v=oci1; "`)
	default:
		c.add(Info, CodeTXTNotOCI, rec, q+": not a v=oci1 record (another protocol's): ignored", "")
	}
}

// checkMappingSet finds, among the valid mappings of one source, what
// clients will refuse (discovery.Conflicts) or what cannot
// work as meant (duplicates, prefixes without a resolve-capable registry).
func (c *checker) checkMappingSet(where string, ms []discovery.Mapping, conflictCode string) {
	var prefixes []string
	for _, m := range ms {
		if !slices.Contains(prefixes, m.Prefix) {
			prefixes = append(prefixes, m.Prefix)
		}
	}
	conflicts := discovery.Conflicts(ms)
	for _, p := range prefixes {
		group := prefixGroup(ms, p)
		if i := slices.IndexFunc(conflicts, func(ce *discovery.ConflictError) bool { return ce.A.Prefix == p }); i >= 0 {
			ce := conflicts[i]
			c.add(Error, conflictCode, ce.A.Record+" | "+ce.B.Record,
				fmt.Sprintf("%s: %v: clients fail every name under this prefix", where, ce),
				"keep one delegate= per prefix, or only registry= mirrors (ordered by priority and weight)")
			continue
		}
		for i, m := range group {
			for _, prev := range group[:i] {
				if sameTarget(prev, m) {
					c.add(Warning, CodeDuplicateMapping, m.Record, fmt.Sprintf("%s: %s is published twice", where, describe(m)), "remove one of the two")
					break
				}
			}
		}
		if group[0].Registry != "" && !slices.ContainsFunc(group, func(m discovery.Mapping) bool { return m.Caps.Has(discovery.CapResolve) }) {
			c.add(Warning, CodeNoResolveEndpoint, group[0].Record,
				fmt.Sprintf("%s: every registry of %s is pull-only (caps=pull): clients can pull by digest but cannot resolve a tag", where, prefixWords(p)),
				"give at least one registry of the prefix caps=resolve,pull (the default)")
		}
	}
}

func prefixWords(p string) string {
	if p == "" {
		return "the whole host"
	}
	return fmt.Sprintf("prefix %q", p)
}

// sameTarget compares what two mappings of one prefix do.
func sameTarget(a, b discovery.Mapping) bool {
	return a.Registry == b.Registry && strings.EqualFold(a.Delegate, b.Delegate) &&
		a.Priority == b.Priority && a.Weight == b.Weight && a.Caps == b.Caps
}

// targetKey describes what a set of mappings of one prefix does, so that
// two sources can be compared: the delegate, or the sorted mirrors.
func targetKey(group []discovery.Mapping) string {
	var parts []string
	for _, m := range group {
		if m.Delegate != "" {
			parts = append(parts, "delegate="+strings.ToLower(m.Delegate))
			continue
		}
		caps := m.Caps
		if caps == 0 {
			caps = discovery.CapAll
		}
		parts = append(parts, fmt.Sprintf("registry=%s priority=%d weight=%d caps=%s", m.Registry, m.Priority, m.Weight, caps))
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), "; ")
}
