package discovery

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/ocidns/ocidns/reference"
)

// This file is the signing-key half of what a host publishes: which keys
// sign the images under which prefix, and whether a signature is required.
// Keys are returned as published (algorithm name and DER bytes); checking
// that the DER is a usable key of that algorithm, and verifying signatures,
// belong to the consumer (resolver/signature.ParseKey), so that discovery
// depends on no verifier.

// ErrNotOCISig: a TXT record that is not a v=ocisig1 record (a v=oci1
// mapping, another protocol). Such records share the TXT RRset and are
// ignored by the signer parser, as v=ocisig1 records are by ParseTXT.
var ErrNotOCISig = errors.New("not a v=ocisig1 record")

// SignPolicy is a published sign= value.
type SignPolicy uint8

// Signing policies, ordered: a larger one is stricter.
const (
	// SignOptional: a signature is checked when present; its failure is
	// reported, not fatal. The default when sign= is absent.
	SignOptional SignPolicy = iota
	// SignRequired: a name without a valid signature does not resolve.
	SignRequired
)

// String returns "optional" or "required", as published.
func (p SignPolicy) String() string {
	if p == SignRequired {
		return "required"
	}
	return "optional"
}

// MarshalText encodes the policy as published: "optional" or "required".
func (p SignPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Key algorithms k= may name; a record naming another is kept (its prefix
// and sign= apply) but its key is not usable.
const (
	KeyAlgECDSAP256 = "ecdsa-p256"
	KeyAlgEd25519   = "ed25519"
)

func knownKeyAlg(alg string) bool { return alg == KeyAlgECDSAP256 || alg == KeyAlgEd25519 }

// PublishedKey is one signing key a host publishes for the names under a
// prefix: one v=ocisig1 TXT record, or one key of a well-known document's
// "signers" entry.
type PublishedKey struct {
	// Prefix is the path prefix, matched on whole components; "" is the
	// whole host.
	Prefix string `json:"prefix"`
	// Sign is the record's policy.
	Sign SignPolicy `json:"sign"`
	// Alg is the algorithm as published, lowercased; it may be unknown.
	Alg string `json:"alg"`
	// DER is the key's DER SubjectPublicKeyInfo, decoded from base64 for a
	// known algorithm; nil when revoked or when Alg is unknown.
	DER []byte `json:"spki,omitempty"`
	// Revoked is set by an empty p= (or "spki": ""): the prefix's keys are
	// revoked.
	Revoked bool `json:"revoked,omitempty"`
	// Record is the record as published, or the entry described, for
	// traces.
	Record string `json:"record"`
	// Source is where discovery read the key: SourceTXT (a DNSSEC-secure
	// TXT RRset) or SourceWellKnown (a document fetched over verified
	// TLS). The parsers leave it empty.
	Source Source `json:"source,omitempty"`
}

// Usable reports whether the key can verify signatures: a known
// algorithm, not revoked.
func (k PublishedKey) Usable() bool { return !k.Revoked && knownKeyAlg(k.Alg) && len(k.DER) > 0 }

// ParseSignerTXT parses one v=ocisig1 TXT record (the record's strings
// concatenated). The grammar, in ABNF (RFC 5234; literal strings are
// case-insensitive), shares its pieces with ParseTXT's:
//
//	sig-record  = sig-version *( ";" OWS [ pair OWS ] )
//	sig-version = OWS "v" OWS "=" OWS "ocisig1" OWS      ; always first
//	pair        = key OWS "=" OWS value                   ; as in v=oci1
//
//	; the values of the known keys:
//	prefix-pair = "prefix" OWS "=" OWS [ repo-path ]      ; absent or empty: the whole host
//	k-pair      = "k"      OWS "=" OWS alg
//	p-pair      = "p"      OWS "=" OWS [ base64 ]         ; empty: revoked
//	sign-pair   = "sign"   OWS "=" OWS ( "required" / "optional" )
//	alg         = 1*( ALPHA / DIGIT / "-" )               ; "ecdsa-p256" / "ed25519" known
//	base64      = 1*( ALPHA / DIGIT / "+" / "/" ) *2"="   ; RFC 4648 §4, padded
//
// and the rules the grammar cannot say:
//   - every key appears at most once (a duplicate makes the record invalid);
//   - k= and p= are required; sign= defaults to optional;
//   - an unknown k= is not an error: the record keeps its prefix, sign=
//     and revocation, but has no usable key (so a key of a later algorithm
//     never turns a required signature into none);
//   - for a known k=, p= is the standard base64 of a DER
//     SubjectPublicKeyInfo (checked as base64 here; as a key of that
//     algorithm by the consumer);
//   - unknown keys are ignored; a known key's value holds no white space.
//
// A record whose first pair is not v=ocisig1 returns an error wrapping
// ErrNotOCISig. A malformed one returns a *RecordError (wrapping
// ErrMalformed) naming the key and its byte offset.
func ParseSignerTXT(record string) (PublishedKey, error) {
	var (
		k    PublishedKey
		seen [numSigKeys]int // offset+1 of each known key seen
		rawP string
	)
	err := signerGrammar.read(record, seen[:], func(sk int, value string) (err error) {
		switch sk {
		case sigKeyPrefix:
			if value != "" {
				err = reference.ValidatePath(value)
			}
			k.Prefix = value
		case sigKeyK:
			k.Alg, err = parseKeyAlg(value)
		case sigKeyP:
			rawP = value
		case sigKeySign:
			k.Sign, err = parseSignPolicy(value)
		}
		return err
	})
	if err != nil {
		return PublishedKey{}, err
	}
	for _, req := range []int{sigKeyK, sigKeyP} {
		if seen[req] == 0 {
			return PublishedKey{}, recordErr(record, len(record), "", fmt.Errorf("no %s=: a v=ocisig1 record needs k=<algorithm> and p=<base64 key>", sigKeyNames[req]))
		}
	}
	if err := k.setKey(rawP); err != nil {
		return PublishedKey{}, recordErr(record, seen[sigKeyP]-1, "p", err)
	}
	k.Record = record
	return k, nil
}

// setKey decodes p for a known algorithm; empty p revokes.
func (k *PublishedKey) setKey(p string) error {
	if p == "" {
		k.Revoked = true
		return nil
	}
	if !knownKeyAlg(k.Alg) {
		return nil // a later algorithm may encode its key otherwise
	}
	der, err := base64.StdEncoding.Strict().DecodeString(p)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return fmt.Errorf("not standard base64 (RFC 4648 §4, padded): bad data at byte %d of the value", int64(ce))
		}
		return fmt.Errorf("not standard base64: %v", err)
	}
	k.DER = der
	return nil
}

// The keys ParseSignerTXT knows.
const (
	sigKeyV = iota
	sigKeyPrefix
	sigKeyK
	sigKeyP
	sigKeySign
	numSigKeys
)

var sigKeyNames = [numSigKeys]string{"v", "prefix", "k", "p", "sign"}

// parseKeyAlg checks an algorithm name's syntax and lowercases it; an
// unknown name is not an error.
func parseKeyAlg(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty algorithm: want ecdsa-p256 or ed25519")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", fmt.Errorf("invalid character %s in algorithm %q", quoteByte(c), s)
		}
	}
	return strings.ToLower(s), nil
}

func parseSignPolicy(s string) (SignPolicy, error) {
	switch {
	case strings.EqualFold(s, "required"):
		return SignRequired, nil
	case strings.EqualFold(s, "optional"):
		return SignOptional, nil
	}
	return 0, fmt.Errorf("%q: want required or optional", s)
}

type notOCISigError struct{ record string }

func (e *notOCISigError) Error() string {
	return "TXT record " + quote(e.record) + ": " + ErrNotOCISig.Error()
}

func (e *notOCISigError) Unwrap() error { return ErrNotOCISig }

func notOCISig(record string) error { return &notOCISigError{record} }

// FormatSignerTXT returns the canonical text of a published key:
//
//	v=ocisig1; prefix=org; k=ecdsa-p256; p=MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE...; sign=required
//
// prefix is left out when empty and sign when optional; a revoked key
// writes an empty p=. ParseSignerTXT of the result gives k back (with
// Record set to the text). Record is not used.
func FormatSignerTXT(k PublishedKey) string {
	var b strings.Builder
	b.WriteString("v=ocisig1")
	if k.Prefix != "" {
		b.WriteString("; prefix=")
		b.WriteString(k.Prefix)
	}
	b.WriteString("; k=")
	b.WriteString(k.Alg)
	b.WriteString("; p=")
	if !k.Revoked {
		b.WriteString(base64.StdEncoding.EncodeToString(k.DER))
	}
	if k.Sign == SignRequired {
		b.WriteString("; sign=required")
	}
	return b.String()
}

// SignerTXTRecord returns the TXT resource record publishing k for host:
// owner _oci-discovery.<host>. (the same RRset as the mappings, under one
// RRSIG), the canonical text split into strings of at most 255 bytes. The
// algorithm must be known and the key present unless revoked.
func SignerTXTRecord(host string, ttl uint32, k PublishedKey) (*dns.TXT, error) {
	h, err := canonicalDNSName(host)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", host, err)
	}
	if err := checkPublishable(k); err != nil {
		return nil, err
	}
	return txtRR(h, ttl, FormatSignerTXT(k)), nil
}

// checkPublishable checks a key to publish: a valid prefix, a known
// algorithm, and a key unless revoked.
func checkPublishable(k PublishedKey) error {
	if k.Prefix != "" {
		if err := reference.ValidatePath(k.Prefix); err != nil {
			return fmt.Errorf("%w: prefix %q: %w", ErrMalformed, k.Prefix, err)
		}
	}
	if !knownKeyAlg(k.Alg) {
		return fmt.Errorf("%w: algorithm %q: want %s or %s", ErrMalformed, k.Alg, KeyAlgECDSAP256, KeyAlgEd25519)
	}
	if !k.Revoked && len(k.DER) == 0 {
		return fmt.Errorf("%w: no key (set Revoked to publish a revocation)", ErrMalformed)
	}
	return nil
}

// FormatWellKnownWithSigners returns the well-known document that publishes
// ms (as FormatWellKnown writes them) and keys, in a "signers" member that
// ParseWellKnownSigners reads back: keys of one prefix and sign in one
// entry, entries in the order their first key appears. Each key must have
// a known algorithm and its DER, or be revoked; Record and Source are not
// used. A document over WellKnownMaxBytes is an error.
func FormatWellKnownWithSigners(ms []Mapping, keys []PublishedKey) ([]byte, error) {
	type key struct {
		Alg  string `json:"alg"`
		SPKI string `json:"spki"`
	}
	type entry struct {
		Prefix string `json:"prefix"`
		Sign   string `json:"sign,omitempty"`
		Keys   []key  `json:"keys"`
	}
	var entries []entry
	for i, k := range keys {
		if err := checkPublishable(k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		sign := ""
		if k.Sign == SignRequired {
			sign = "required"
		}
		pub := key{Alg: k.Alg}
		if !k.Revoked {
			pub.SPKI = base64.StdEncoding.EncodeToString(k.DER)
		}
		j := slices.IndexFunc(entries, func(e entry) bool { return e.Prefix == k.Prefix && e.Sign == sign })
		if j < 0 {
			entries = append(entries, entry{Prefix: k.Prefix, Sign: sign})
			j = len(entries) - 1
		}
		entries[j].Keys = append(entries[j].Keys, pub)
	}
	if entries == nil {
		return formatWellKnown(ms, nil)
	}
	return formatWellKnown(ms, entries)
}

// Signers is what applies to one name: the keys that may sign it and
// whether a signature is required.
type Signers struct {
	// Found reports whether any published key's prefix matches the name.
	Found bool `json:"found"`
	// Prefix is the longest matching prefix, whose records decide.
	Prefix string `json:"prefix"`
	// Sign is the strictest sign= among that prefix's records.
	Sign SignPolicy `json:"sign"`
	// Revoked is set when one of that prefix's records revokes (empty p=).
	Revoked bool `json:"revoked,omitempty"`
	// Keys are that prefix's usable keys, each once; none when Revoked.
	Keys []PublishedKey `json:"keys,omitempty"`
}

// SelectSigners picks what applies to path (a repository path such as
// "org/team/app") among one host's published keys:
//
//   - a prefix matches on whole components, as for mappings, and the
//     longest matching prefix wins, whatever the mappings' prefixes are;
//   - its keys replace those of shorter prefixes (a shorter prefix's key
//     never signs for a name under a longer one);
//   - the strictest sign= among its records applies;
//   - an empty p= among its records revokes its keys: none is usable.
//
// Keys of unknown algorithms are left out of Keys, but their records count
// for the prefix, sign= and revocation. A key published twice is listed
// once.
func SelectSigners(keys []PublishedKey, path string) Signers {
	best := -1
	for _, k := range keys {
		if len(k.Prefix) > best && prefixMatches(k.Prefix, path) {
			best = len(k.Prefix)
		}
	}
	if best < 0 {
		return Signers{}
	}
	s := Signers{Found: true}
	for _, k := range keys {
		if len(k.Prefix) != best || !prefixMatches(k.Prefix, path) {
			continue
		}
		s.Prefix = k.Prefix
		s.Sign = max(s.Sign, k.Sign)
		if k.Revoked {
			s.Revoked = true
		}
		if k.Usable() && !slices.ContainsFunc(s.Keys, func(o PublishedKey) bool { return o.Alg == k.Alg && bytes.Equal(o.DER, k.DER) }) {
			s.Keys = append(s.Keys, k)
		}
	}
	if s.Revoked {
		s.Keys = nil
	}
	return s
}

// Delegated returns what applies to a name after a delegation: s, the
// delegate's selection, with the stricter of its and parent's sign=. The
// last host in the chain decides which keys sign (the parent's keys do not
// carry down), and a parent's sign=required does, so a delegate cannot
// drop a requirement its parent made.
func (s Signers) Delegated(parent Signers) Signers {
	s.Sign = max(s.Sign, parent.Sign)
	return s
}

// SignerPolicy is what the owners along a delegation chain published about
// the signatures of the name discovered (protocol.md §15.2): the selection
// at the last host of the chain, whose keys apply, with the strictest sign=
// of every host of the chain (Signers.Delegated), and which host made it
// required. Keys are taken only from a DNSSEC-secure TXT RRset or a
// well-known document fetched over verified TLS; each says which.
type SignerPolicy struct {
	Signers
	// Host is the last host of the chain, whose keys apply.
	Host string `json:"host"`
	// RequiredBy is the host whose sign=required applies (Host or one
	// before it in the chain); "" when signatures are optional.
	RequiredBy string `json:"requiredBy,omitempty"`
}

// ParseWellKnownSigners parses the value of a well-known document's
// "signers" member:
//
//	"signers": [
//	  {"prefix": "org", "sign": "required",
//	   "keys": [{"alg": "ecdsa-p256", "spki": "<base64 DER SubjectPublicKeyInfo>"}]}]
//
// Each entry has an optional prefix ("" or absent: the whole host), an
// optional sign ("required" or "optional", absent meaning optional) and a
// non-empty keys list; each key an alg and an spki, with the rules of
// v=ocisig1's k= and p= (an unknown alg is kept without a usable key; an
// empty spki revokes). Each key gives one PublishedKey, its Record
// describing the entry. Unknown members are ignored; null is the same as
// absent; a member twice in one object, or data after the value, is an
// error. Errors are a *DocumentError (wrapping ErrMalformed) whose path
// starts at "signers" and whose offset counts from the start of member.
func ParseWellKnownSigners(member []byte) ([]PublishedKey, error) {
	if len(member) > WellKnownMaxBytes {
		return nil, &DocumentError{Path: "signers", Offset: WellKnownMaxBytes, Err: fmt.Errorf("%w: over the %d KiB limit", ErrWellKnownTooLarge, WellKnownMaxBytes>>10)}
	}
	p := &wkParser{body: member, dec: json.NewDecoder(bytes.NewReader(member))}
	p.dec.UseNumber()
	keys, err := p.signers()
	if err != nil {
		return nil, err
	}
	off := p.dec.InputOffset()
	for off < int64(len(member)) && strings.IndexByte(" \t\r\n", member[off]) >= 0 {
		off++
	}
	if off < int64(len(member)) {
		return nil, &DocumentError{Path: "signers", Offset: off, Err: errors.New("data after the signers array")}
	}
	if p.err != nil {
		return nil, p.err
	}
	return keys, nil
}

// signers reads the "signers" member's value; semantic faults are kept in
// p.err as the document's others are (ParseWellKnown calls it for the
// member).
func (p *wkParser) signers() ([]PublishedKey, error) {
	var keys []PublishedKey
	_, _, err := p.array("signers", func(i int, path string) error {
		s := wkSigner{path: path}
		present, off, err := p.objectValue(path, func(key string, _ int64) error { return p.signerField(&s, key) })
		s.off = off
		if err != nil || !present {
			if err == nil {
				p.fault(path, off, errors.New("signer is null, want an object"))
			}
			return err
		}
		keys = append(keys, p.signerKeys(&s)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// wkSigner is one signers[] entry as read, before its rules are checked.
type wkSigner struct {
	path                             string
	prefix, sign                     string
	hasSign, hasKeys                 bool
	off, prefixOff, signOff, keysOff int64
	keys                             []PublishedKey
}

// signerField reads one member of a signer object.
func (p *wkParser) signerField(s *wkSigner, key string) (err error) {
	switch key {
	case "prefix":
		s.prefix, _, s.prefixOff, err = p.str(s.path + ".prefix")
	case "sign":
		s.sign, s.hasSign, s.signOff, err = p.str(s.path + ".sign")
	case "keys":
		s.hasKeys, s.keysOff, err = p.array(s.path+".keys", func(j int, kpath string) error {
			k, ok, err := p.signerKey(kpath)
			if ok {
				s.keys = append(s.keys, k)
			}
			return err
		})
	default:
		err = p.skip(joinPath(s.path, key))
	}
	return err
}

// signerKeys checks a signer's rules (a known policy, a valid prefix, at
// least one key) and returns its keys with the prefix, the policy and
// their records; none after a fault, which is recorded.
func (p *wkParser) signerKeys(s *wkSigner) []PublishedKey {
	var policy SignPolicy
	if s.hasSign {
		var err error
		if policy, err = parseSignPolicy(s.sign); err != nil {
			p.fault(s.path+".sign", s.signOff, err)
			return nil
		}
	}
	if s.prefix != "" {
		if err := reference.ValidatePath(s.prefix); err != nil {
			p.fault(s.path+".prefix", s.prefixOff, err)
			return nil
		}
	}
	if !s.hasKeys {
		p.fault(s.path, s.off, errors.New(`no "keys": want at least one {"alg": ..., "spki": ...}`))
		return nil
	}
	if len(s.keys) == 0 && p.err == nil {
		p.fault(s.path+".keys", s.keysOff, errors.New("keys is empty: want at least one key"))
		return nil
	}
	for j := range s.keys {
		k := &s.keys[j]
		k.Prefix, k.Sign = s.prefix, policy
		k.Record = fmt.Sprintf("well-known %s.keys[%d] prefix=%q alg=%s sign=%s", s.path, j, s.prefix, k.Alg, policy)
		if k.Revoked {
			k.Record += " revoked"
		}
	}
	return s.keys
}

// signerKey reads one keys[] entry; ok is false when it is invalid (the
// fault is recorded).
func (p *wkParser) signerKey(path string) (k PublishedKey, ok bool, err error) {
	var (
		alg, spki       string
		hasAlg, hasSPKI bool
		algOff, spkiOff int64
	)
	present, off, err := p.objectValue(path, func(key string, _ int64) error {
		var err error
		switch key {
		case "alg":
			alg, hasAlg, algOff, err = p.str(path + ".alg")
		case "spki":
			spki, hasSPKI, spkiOff, err = p.str(path + ".spki")
		default:
			err = p.skip(joinPath(path, key))
		}
		return err
	})
	if err != nil {
		return k, false, err
	}
	switch {
	case !present:
		p.fault(path, off, errors.New("key is null, want an object"))
		return k, false, nil
	case !hasAlg:
		p.fault(path, off, errors.New(`key has no "alg"`))
		return k, false, nil
	case !hasSPKI:
		p.fault(path, off, errors.New(`key has no "spki" (an empty string revokes)`))
		return k, false, nil
	}
	if k.Alg, err = parseKeyAlg(alg); err != nil {
		p.fault(path+".alg", algOff, err)
		return k, false, nil
	}
	if err := k.setKey(spki); err != nil {
		p.fault(path+".spki", spkiOff, err)
		return k, false, nil
	}
	return k, true, nil
}

// String describes the selection for traces: "prefix \"org\": sign=required, 2 keys".
func (s Signers) String() string {
	if !s.Found {
		return "no signing keys published"
	}
	keys := strconv.Itoa(len(s.Keys)) + " keys"
	if len(s.Keys) == 1 {
		keys = "1 key"
	}
	if s.Revoked {
		keys = "keys revoked"
	}
	return fmt.Sprintf("prefix %q: sign=%s, %s", s.Prefix, s.Sign, keys)
}
