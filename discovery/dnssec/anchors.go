package dnssec

// Trust anchors: the built-in IANA root key-signing keys, and files of DS or
// DNSKEY records for private zones (--trust-anchor FILE).

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// rootAnchorText is the DS form of the root zone's key-signing keys as
// published by IANA in root-anchors.xml: KSK-2017 (key tag 20326) and
// KSK-2024 (key tag 38696, which signs the root from its rollover on).
// Both are built in so that the rollover needs no new ocidns release.
var rootAnchorText = []string{
	". 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
	". 172800 IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
}

// RootAnchors returns the IANA root trust anchors (DS records of KSK-2017
// and KSK-2024), freshly allocated so callers may modify them.
func RootAnchors() []dns.RR {
	out := make([]dns.RR, 0, len(rootAnchorText))
	for _, s := range rootAnchorText {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic("dnssec: built-in root anchor does not parse: " + err.Error())
		}
		out = append(out, rr)
	}
	return out
}

// Limits of a trust anchor file: a few records in practice.
const (
	maxAnchorFileSize = 1 << 20
	maxAnchors        = 1000
)

// ParseAnchors reads trust anchors in zone-file syntax (RFC 1035 §5: one
// record per line, parentheses continue a record, ";" starts a comment,
// $ORIGIN and $TTL directives), as written by `dig DNSKEY` or found in
// root.key files. Only DS and DNSKEY records of class IN are allowed; every
// DS must use a digest type of 1, 2 or 4 with a digest of the right length,
// and every record an algorithm the validator implements (8, 10, 13, 14,
// 15); a DNSKEY must be a zone key, not revoked. $INCLUDE and $GENERATE are
// refused. Errors name file:line and what is wrong; an input without any
// anchor, or larger than 1 MiB, is an error.
func ParseAnchors(r io.Reader, file string) ([]dns.RR, error) {
	if file == "" {
		file = "trust anchors"
	}
	data, err := io.ReadAll(io.LimitReader(r, maxAnchorFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > maxAnchorFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes; a trust anchor file holds a few DS or DNSKEY records", file, maxAnchorFileSize)
	}
	recs, err := splitZoneRecords(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", file, err)
	}
	var out []dns.RR
	st := anchorFile{origin: "."}
	for _, rec := range recs {
		rr, err := st.record(rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, rec.line, err)
		}
		if rr == nil {
			continue
		}
		if len(out) == maxAnchors {
			return nil, fmt.Errorf("%s:%d: more than %d trust anchors", file, rec.line, maxAnchors)
		}
		out = append(out, rr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no DS or DNSKEY record", file)
	}
	return out, nil
}

// anchorFile is the state of a trust anchor file read so far: the
// $ORIGIN and $TTL in force, and the owner of the last record (for a
// record that leaves it blank).
type anchorFile struct {
	origin, ttl, owner string
}

// record reads one logical record: a directive (nil RR), or an anchor,
// checked.
func (f *anchorFile) record(rec zoneRecord) (dns.RR, error) {
	fields := strings.Fields(rec.text)
	if strings.HasPrefix(fields[0], "$") {
		return nil, f.directive(fields)
	}
	text := rec.text
	if rec.blankOwner {
		if f.owner == "" {
			return nil, errors.New("record without an owner name")
		}
		text = f.owner + " " + text
	}
	prelude := "$ORIGIN " + f.origin + "\n"
	if f.ttl != "" {
		prelude += "$TTL " + f.ttl + "\n"
	}
	rr, err := parseOne(prelude+text+"\n", f.origin)
	if err != nil || rr == nil {
		return nil, err
	}
	f.owner = rr.Header().Name
	if err := checkAnchor(rr); err != nil {
		return nil, err
	}
	return rr, nil
}

// directive applies $ORIGIN or $TTL; other directives ($INCLUDE,
// $GENERATE) are refused.
func (f *anchorFile) directive(fields []string) error {
	switch strings.ToUpper(fields[0]) {
	case "$ORIGIN":
		if len(fields) != 2 {
			return errors.New("$ORIGIN takes one domain name")
		}
		o := fields[1]
		if !dns.IsFqdn(o) {
			o = dns.Fqdn(o + "." + strings.TrimSuffix(f.origin, "."))
		}
		if _, ok := dns.IsDomainName(o); !ok {
			return fmt.Errorf("$ORIGIN %q is not a domain name", fields[1])
		}
		f.origin = o
	case "$TTL":
		if len(fields) != 2 {
			return errors.New("$TTL takes one value")
		}
		if _, err := parseOne("$TTL "+fields[1]+"\n", "."); err != nil {
			return err
		}
		f.ttl = fields[1]
	default:
		return fmt.Errorf("%s not allowed in a trust anchor file", fields[0])
	}
	return nil
}

// parseOne parses a single record (after directives) and returns the
// parser's message without its position, which is relative to the snippet.
func parseOne(text, origin string) (dns.RR, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetIncludeAllowed(false)
	rr, _ := zp.Next()
	if err := zp.Err(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "dns: ")
		if i := strings.LastIndex(msg, " at line: "); i >= 0 {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("%s", msg)
	}
	if rr != nil {
		if extra, _ := zp.Next(); extra != nil {
			return nil, fmt.Errorf("more than one record on a line")
		}
	}
	return rr, nil
}

// checkAnchor accepts the DS and DNSKEY records the validator can use.
func checkAnchor(rr dns.RR) error {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		return fmt.Errorf("class %s: trust anchors are class IN", dns.Class(h.Class))
	}
	switch rr := rr.(type) {
	case *dns.DS:
		if !supportedAlgorithm(rr.Algorithm) {
			return fmt.Errorf("DS %s for %s: algorithm %s not supported (8, 10, 13, 14, 15 are)", strconv.Itoa(int(rr.KeyTag)), h.Name, algName(rr.Algorithm))
		}
		want := map[uint8]int{dns.SHA1: 40, dns.SHA256: 64, dns.SHA384: 96}[rr.DigestType]
		if want == 0 {
			return fmt.Errorf("DS %d for %s: digest type %d not supported (1, 2, 4 are)", rr.KeyTag, h.Name, rr.DigestType)
		}
		if _, err := hex.DecodeString(rr.Digest); err != nil {
			return fmt.Errorf("DS %d for %s: digest %q is not hexadecimal", rr.KeyTag, h.Name, rr.Digest)
		}
		if len(rr.Digest) != want {
			return fmt.Errorf("DS %d for %s: %s digest has %d hex digits, want %d", rr.KeyTag, h.Name, digestName(rr.DigestType), len(rr.Digest), want)
		}
	case *dns.DNSKEY:
		if rr.Flags&dns.ZONE == 0 {
			return fmt.Errorf("DNSKEY for %s: flags %d lack the zone key bit (256)", h.Name, rr.Flags)
		}
		if rr.Flags&dns.REVOKE != 0 {
			return fmt.Errorf("DNSKEY for %s: key %d is revoked (flag 128)", h.Name, rr.KeyTag())
		}
		if rr.Protocol != 3 {
			return fmt.Errorf("DNSKEY for %s: protocol %d, must be 3", h.Name, rr.Protocol)
		}
		if !supportedAlgorithm(rr.Algorithm) {
			return fmt.Errorf("DNSKEY for %s: algorithm %s not supported (8, 10, 13, 14, 15 are)", h.Name, algName(rr.Algorithm))
		}
		key, err := base64.StdEncoding.DecodeString(rr.PublicKey)
		if err != nil {
			return fmt.Errorf("DNSKEY for %s: public key is not base64: %v", h.Name, err)
		}
		if want := map[uint8]int{dns.ECDSAP256SHA256: 64, dns.ECDSAP384SHA384: 96, dns.ED25519: 32}[rr.Algorithm]; want != 0 && len(key) != want {
			return fmt.Errorf("DNSKEY for %s: %s public key is %d bytes, want %d", h.Name, algName(rr.Algorithm), len(key), want)
		}
		if (rr.Algorithm == dns.RSASHA256 || rr.Algorithm == dns.RSASHA512) && len(key) < 64 {
			return fmt.Errorf("DNSKEY for %s: RSA public key of %d bytes is too short", h.Name, len(key))
		}
	default:
		return fmt.Errorf("%s record not allowed: trust anchors are DS or DNSKEY records", dns.Type(h.Rrtype))
	}
	return nil
}

// zoneRecord is one logical record of a zone file: its text with comments
// removed and parentheses joined, and the line it starts on.
type zoneRecord struct {
	text       string
	line       int
	blankOwner bool // the record starts with a blank: it reuses the previous owner
}

// splitZoneRecords cuts a zone file into logical records so that every
// record, and every error about it, has a line number (miekg/dns reports
// syntax errors with positions but not the position of a record it parsed).
func splitZoneRecords(data []byte) ([]zoneRecord, error) {
	z := zoneSplitter{data: data, line: 1}
	for i := 0; i < len(data); i++ {
		var err error
		if i, err = z.next(i); err != nil {
			return nil, err
		}
	}
	switch {
	case z.quoted:
		return nil, fmt.Errorf("%d: unterminated quoted string", z.start)
	case z.depth > 0:
		return nil, fmt.Errorf("%d: \"(\" never closed", z.openParen)
	}
	z.flush()
	return z.recs, nil
}

// zoneSplitter is splitZoneRecords in progress.
type zoneSplitter struct {
	data      []byte
	recs      []zoneRecord
	cur       bytes.Buffer
	line      int
	start     int // line of the current record, 0 when none started
	depth     int // open parentheses
	openParen int // line of the outermost open parenthesis
	quoted    bool
	comment   bool
}

// next reads data[i], and the byte after it when data[i] escapes it, and
// returns the index of the last byte read.
func (z *zoneSplitter) next(i int) (int, error) {
	c := z.data[i]
	if c == '\n' {
		return i, z.newline()
	}
	if z.comment {
		return i, nil
	}
	if z.start == 0 {
		z.start = z.line
	}
	switch {
	case z.quoted && c == '\\' && i+1 < len(z.data) && z.data[i+1] != '\n':
		z.cur.WriteByte(c)
		i++
		c = z.data[i]
	case c == '"':
		z.quoted = !z.quoted
	case z.quoted:
	case c == ';':
		z.comment = true
		return i, nil
	case c == '(':
		if z.depth == 0 {
			z.openParen = z.line
		}
		z.depth++
	case c == ')':
		if z.depth == 0 {
			return i, fmt.Errorf("%d: \")\" without \"(\"", z.line)
		}
		z.depth--
	case c == 0:
		return i, fmt.Errorf("%d: NUL byte: not a zone file", z.line)
	}
	z.cur.WriteByte(c)
	return i, nil
}

// newline ends a comment, and the record unless parentheses continue it.
func (z *zoneSplitter) newline() error {
	z.comment = false
	if z.quoted {
		return fmt.Errorf("%d: newline inside a quoted string", z.line)
	}
	if z.depth == 0 {
		z.flush()
	} else {
		z.cur.WriteByte(' ')
	}
	z.line++
	return nil
}

// flush ends the current record.
func (z *zoneSplitter) flush() {
	if t := strings.TrimSpace(z.cur.String()); t != "" {
		raw := z.cur.String()
		z.recs = append(z.recs, zoneRecord{text: t, line: z.start, blankOwner: raw[0] == ' ' || raw[0] == '\t'})
	}
	z.cur.Reset()
	z.start = 0
}
