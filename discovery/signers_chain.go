package discovery

import (
	"errors"

	"github.com/ocidns/ocidns/discovery/trace"
)

// This file gathers the signing keys along a delegation chain
// (docs/protocol.md §15.2): at each hop the keys the host published in
// the sources read for it that authenticate keys — a DNSSEC-secure TXT
// RRset (the mappings' own), a well-known document over verified TLS —
// selected for the path at that hop; across the chain the last host's
// keys, under the strictest sign= of every host.

// splitSigners takes the v=ocisig1 records out of a TXT RRset's skipped
// records (ParseTXTRecords skips them as another version): the valid ones
// are keys, Source SourceTXT; a malformed one stays skipped, as malformed,
// as a malformed mapping is.
func splitSigners(skipped []Skipped) (keys []PublishedKey, rest []Skipped) {
	rest = skipped[:0:0]
	for _, sk := range skipped {
		if sk.Reason != SkipNotOCI {
			rest = append(rest, sk)
			continue
		}
		k, err := ParseSignerTXT(sk.Record)
		switch {
		case errors.Is(err, ErrNotOCISig):
			rest = append(rest, sk)
		case err != nil:
			rest = append(rest, Skipped{Reason: SkipMalformed, Record: sk.Record, Err: err})
		default:
			k.Source = SourceTXT
			keys = append(keys, k)
		}
	}
	return keys, rest
}

// useKeys records the keys one source published: in rep.Keys, and for the
// hop, when the source authenticates keys; as skipped otherwise, so that
// keys from an unsigned zone or a plain-HTTP document are never used,
// whatever --dnssec says.
func (h *hopRun) useKeys(rep *SourceReport, keys []PublishedKey, authenticated bool) {
	if !authenticated {
		for _, k := range keys {
			rep.Skipped = append(rep.Skipped, Skipped{Reason: SkipUnauthenticatedKey, Record: k.Record})
		}
		return
	}
	rep.Keys = keys
	h.keys = append(h.keys, keys...)
}

// signerChain accumulates the signing policy along a chain.
type signerChain struct {
	last       Signers // the selection at the latest hop
	lastHost   string
	sign       SignPolicy // the strictest sign= so far
	requiredBy string     // the latest host that required signatures
}

// hop adds one host's keys, selected for the path at that host.
func (c *signerChain) hop(tr *trace.Trace, host, path string, keys []PublishedKey) {
	s := SelectSigners(keys, path)
	c.last, c.lastHost = s, host
	if s.Sign == SignRequired {
		c.requiredBy = host
	}
	c.sign = max(c.sign, s.Sign)
	if s.Found {
		tr.Add(signersEvent(host, path, s))
	}
}

// policy is the chain's policy: the last host's selection with the
// strictest sign= of the chain (Signers.Delegated); nil when no host
// published a key for the name and none required signatures.
func (c *signerChain) policy(tr *trace.Trace, name string) *SignerPolicy {
	s := c.last.Delegated(Signers{Sign: c.sign})
	if !s.Found && s.Sign != SignRequired {
		return nil
	}
	p := &SignerPolicy{Signers: s, Host: c.lastHost}
	if s.Sign == SignRequired {
		p.RequiredBy = c.requiredBy
	}
	tr.Add(policyEvent(name, p))
	return p
}
