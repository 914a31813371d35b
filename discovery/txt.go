package discovery

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/reference"
)

// Errors of the record parsers (TXT and well-known).
var (
	// ErrNotOCI: a TXT record that is not a v=oci1 record (another protocol
	// such as v=spf1, or another version such as v=oci2). Such records share
	// the TXT space legitimately and are ignored.
	ErrNotOCI = errors.New("not a v=oci1 record")
	// ErrMalformed: a v=oci1 record, a well-known document or a mapping that
	// breaks the grammar or carries an invalid value. Wrapped by *RecordError
	// and *DocumentError.
	ErrMalformed = errors.New("malformed mapping")
)

// TXTLabel is the label under a host where its v=oci1 TXT records live:
// _oci-discovery.<host>.
const TXTLabel = "_oci-discovery"

// ParseOptions are the operator's choices that decide whether a published
// value is acceptable.
type ParseOptions struct {
	// Insecure reports whether plain http:// is allowed for a registry host.
	// It is asked with "host:port" when the URL has a port, then with the
	// bare host ("registry.local", "10.0.0.1", "::1" and "[::1]"), like
	// Docker's insecure-registries. Nil allows none.
	Insecure func(hostport string) bool
}

// ParseTXT parses one `v=oci1` TXT record (the record's strings
// concatenated) into a Mapping. The grammar, in ABNF (RFC 5234; literal
// strings are case-insensitive, so keys and "oci1" are too):
//
//	record        = version *( ";" OWS [ pair OWS ] )
//	version       = OWS "v" OWS "=" OWS "oci1" OWS        ; always first
//	pair          = key OWS "=" OWS value
//	key           = 1*( ALPHA / DIGIT / "-" / "_" / "." )
//	value         = *( %x00-3A / %x3C-FF )                ; anything but ";"
//
//	; the values of the known keys:
//	prefix-pair   = "prefix"   OWS "=" OWS [ repo-path ]   ; absent or empty: the whole host
//	registry-pair = "registry" OWS "=" OWS registry-url
//	delegate-pair = "delegate" OWS "=" OWS dns-name [ "." ]
//	priority-pair = "priority" OWS "=" OWS uint16
//	weight-pair   = "weight"   OWS "=" OWS uint16
//	caps-pair     = "caps"     OWS "=" OWS cap *( OWS "," OWS cap )
//	cap           = "resolve" / "pull"                      ; each at most once
//	uint16        = 1*5DIGIT                                ; 0..65535
//	registry-url  = ( "https" / "http" ) "://" host [ ":" port ] [ "/" repo-path ] [ "/" ]
//	host          = dns-name / IPv4address / "[" IPv6address "]"
//	port          = 1*5DIGIT                                ; 1..65535
//	repo-path     = component *( "/" component )           ; at most 255 bytes
//	component     = 1*lalnum *( separator 1*lalnum )
//	separator     = "." / "_" / "__" / 1*"-"
//	lalnum        = %x61-7A / DIGIT                         ; lowercase only
//	dns-name      = label *( "." label )                   ; at most 253 bytes, last label not all digits
//	label         = ( ALPHA / DIGIT ) [ *61( ALPHA / DIGIT / "-" ) ( ALPHA / DIGIT ) ]
//	OWS           = *( SP / HTAB )
//
// and the rules the grammar cannot say:
//   - every key appears at most once (a duplicate makes the record invalid);
//   - exactly one target: registry= or delegate=;
//   - http:// only for a host that opt.Insecure allows;
//   - unknown keys are ignored (their values may hold anything but ";");
//   - the value of a known key holds no whitespace (except around the commas
//     of caps): "prefix=a registry=..." is a missing ";", not a prefix.
//
// The Mapping is canonical: host and delegate lowercased, the delegate's
// trailing dot and the URL's default port and trailing slash removed, Caps
// CapAll when caps= is absent; Record is the record as given.
//
// A record whose first pair is not v=oci1 returns an error wrapping
// ErrNotOCI. A malformed v=oci1 record returns a *RecordError (wrapping
// ErrMalformed) naming the key and its byte offset. On error the Mapping is
// zero. ParseTXT does not allocate for a valid record in canonical form.
func ParseTXT(record string, opt ParseOptions) (Mapping, error) {
	p := txtParser{record: record, opt: opt, targetKey: -1}
	if err := mappingGrammar.read(record, p.seen[:], p.assign); err != nil {
		return Mapping{}, err
	}
	return p.mapping()
}

// txtParser is the state of one ParseTXT.
type txtParser struct {
	record    string
	opt       ParseOptions
	m         Mapping
	seen      [numKeys]int // offset+1 of each known key seen
	targetKey int          // keyRegistry or keyDelegate once seen, else -1
}

// pairGrammar is what one kind of record of the _oci-discovery TXT RRset
// (v=oci1 mappings, v=ocisig1 signing keys) adds to the grammar they
// share (the ABNF above; docs/protocol.md §3.1 and §15.1): its version, its
// known keys, the one whose value may hold white space, and the error of a
// record of another protocol or version.
type pairGrammar struct {
	version string
	keys    []string // canonical spelling; keys[0] is "v"
	spaced  int      // index of the key whose value may hold OWS, -1 for none
	other   func(record string) error
}

var (
	mappingGrammar = pairGrammar{version: "oci1", keys: keyNames[:], spaced: keyCaps, other: notOCI}
	signerGrammar  = pairGrammar{version: "ocisig1", keys: sigKeyNames[:], spaced: -1, other: notOCISig}
)

// read reads record in the shared grammar: the version first, then each
// pair; every key at most once; unknown keys ignored; a known key's value
// without white space (but the spaced key's). For each known key after the
// version, set checks and keeps its value; seen[k] is set to the key's
// offset+1. Errors are *RecordError naming the key and its offset, or
// g.other for a record of another protocol or version. Nothing is
// allocated for a record without unknown keys.
func (g *pairGrammar) read(record string, seen []int, set func(k int, value string) error) error {
	var unknown keySet // unknown keys seen, for duplicates
	for pos, first := 0, true; pos <= len(record); first = false {
		seg, key, value, keyAt, hasEq, next := splitPair(record, pos)
		pos = next
		var err error
		switch {
		case first:
			err = g.readVersion(record, key, value, keyAt, hasEq)
			seen[0] = keyAt + 1
		case seg == "":
			continue // "a;;b" and a trailing ";" are tolerated, as in DMARC
		case !hasEq:
			err = recordErr(record, keyAt, "", fmt.Errorf("%q is not key=value", seg))
		default:
			err = g.pair(record, key, value, keyAt, seen, &unknown, set)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// splitPair reads the ";"-separated segment of record that starts at pos
// (OWS trimmed; "" when empty): its key (OWS trimmed) at offset keyAt and
// its value (leading OWS trimmed) when it has an "=", and where the next
// segment starts (past len(record) after the last).
func splitPair(record string, pos int) (seg, key, value string, keyAt int, hasEq bool, next int) {
	end := strings.IndexByte(record[pos:], ';')
	if end < 0 {
		end = len(record)
	} else {
		end += pos
	}
	seg = record[pos:end]
	lead := 0
	for lead < len(seg) && isOWS(seg[lead]) {
		lead++
	}
	seg, keyAt = trimOWS(seg[lead:]), pos+lead
	if eq := strings.IndexByte(seg, '='); eq >= 0 {
		key, value, hasEq = trimOWS(seg[:eq]), seg[eq+1:], true
		for len(value) > 0 && isOWS(value[0]) {
			value = value[1:]
		}
	}
	return seg, key, value, keyAt, hasEq, end + 1
}

// readVersion reads the first pair, which makes the record one of g's
// version or another protocol's.
func (g *pairGrammar) readVersion(record, key, value string, keyAt int, hasEq bool) error {
	if !hasEq || !strings.EqualFold(key, "v") {
		return g.other(record)
	}
	if !strings.EqualFold(value, g.version) {
		// "v=oci1 prefix=x" is a v=oci1 record missing its ";".
		if w := strings.IndexAny(value, " \t"); w >= 0 && strings.EqualFold(value[:w], g.version) {
			return recordErr(record, keyAt, key, fmt.Errorf(`"v=%s" must be followed by ";"`, g.version))
		}
		return g.other(record)
	}
	return nil
}

// pair reads a key=value pair after the version: a known key at most
// once, an unknown one at most once and ignored.
func (g *pairGrammar) pair(record, key, value string, keyAt int, seen []int, unknown *keySet, set func(k int, value string) error) error {
	if err := checkKey(key); err != nil {
		return recordErr(record, keyAt, key, err)
	}
	k := g.known(key)
	if k < 0 {
		if prev, dup := unknown.add(key, keyAt); dup {
			return recordErr(record, keyAt, key, fmt.Errorf("duplicated key (first at offset %d)", prev))
		}
		return nil
	}
	if seen[k] != 0 {
		return recordErr(record, keyAt, key, fmt.Errorf("duplicated key (first at offset %d)", seen[k]-1))
	}
	seen[k] = keyAt + 1
	if k != g.spaced && hasOWS(value) {
		return recordErr(record, keyAt, key, fmt.Errorf("value %q contains whitespace (a missing ';' between pairs?)", value))
	}
	if err := set(k, value); err != nil {
		return recordErr(record, keyAt, key, err)
	}
	return nil
}

// known returns the index of a known key (case-insensitive), or -1.
func (g *pairGrammar) known(key string) int {
	for i, n := range g.keys {
		if strings.EqualFold(key, n) {
			return i
		}
	}
	return -1
}

// assign checks the value of known key k and sets it in the mapping.
func (p *txtParser) assign(k int, value string) (err error) {
	switch k {
	case keyPrefix:
		if value != "" {
			err = reference.ValidatePath(value)
		}
		p.m.Prefix = value
	case keyRegistry, keyDelegate:
		if p.targetKey >= 0 {
			return fmt.Errorf("a second target: the record already has %s= at offset %d; want exactly one of registry= or delegate=", keyNames[p.targetKey], p.seen[p.targetKey]-1)
		}
		p.targetKey = k
		if k == keyRegistry {
			p.m.Registry, err = canonicalRegistryURL(value, p.opt)
		} else {
			p.m.Delegate, err = canonicalDNSName(value)
		}
	case keyPriority:
		p.m.Priority, err = parseUint16(value)
	case keyWeight:
		p.m.Weight, err = parseUint16(value)
	case keyCaps:
		p.m.Caps, err = parseCaps(value)
	}
	return err
}

// mapping checks what the record as a whole must have, and completes it.
func (p *txtParser) mapping() (Mapping, error) {
	if p.targetKey < 0 {
		return Mapping{}, recordErr(p.record, len(p.record), "", errors.New("no target: want registry=<https URL> or delegate=<DNS name>"))
	}
	if p.m.Caps == 0 {
		p.m.Caps = CapAll
	}
	p.m.Record = p.record
	return p.m, nil
}

// The keys ParseTXT knows, and their canonical spelling.
const (
	keyV = iota
	keyPrefix
	keyRegistry
	keyDelegate
	keyPriority
	keyWeight
	keyCaps
	numKeys
)

var keyNames = [numKeys]string{"v", "prefix", "registry", "delegate", "priority", "weight", "caps"}

// keySet remembers the unknown keys of a record, case-insensitively. A
// linear scan serves the usual few keys; a map takes over beyond that, so a
// 64 KiB record of tiny pairs is not quadratic.
type keySet struct {
	keys []string
	at   []int
	big  map[string]int
}

// add records key at offset, or returns the offset of its first occurrence.
func (s *keySet) add(key string, offset int) (prev int, dup bool) {
	if s.big != nil {
		lk := strings.ToLower(key)
		if p, ok := s.big[lk]; ok {
			return p, true
		}
		s.big[lk] = offset
		return 0, false
	}
	for i, k := range s.keys {
		if strings.EqualFold(k, key) {
			return s.at[i], true
		}
	}
	s.keys = append(s.keys, key)
	s.at = append(s.at, offset)
	if len(s.keys) > 16 {
		s.big = make(map[string]int, 2*len(s.keys))
		for i, k := range s.keys {
			s.big[strings.ToLower(k)] = s.at[i]
		}
	}
	return 0, false
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("empty key before '='")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("invalid character %s in key: keys are letters, digits, '-', '_' and '.'", quoteByte(c))
		}
	}
	return nil
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func hasOWS(s string) bool {
	for i := 0; i < len(s); i++ {
		if isOWS(s[i]) {
			return true
		}
	}
	return false
}

func trimOWS(s string) string {
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	return s
}

// parseUint16 accepts 1..5 decimal digits with a value 0..65535.
func parseUint16(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty value: want an integer 0..65535")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer 0..65535", s)
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("%q is out of range: want an integer 0..65535", s)
		}
	}
	return n, nil
}

// parseCaps parses "resolve,pull": a non-empty comma list of known,
// distinct capabilities (case-insensitive, OWS around commas).
func parseCaps(s string) (Caps, error) {
	var c Caps
	for rest := s; ; {
		item, tail, more := strings.Cut(rest, ",")
		item = trimOWS(item)
		var bit Caps
		switch {
		case item == "":
			return 0, fmt.Errorf("empty capability in %q: want a comma list of resolve, pull", s)
		case strings.EqualFold(item, "resolve"):
			bit = CapResolve
		case strings.EqualFold(item, "pull"):
			bit = CapPull
		default:
			return 0, fmt.Errorf("unknown capability %q: known are resolve, pull", item)
		}
		if c&bit != 0 {
			return 0, fmt.Errorf("capability %q listed twice", item)
		}
		c |= bit
		if !more {
			return c, nil
		}
		rest = tail
	}
}

// RecordError is a malformed v=oci1 TXT record: the record, the byte offset
// of the key at fault (the end of the record when the fault is a missing
// key), the key as written ("" when none) and the cause. It wraps
// ErrMalformed and the cause.
type RecordError struct {
	Record string
	Offset int
	Key    string
	Err    error
}

// Error names the record, the key and its offset, and the cause.
func (e *RecordError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("TXT record %s: at offset %d: %v", quote(e.Record), e.Offset, e.Err)
	}
	return fmt.Sprintf("TXT record %s: key %q at offset %d: %v", quote(e.Record), e.Key, e.Offset, e.Err)
}

// Is reports ErrMalformed, so that errors.Is(err, ErrMalformed) holds.
func (e *RecordError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the cause.
func (e *RecordError) Unwrap() error { return e.Err }

func recordErr(record string, offset int, key string, err error) error {
	return &RecordError{Record: record, Offset: offset, Key: key, Err: err}
}

// notOCIError is cheap to build: hosts publish many other TXT records
// (SPF, site verifications), and each is skipped on every discovery.
type notOCIError struct{ record string }

func (e *notOCIError) Error() string {
	return "TXT record " + quote(e.record) + ": " + ErrNotOCI.Error()
}

func (e *notOCIError) Unwrap() error { return ErrNotOCI }

func notOCI(record string) error { return &notOCIError{record} }

// ParseTXTRecords parses the TXT RRset of _oci-discovery.<host> as a
// client reads it (docs/protocol.md §3.2): the valid v=oci1 mappings in
// published order, and the records skipped — another protocol's or
// version's (SkipNotOCI) and malformed v=oci1 records (SkipMalformed, with
// the *RecordError). Records of other types are ignored. An RRset over
// MaxRRsetRecords records or MaxTXTBytes bytes is an error wrapping
// ErrRRsetTooLarge, found before more than MaxTXTBytes of text is built.
func ParseTXTRecords(rrs []dns.RR, opt ParseOptions) (ms []Mapping, skipped []Skipped, err error) {
	n, size := 0, 0
	for _, rr := range rrs {
		txt, ok := rr.(*dns.TXT)
		if !ok {
			continue
		}
		if n++; n > MaxRRsetRecords {
			return nil, nil, rrsetTooLarge(len(rrs), "")
		}
		rec := TXTString(txt)
		if size += len(rec); size > MaxTXTBytes {
			return nil, nil, rrsetTooLarge(len(rrs), fmt.Sprintf("more than %d bytes of text in the first %d", MaxTXTBytes, n))
		}
		m, err := ParseTXT(rec, opt)
		switch {
		case errors.Is(err, ErrNotOCI):
			skipped = append(skipped, Skipped{Reason: SkipNotOCI, Record: rec})
		case err != nil:
			skipped = append(skipped, Skipped{Reason: SkipMalformed, Record: rec, Err: err})
		default:
			ms = append(ms, m)
		}
	}
	return ms, skipped, nil
}

// ValidateMapping checks a mapping built by hand (by `ocidns records`, or
// the operator's configuration) with the same rules as ParseTXT, and returns
// it in canonical form: lowercase hosts, no trailing dot, no default port, Caps
// CapAll when zero. Record is kept as given. Errors wrap ErrMalformed and
// name the field.
func ValidateMapping(m Mapping, opt ParseOptions) (Mapping, error) {
	bad := func(field, value string, err error) (Mapping, error) {
		return m, fmt.Errorf("%w: %s %q: %w", ErrMalformed, field, value, err)
	}
	if m.Prefix != "" {
		if err := reference.ValidatePath(m.Prefix); err != nil {
			return bad("prefix", m.Prefix, err)
		}
	}
	switch {
	case m.Registry != "" && m.Delegate != "":
		return m, fmt.Errorf("%w: both registry %q and delegate %q: want exactly one target", ErrMalformed, m.Registry, m.Delegate)
	case m.Registry != "":
		r, err := canonicalRegistryURL(m.Registry, opt)
		if err != nil {
			return bad("registry", m.Registry, err)
		}
		m.Registry = r
	case m.Delegate != "":
		d, err := canonicalDNSName(m.Delegate)
		if err != nil {
			return bad("delegate", m.Delegate, err)
		}
		m.Delegate = d
	default:
		return m, fmt.Errorf("%w: no target: want a registry URL or a delegate DNS name", ErrMalformed)
	}
	if m.Priority < 0 || m.Priority > 65535 {
		return bad("priority", strconv.Itoa(m.Priority), errors.New("want an integer 0..65535"))
	}
	if m.Weight < 0 || m.Weight > 65535 {
		return bad("weight", strconv.Itoa(m.Weight), errors.New("want an integer 0..65535"))
	}
	if m.Caps == 0 {
		m.Caps = CapAll
	}
	if m.Caps&^CapAll != 0 {
		return bad("caps", fmt.Sprintf("%#x", uint8(m.Caps)), errors.New("unknown capability bits"))
	}
	return m, nil
}

// FormatTXT returns the canonical text of a valid, canonical mapping (as
// returned by ParseTXT or ValidateMapping), such that ParseTXT(FormatTXT(m))
// gives m back with Record set to the text:
//
//	v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10
//
// Keys come in a fixed order; prefix, priority, weight and caps are left out
// when they have their default value. Record is not used.
func FormatTXT(m Mapping) string {
	var b strings.Builder
	b.Grow(16 + len(m.Prefix) + len(m.Registry) + len(m.Delegate) + 48)
	b.WriteString("v=oci1")
	if m.Prefix != "" {
		b.WriteString("; prefix=")
		b.WriteString(m.Prefix)
	}
	if m.Registry != "" {
		b.WriteString("; registry=")
		b.WriteString(m.Registry)
	}
	if m.Delegate != "" {
		b.WriteString("; delegate=")
		b.WriteString(m.Delegate)
	}
	if m.Priority != 0 {
		b.WriteString("; priority=")
		b.WriteString(strconv.Itoa(m.Priority))
	}
	if m.Weight != 0 {
		b.WriteString("; weight=")
		b.WriteString(strconv.Itoa(m.Weight))
	}
	if m.Caps != 0 && m.Caps != CapAll {
		b.WriteString("; caps=")
		b.WriteString(m.Caps.String())
	}
	return b.String()
}

// TXTRecord validates m (as ValidateMapping with opt) and returns the TXT resource record that publishes
// it for host: owner _oci-discovery.<host>., the canonical text split into
// strings of at most 255 bytes (a DNS character-string's limit; resolvers
// concatenate them back). rr.String() is its zone-file form.
func TXTRecord(host string, ttl uint32, m Mapping, opt ParseOptions) (*dns.TXT, error) {
	h, err := canonicalDNSName(host)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", host, err)
	}
	m, err = ValidateMapping(m, opt)
	if err != nil {
		return nil, err
	}
	return txtRR(h, ttl, FormatTXT(m)), nil
}

// txtRR is the TXT record at _oci-discovery.<host>. (host canonical)
// holding text, split into character-strings of at most 255 bytes.
func txtRR(host string, ttl uint32, text string) *dns.TXT {
	var strs []string
	for len(text) > 255 {
		strs = append(strs, text[:255])
		text = text[255:]
	}
	return &dns.TXT{
		Hdr: dns.RR_Header{Name: TXTLabel + "." + host + ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
		Txt: append(strs, text),
	}
}

// TXTString returns the record's character-strings concatenated as raw
// bytes: miekg/dns keeps them in presentation form, with \" \\ and \DDD
// escapes, which are undone here so records are parsed as published.
func TXTString(txt *dns.TXT) string {
	var b strings.Builder
	for _, s := range txt.Txt {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '\\' || i+1 >= len(s) {
				b.WriteByte(c)
				continue
			}
			if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
				if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v <= 255 {
					b.WriteByte(byte(v))
					i += 3
					continue
				}
			}
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
