package check

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/resolver/signature"
)

// This file judges the signing keys a host publishes (docs/protocol.md
// §15): each v=ocisig1 record and well-known "signers" entry as clients
// parse it, whether clients will use it (a known algorithm, a key that
// parses, an authenticated source), and the names given to check against
// them.

const fixSignerGrammar = "correct the record to the v=ocisig1 grammar (docs/protocol.md §15.1); `ocidns records --signing-key cosign.pub` writes valid records"

// maxUDPAnswer is the EDNS buffer clients advertise: a larger TXT answer is
// truncated and asked again over TCP.
const maxUDPAnswer = 1232

// signerRecord judges rec when it is a v=ocisig1 record and reports
// whether it was one.
func (c *checker) signerRecord(q, rec string) bool {
	k, err := discovery.ParseSignerTXT(rec)
	switch {
	case errors.Is(err, discovery.ErrNotOCISig):
		return false
	case err != nil:
		c.add(Error, CodeSignerMalformed, rec, fmt.Sprintf("%s: %v: clients skip this record, and with it its key and its sign=", q, err), fixSignerGrammar)
	default:
		k.Source = discovery.SourceTXT
		c.txtSigners = append(c.txtSigners, k)
	}
	return true
}

// checkSigners judges the valid keys of one source, authenticated as auth.
func (c *checker) checkSigners(where string, keys []discovery.PublishedKey, auth discovery.Auth) {
	if len(keys) == 0 {
		return
	}
	required := false
	for _, k := range keys {
		required = required || k.Sign == discovery.SignRequired
		c.judgeKey(where, k)
	}
	switch {
	case c.cfg.DNSSECOff:
	case auth == discovery.AuthNone:
		sev, what := Warning, "signatures are not checked with them"
		if required {
			sev, what = Error, "sign=required is not enforced: clients resolve unsigned images"
		}
		fix := "sign the zone with DNSSEC (clients use keys only from a secure TXT RRset)"
		if strings.HasPrefix(where, "GET ") {
			fix = "serve the well-known document over HTTPS with a certificate valid for the host"
		}
		c.add(sev, CodeSignerUnauthenticated, "", fmt.Sprintf("%s: %d signing key(s) from an unauthenticated source: clients ignore them, so %s", where, len(keys), what), fix)
	}
}

// judgeKey reports what clients make of one published key.
func (c *checker) judgeKey(where string, k discovery.PublishedKey) {
	prefix := prefixWords(k.Prefix)
	switch {
	case k.Revoked:
		c.add(Info, CodeSignerRevoked, k.Record, fmt.Sprintf("%s: the keys of %s are revoked (empty key): no signature verifies there, sign=%s", where, prefix, k.Sign), "")
	case !signature.Algorithm(k.Alg).Known():
		c.add(Warning, CodeSignerAlgUnknown, k.Record, fmt.Sprintf("%s: key of unknown algorithm %q for %s: clients do not verify with it (its sign=%s still applies)", where, k.Alg, prefix, k.Sign),
			"publish the key as ecdsa-p256 or ed25519 as well, for current clients")
	default:
		key, err := signature.ParseKey(signature.Algorithm(k.Alg), k.DER, signature.SourceDNS)
		if err != nil {
			c.add(Error, CodeSignerKeyUnusable, k.Record, fmt.Sprintf("%s: %v: clients cannot verify with this key", where, err),
				"publish the DER SubjectPublicKeyInfo of the public key (the body of cosign.pub): `ocidns records --signing-key cosign.pub` writes it")
			return
		}
		c.add(Info, CodeSignerKey, k.Record, fmt.Sprintf("%s: signing key for %s: %s key %s, sign=%s", where, prefix, key.Algorithm(), key.ID(), k.Sign), "")
	}
}

// checkTXTSize warns when the TXT answer needs TCP.
func (c *checker) checkTXTSize(q string, rrs []dns.RR) {
	size := 12 + len(c.txtName()) + 4 // header and question
	for _, rr := range rrs {
		size += dns.Len(rr)
	}
	if size > maxUDPAnswer {
		c.add(Warning, CodeTXTLarge, "", fmt.Sprintf("%s: the answer is about %d bytes, over the %d-byte UDP answer clients ask for: it is truncated and asked again over TCP", q, size, maxUDPAnswer),
			"publish fewer records at this name (move mappings to the well-known document), and make sure the zone's servers answer over TCP")
	}
}

// NameResult is what a client made of one name under the checked host,
// for Config.CheckName: the digest and how its signature fared.
type NameResult struct {
	// Digest is what the name resolved to; Err is set when it did not
	// resolve (signature refusals included). Findings name the image,
	// then say what failed: Err's Reason() when it has one (the
	// resolver's *Error, whose text begins with the name), else its text.
	Digest string
	Err    error
	// Checked is set when the signature was checked (a key applies or
	// one is required); Verified, Policy ("required" or "optional"),
	// Code, KeyID and Signer (the key's source) say how it fared. Who
	// requires a signature is in Err's text.
	Checked  bool
	Verified bool
	Policy   string
	Code     string
	KeyID    string
	Signer   string
}

// checkNames resolves each name of Config.Names with Config.CheckName and
// reports images the policy refuses or would refuse.
func (c *checker) checkNames(ctx context.Context) {
	if c.cfg.CheckName == nil {
		return
	}
	for _, name := range c.cfg.Names {
		if ctx.Err() != nil {
			return
		}
		nctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		r := c.cfg.CheckName(nctx, name)
		cancel()
		switch {
		case r.Err != nil && r.Code != "":
			c.add(Error, CodeImageUnsigned, name, nameMessage(name, r.Err)+": clients refuse it",
				"sign the image's digest with a key published for its prefix (cosign sign --key cosign.key NAME@DIGEST), or publish the key it was signed with")
		case r.Err != nil:
			c.add(Error, CodeImageUnresolved, name, nameMessage(name, r.Err), "")
		case !r.Checked:
			c.add(Info, CodeImageNotChecked, name, fmt.Sprintf("%s: %s; no signing key applies and none is required: signature not checked", name, r.Digest), "")
		case r.Verified:
			c.add(Info, CodeImageSigned, name, fmt.Sprintf("%s: %s signed with key %s (%s), signatures %s", name, r.Digest, r.KeyID, r.Signer, r.Policy), "")
		default:
			c.add(Warning, CodeImageUnsigned, name, fmt.Sprintf("%s: %s: %s: signatures are optional, so clients resolve it and report the failure", name, r.Digest, r.Code),
				"sign the image's digest with a key published for its prefix (cosign sign --key cosign.key NAME@DIGEST)")
		}
	}
}

// nameMessage names the image once, then what failed: an error that
// words itself without the name it is about (the resolver's *Error:
// Reason) gives that part, any other its whole text.
func nameMessage(name string, err error) string {
	if r, ok := err.(interface{ Reason() string }); ok {
		return name + ": " + r.Reason()
	}
	return name + ": " + err.Error()
}
