package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"

	"github.com/ocidns/ocidns/discovery"
)

func init() {
	register(command{
		name:    "records",
		summary: "write the TXT records and well-known document that delegate a namespace",
		usage:   recordsUsage,
		run:     runRecords,
	})
}

const recordsUsage = "ocidns records --host HOST [--prefix PATH] (--registry URL [--priority N] [--weight N] [--caps LIST] | --delegate HOST | [--sign POLICY] --signing-key FILE)... [--ttl N] [--format zone|json|both]\n" +
	"       ocidns records --host HOST [--file FILE] [--prefix PATH] [--sign POLICY] [--signing-key FILE]... [--ttl N] [--format zone|json|both]"

const recordsAbout = `Write the DNS TXT records (zone-file syntax) and/or the well-known document
(JSON) that publish one or several mappings of HOST's image namespace.

Mappings come from the command line or from --file, not both:
  - each --registry or --delegate starts a new mapping;
  - --prefix applies to that mapping and to every later one, until the next
    --prefix (--prefix "" goes back to the whole host);
  - --priority, --weight and --caps apply to the next --registry only, and
    must come before it (a delegation has none of them).
  For example, two mirrors of tools/ and the rest of the host delegated:
    ocidns records --host example.com \
      --prefix tools --priority 10 --registry https://ghcr.io/example-tools \
                     --priority 20 --caps pull --registry https://mirror.example.com/tools \
      --prefix ""    --delegate registry.example.net
  --file FILE (- for standard input) holds one mapping a line in TXT syntax,
  as bare text (v=oci1; prefix=tools; registry=https://...) or as the quoted
  strings of a zone file ("v=oci1; ..." "..."); blank lines and lines
  starting with # are skipped.

Every mapping is checked by the parser clients use (ParseTXT), written in
canonical form, read back, and checked for conflicts with the others (two
mappings of one prefix must both be registry= mirrors). TXT text longer
than 255 bytes is split into several quoted strings, as DNS requires;
resolvers join them back.

Signing keys (docs/protocol.md §15): --signing-key FILE publishes the public
key of a cosign key pair (cosign.pub, ECDSA P-256 or Ed25519) for the names
under the --prefix in effect, with the --sign in effect (required or
optional, default optional; like --prefix, it applies to every later key).
Without mappings on the command line, --prefix and --sign may come anywhere
and apply to every key:
    ocidns records --host example.com --signing-key cosign.pub --sign required --prefix org
Each key becomes a v=ocisig1 TXT record in the same RRset as the mappings
(the zone must be signed with DNSSEC: clients use keys only from a secure
RRset) and an entry of the well-known document's "signers" (served over
HTTPS); both are read back by the clients' parsers before they are written.

Exit status: 0 written, 1 a mapping, a key or the host is invalid, 2 usage error.`

// maxRecordsFile bounds --file: far more than any well-known document
// (64 KiB) can hold.
const maxRecordsFile = 1 << 20

// orderedFlag records each occurrence of a flag, in command-line order,
// into a list shared by the flags of the mapping groups: pflag keeps no
// order between different flags, and the groups need it.
type orderedFlag struct {
	name   string
	typ    string
	events *[]flagEvent
	check  func(string) error
}

type flagEvent struct{ flag, value string }

func (f *orderedFlag) String() string { return "" }
func (f *orderedFlag) Type() string   { return f.typ }

func (f *orderedFlag) Set(v string) error {
	if f.check != nil {
		if err := f.check(v); err != nil {
			return err
		}
	}
	*f.events = append(*f.events, flagEvent{f.name, v})
	return nil
}

func checkUint(v string) error {
	if _, err := strconv.ParseUint(v, 10, 32); err != nil {
		return errors.New("want a non-negative integer")
	}
	return nil
}

// sourcedMapping is a mapping and where it came from, for messages.
type sourcedMapping struct {
	m    discovery.Mapping
	from string // "mapping 2 (--prefix tools --registry https://...)" or "FILE line 3"
}

func runRecords(ctx context.Context, args []string, stdio IO) int {
	f, code, done := parseRecordsFlags(args, stdio)
	if done {
		return code
	}
	ms, keys, code := f.mappings(ctx, stdio)
	if code != exitOK {
		return code
	}
	out, err := f.render(ms, keys)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns records:", err)
		return exitFailed
	}
	if _, err := io.WriteString(stdio.Out, out); err != nil {
		fmt.Fprintln(stdio.Err, "ocidns records: writing output:", err)
		return exitFailed
	}
	return exitOK
}

// recordsFlags are the flags of `ocidns records`, read and checked.
type recordsFlags struct {
	events []flagEvent // the mapping groups' flags, in command-line order
	host   string
	file   string
	ttl    int64
	format string // zone, json or both
	opt    discovery.ParseOptions
}

// parseRecordsFlags reads and checks the flags; done means exit with code
// (help, or a usage error already reported).
func parseRecordsFlags(args []string, stdio IO) (f recordsFlags, code int, done bool) {
	fs := newFlagSet("records")
	host := fs.String("host", "", "the host whose namespace is published (required for zone output)")
	for _, fl := range []struct{ name, typ, usage string }{
		{"prefix", "path", `path prefix of the following mappings (default "": the whole host)`},
		{"registry", "url", "start a mapping to this registry base URL; its path is a repository prefix"},
		{"delegate", "host", "start a mapping that delegates to this DNS name"},
		{"priority", "uint", "priority of the next --registry (lower first; default 0)"},
		{"weight", "uint", "weight of the next --registry among equal priorities (default 0)"},
		{"caps", "list", "capabilities of the next --registry: resolve,pull (default both)"},
		{"signing-key", "file", "publish the public key in FILE (cosign.pub) for the names under --prefix"},
		{"sign", "policy", "required or optional: whether the names under --prefix must be signed (applies to the later --signing-key's; default optional)"},
	} {
		of := &orderedFlag{name: fl.name, typ: fl.typ, events: &f.events}
		switch fl.typ {
		case "uint":
			of.check = checkUint
		case "policy":
			of.check = checkSignPolicy
		}
		fs.Var(of, fl.name, fl.usage)
	}
	file := fs.String("file", "", "read mappings from FILE, one a line in TXT syntax (- for standard input)")
	ttl := fs.Int64("ttl", 3600, "TTL of the TXT records, in seconds")
	format := fs.String("format", "zone", "output: zone (TXT records), json (well-known document) or both")
	insecure := fs.StringArray("insecure-registry", nil, "allow http:// registry URLs for HOST[:PORT], as clients given --insecure-registry do (repeatable)")
	if code, done := parseFlags(fs, recordsUsage, recordsAbout, args, stdio); done {
		return f, code, true
	}
	f.host, f.file, f.ttl, f.format = *host, *file, *ttl, *format
	f.opt = discovery.ParseOptions{Insecure: insecureMatch(*insecure)}
	switch {
	case fs.NArg() > 0:
		return f, usageError(stdio, "records", "unexpected arguments %q: mappings are given with flags", fs.Args()), true
	case f.format != "zone" && f.format != "json" && f.format != "both":
		return f, usageError(stdio, "records", "--format must be zone, json or both, not %q", f.format), true
	case f.ttl < 0 || f.ttl > 1<<31-1:
		return f, usageError(stdio, "records", "--ttl must be from 0 to 2147483647 seconds (RFC 2181), not %d", f.ttl), true
	case f.host == "" && f.format != "json":
		return f, usageError(stdio, "records", "--host is required: the TXT records are published at _oci-discovery.HOST"), true
	}
	return f, exitOK, false
}

// mappings are the mappings given, with --file or with flags, each
// checked by the TXT parser clients use, and the signing keys.
func (f recordsFlags) mappings(ctx context.Context, stdio IO) ([]sourcedMapping, []sourcedKey, int) {
	var (
		ms   []sourcedMapping
		code int
	)
	flagMappings := slices.ContainsFunc(f.events, func(ev flagEvent) bool { return ev.flag == "registry" || ev.flag == "delegate" })
	hasKeys := slices.ContainsFunc(f.events, func(ev flagEvent) bool { return ev.flag == "signing-key" })
	switch {
	case f.file != "" && slices.ContainsFunc(f.events, func(ev flagEvent) bool { return isMappingFlag(ev.flag) }):
		return nil, nil, usageError(stdio, "records", "give mappings with --file or with flags, not both")
	case f.file != "":
		ms, code = mappingsFromFile(ctx, f.file, f.opt, stdio)
	case !flagMappings && !hasKeys:
		return nil, nil, usageError(stdio, "records", "no mapping: give --registry URL or --delegate HOST (or --file), or --signing-key FILE")
	case flagMappings:
		ms, code = mappingsFromFlags(f.events, f.opt, stdio)
	}
	if code != exitOK {
		return nil, nil, code
	}
	keys, code := keysFromFlags(f.events, flagMappings, stdio)
	if code != exitOK {
		return nil, nil, code
	}
	if len(ms) == 0 && len(keys) == 0 {
		fmt.Fprintf(stdio.Err, "ocidns records: %s holds no mapping\n", f.file)
		return nil, nil, exitFailed
	}
	if err := checkMappingSet(ms, f.host); err != nil {
		fmt.Fprintln(stdio.Err, "ocidns records:", err)
		return nil, nil, exitFailed
	}
	return ms, keys, code
}

// render writes the TXT records, the well-known document, or both.
func (f recordsFlags) render(ms []sourcedMapping, keys []sourcedKey) (string, error) {
	var zone string
	if f.format != "json" {
		var err error
		if zone, err = zoneText(f.host, uint32(f.ttl), ms, keys, f.opt); err != nil {
			return "", err
		}
	}
	var doc []byte
	if f.format != "zone" {
		var err error
		if doc, err = wellKnownDocument(ms, keys, f.opt); err != nil {
			return "", err
		}
	}
	switch f.format {
	case "zone":
		return zone, nil
	case "json":
		return string(doc), nil
	}
	h := strings.ToLower(strings.TrimSuffix(f.host, "."))
	return fmt.Sprintf("; DNS: TXT records for the zone of %s\n%s\n; HTTPS: the document to serve at https://%s%s\n%s",
		h, zone, h, discovery.WellKnownPath, doc), nil
}

// zoneText is the TXT records that publish ms and keys for host, one a
// line, in one RRset.
func zoneText(host string, ttl uint32, ms []sourcedMapping, keys []sourcedKey, opt discovery.ParseOptions) (string, error) {
	var zone strings.Builder
	for _, sm := range ms {
		rr, err := discovery.TXTRecord(host, ttl, sm.m, opt)
		if err != nil {
			return "", fmt.Errorf("%s: %w", sm.from, err)
		}
		zone.WriteString(zoneTXT(rr))
		zone.WriteByte('\n')
	}
	for _, sk := range keys {
		rr, err := discovery.SignerTXTRecord(host, ttl, sk.k)
		if err != nil {
			return "", fmt.Errorf("%s: %w", sk.from, err)
		}
		zone.WriteString(zoneTXT(rr))
		zone.WriteByte('\n')
	}
	return zone.String(), nil
}

// mappingsFromFlags turns the ordered group flags into mappings, each
// checked by the TXT parser clients use.
func mappingsFromFlags(events []flagEvent, opt discovery.ParseOptions, stdio IO) ([]sourcedMapping, int) {
	var (
		ms            []sourcedMapping
		prefix        string
		prefixPending bool // a --prefix no mapping has used yet
		attrs         []flagEvent
	)
	for _, ev := range events {
		switch ev.flag {
		case "prefix":
			prefix, prefixPending = ev.value, true
		case "priority", "weight", "caps":
			for _, a := range attrs {
				if a.flag == ev.flag {
					return nil, usageError(stdio, "records", "--%s given twice before one --registry: each --registry takes the --priority, --weight and --caps given just before it", ev.flag)
				}
			}
			attrs = append(attrs, ev)
		case "signing-key":
			prefixPending = false // the key is published under it
		case "registry", "delegate":
			if ev.flag == "delegate" && len(attrs) > 0 {
				return nil, usageError(stdio, "records", "--%s %s before --delegate %s: priorities, weights and capabilities belong to registries, not to delegations", attrs[0].flag, attrs[0].value, ev.value)
			}
			record, from, err := mappingRecord(len(ms)+1, prefix, ev, attrs)
			if err != nil {
				fmt.Fprintln(stdio.Err, "ocidns records:", err)
				return nil, exitFailed
			}
			sm, err := parseMapping(record, from, opt)
			if err != nil {
				fmt.Fprintln(stdio.Err, "ocidns records:", err)
				return nil, exitFailed
			}
			ms = append(ms, sm)
			attrs, prefixPending = nil, false
		}
	}
	if len(attrs) > 0 {
		return nil, usageError(stdio, "records", "--%s %s is not followed by a --registry: give --priority, --weight and --caps before the --registry they belong to", attrs[0].flag, attrs[0].value)
	}
	if prefixPending {
		return nil, usageError(stdio, "records", "--prefix %s is not followed by a --registry or --delegate: give --prefix before the mappings it applies to", prefix)
	}
	return ms, exitOK
}

// mappingRecord is the v=oci1 record of mapping n: --registry or
// --delegate (ev) under prefix, with the attributes given before it; from
// names the flags for messages.
func mappingRecord(n int, prefix string, ev flagEvent, attrs []flagEvent) (record, from string, err error) {
	pairs := []string{"v=oci1"}
	from = fmt.Sprintf("mapping %d (", n)
	if prefix != "" {
		pairs = append(pairs, "prefix="+prefix)
		from += "--prefix " + prefix + " "
	}
	pairs = append(pairs, ev.flag+"="+ev.value)
	from += "--" + ev.flag + " " + ev.value
	for _, a := range attrs {
		pairs = append(pairs, a.flag+"="+a.value)
		from += " --" + a.flag + " " + a.value
	}
	from += ")"
	for _, p := range pairs {
		if strings.ContainsAny(p, ";\"\\") {
			return "", from, fmt.Errorf("%s: %q: a value must not contain ';', '\"' or '\\'", from, p)
		}
	}
	return strings.Join(pairs, "; "), from, nil
}

// mappingsFromFile reads one v=oci1 record a line.
func mappingsFromFile(ctx context.Context, name string, opt discovery.ParseOptions, stdio IO) ([]sourcedMapping, int) {
	var r io.Reader
	if name == "-" {
		r = stdio.In
	} else {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stdio.Err, "ocidns records:", err)
			return nil, exitFailed
		}
		defer f.Close()
		r = f
	}
	if name == "-" {
		name = "standard input"
	}
	lr := &io.LimitedReader{R: r, N: maxRecordsFile + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxParseLine)
	var ms []sourcedMapping
	for n := 1; sc.Scan(); n++ {
		if ctx.Err() != nil {
			return nil, exitFailed
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		from := fmt.Sprintf("%s line %d", name, n)
		rec, err := recordText(line)
		if err != nil {
			fmt.Fprintf(stdio.Err, "ocidns records: %s: %v\n", from, err)
			return nil, exitFailed
		}
		sm, err := parseMapping(rec, from, opt)
		if err != nil {
			fmt.Fprintln(stdio.Err, "ocidns records:", err)
			return nil, exitFailed
		}
		ms = append(ms, sm)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than %d bytes", maxParseLine)
		}
		fmt.Fprintf(stdio.Err, "ocidns records: %s: %v\n", name, err)
		return nil, exitFailed
	}
	if lr.N <= 0 {
		fmt.Fprintf(stdio.Err, "ocidns records: %s: longer than %d bytes\n", name, maxRecordsFile)
		return nil, exitFailed
	}
	return ms, exitOK
}

// recordText is the record a line holds: bare text, or the quoted
// character-strings of a zone file, unquoted and joined as resolvers do.
func recordText(line string) (string, error) {
	if !strings.HasPrefix(line, `"`) {
		return line, nil
	}
	rr, err := dns.NewRR(". 0 IN TXT " + line)
	if err != nil {
		return "", fmt.Errorf("quoted TXT strings: %w", err)
	}
	txt, ok := rr.(*dns.TXT)
	if !ok {
		return "", errors.New("not TXT strings")
	}
	return discovery.TXTString(txt), nil
}

// parseMapping reads one record with the resolver's own parser and puts it
// in canonical form; errors name where the record came from.
func parseMapping(rec, from string, opt discovery.ParseOptions) (sourcedMapping, error) {
	m, err := discovery.ParseTXT(rec, opt)
	if errors.Is(err, discovery.ErrNotOCI) {
		err = fmt.Errorf("%q is not a v=oci1 record: a mapping starts with \"v=oci1;\"", rec)
	}
	if err != nil {
		return sourcedMapping{}, fmt.Errorf("%s: %w", from, err)
	}
	return canonical(m, from, opt)
}

// canonical puts m in canonical form and checks that the canonical text
// reads back, by the clients' parser, as the same mapping.
func canonical(m discovery.Mapping, from string, opt discovery.ParseOptions) (sourcedMapping, error) {
	c, err := discovery.ValidateMapping(m, opt)
	if err != nil {
		return sourcedMapping{}, fmt.Errorf("%s: %w", from, err)
	}
	text := discovery.FormatTXT(c)
	back, err := discovery.ParseTXT(text, opt)
	if err != nil {
		return sourcedMapping{}, fmt.Errorf("%s: the canonical record %q does not parse back: %w", from, text, err)
	}
	c.Record, back.Record = text, text
	if back != c {
		return sourcedMapping{}, fmt.Errorf("%s: the canonical record %q reads back as %+v, not %+v", from, text, back, c)
	}
	return sourcedMapping{m: c, from: from}, nil
}

// checkMappingSet refuses what clients would refuse (conflicts, as Select
// finds them; a delegation loop) and what is surely a slip (the same
// mapping twice). host is the publishing host, "" when unknown.
func checkMappingSet(ms []sourcedMapping, host string) error {
	all := make([]discovery.Mapping, len(ms))
	for i, sm := range ms {
		all[i] = sm.m
		if err := checkSelfDelegation(sm, host); err != nil {
			return err
		}
	}
	for i, sm := range ms {
		for _, prev := range ms[:i] {
			if prev.m.Prefix == sm.m.Prefix && discovery.FormatTXT(prev.m) == discovery.FormatTXT(sm.m) {
				return fmt.Errorf("%s repeats %s", sm.from, prev.from)
			}
		}
	}
	if cs := discovery.Conflicts(all); len(cs) > 0 {
		return fmt.Errorf("%s and %s conflict: %w", fromOf(ms, cs[0].A), fromOf(ms, cs[0].B), cs[0])
	}
	return nil
}

// checkSelfDelegation refuses a delegation of the whole host to the host
// itself: every name would come back to the same host and path, which
// clients end as a loop (protocol.md §7). With a prefix, the same target
// strips the prefix and continues, which is a rewrite, not a loop.
func checkSelfDelegation(sm sourcedMapping, host string) error {
	if sm.m.Delegate == "" || sm.m.Prefix != "" || host == "" {
		return nil
	}
	// The delegate is canonical (lower case, no root dot); the host as typed.
	if strings.EqualFold(sm.m.Delegate, strings.TrimSuffix(host, ".")) {
		return fmt.Errorf("%s: delegate=%s without a prefix sends every name of %s back to itself, a loop clients refuse: delegate to another host, or give a --prefix", sm.from, sm.m.Delegate, sm.m.Delegate)
	}
	return nil
}

func fromOf(ms []sourcedMapping, m discovery.Mapping) string {
	for _, sm := range ms {
		if sm.m == m {
			return sm.from
		}
	}
	return strconv.Quote(m.Record)
}

// wellKnownDocument writes the document and checks that the clients'
// parsers read the same mappings and keys back from it.
func wellKnownDocument(ms []sourcedMapping, keys []sourcedKey, opt discovery.ParseOptions) ([]byte, error) {
	all := make([]discovery.Mapping, len(ms))
	want := make([]string, len(ms))
	for i, sm := range ms {
		all[i] = sm.m
		want[i] = discovery.FormatTXT(sm.m)
	}
	pks := make([]discovery.PublishedKey, len(keys))
	wantKeys := make([]string, len(keys))
	for i, sk := range keys {
		pks[i] = sk.k
		wantKeys[i] = discovery.FormatSignerTXT(sk.k)
	}
	doc, err := discovery.FormatWellKnownWithSigners(all, pks)
	if err != nil {
		return nil, err
	}
	back, backKeys, err := discovery.ParseWellKnownWithSigners(doc, opt)
	if err != nil {
		return nil, fmt.Errorf("the well-known document does not parse back: %w", err)
	}
	got := make([]string, len(back))
	for i, m := range back {
		got[i] = discovery.FormatTXT(m)
	}
	gotKeys := make([]string, len(backKeys))
	for i, k := range backKeys {
		gotKeys[i] = discovery.FormatSignerTXT(k)
	}
	for _, l := range [][]string{want, got, wantKeys, gotKeys} {
		slices.Sort(l)
	}
	if !slices.Equal(got, want) {
		return nil, fmt.Errorf("the well-known document reads back as %q, not %q", got, want)
	}
	if !slices.Equal(gotKeys, wantKeys) {
		return nil, fmt.Errorf("the well-known document's signers read back as %q, not %q", gotKeys, wantKeys)
	}
	return doc, nil
}

// zoneTXT formats a TXT record on one zone-file line: owner, TTL, class,
// type and each character-string quoted, with '"' and '\' escaped and bytes
// outside printable ASCII written as \DDD (RFC 1035 §5.1).
func zoneTXT(rr *dns.TXT) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d IN TXT", rr.Hdr.Name, rr.Hdr.Ttl)
	for _, s := range rr.Txt {
		b.WriteByte(' ')
		b.WriteString(quoteCharString(s))
	}
	return b.String()
}

// quoteCharString quotes one DNS character-string for a zone file.
func quoteCharString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// insecureMatch matches host or host:port against the --insecure-registry
// list, as the resolver does.
func insecureMatch(hosts []string) func(string) bool {
	if len(hosts) == 0 {
		return nil
	}
	set := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		set[strings.ToLower(h)] = true
	}
	return func(hp string) bool { return set[strings.ToLower(hp)] }
}

var _ pflag.Value = (*orderedFlag)(nil)
