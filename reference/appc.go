package reference

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseAppc parses name[:version](,key=value)+ — see the package grammar.
func parseAppc(s string) (Reference, error) {
	end, f := scanIdentifier(s, 0, true)
	if f != nil {
		return Reference{}, f
	}
	if end == len(s) || (s[end] != ':' && s[end] != ',') {
		return Reference{}, appcNameError(s, end)
	}
	r := Reference{s: s, form: FormAppc}
	name := s[:end]
	r.path = name
	if j := strings.IndexByte(name, '/'); j > 0 && (strings.IndexByte(name[:j], '.') >= 0 || name[:j] == "localhost") {
		r.domain, r.path = name[:j], name[j+1:]
	}
	i := end
	if s[i] == ':' {
		if i, f = r.scanShortVersion(s, end); f != nil {
			return Reference{}, f
		}
	}
	if f := r.scanLabels(s, end, i); f != nil {
		return Reference{}, f
	}
	return r, nil
}

// scanShortVersion reads the version of name:version, the name ending at
// end, and returns where it ends.
func (r *Reference) scanShortVersion(s string, end int) (int, *ParseError) {
	v, vEnd, err := scanValue(s, end+1, "version")
	if err != nil {
		return 0, err
	}
	r.tag, r.short = v, true
	if vEnd < len(s) && s[vEnd] == ':' { // scanValue stops only at ',' or ':' or the end
		return 0, newError(s, vEnd, s[end:componentEndComma(s, vEnd)], ErrInvalidLabel,
			"at most one ':' (name:version), before the first ','")
	}
	return vEnd, nil
}

// scanLabels reads the labels ",key=value" from s[i:] to the end, the name
// ending at end; the version label sets r's tag.
func (r *Reference) scanLabels(s string, end, i int) *ParseError {
	dups := labelDups{short: r.short}
	if r.short {
		dups.count = 1
	}
	for i < len(s) {
		// s[i] == ',' here: scanValue and the name scan stop nowhere else.
		labelAt := i + 1
		kEnd, f := scanLabelKey(s, labelAt)
		if f != nil {
			return f
		}
		key := s[labelAt:kEnd]
		if dups.seen(s[end:i], key) {
			detail := "duplicate label " + quote(key)
			if key == "version" && r.short {
				detail += "; name:version already set it"
			}
			return newError(s, labelAt, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel, detail)
		}
		v, vEnd, err := scanValue(s, kEnd+1, key)
		if err != nil {
			return err
		}
		if vEnd < len(s) && s[vEnd] == ':' {
			return newError(s, vEnd, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel,
				"':' is allowed only once, between the name and its version, before the first ','")
		}
		if key == "version" {
			r.tag = v
		}
		i = vEnd
	}
	return nil
}

// scanLabelKey reads the key of the label at labelAt, up to its '=', and
// returns where it ends.
func scanLabelKey(s string, labelAt int) (int, *ParseError) {
	kEnd, f := scanIdentifier(s, labelAt, false)
	if f != nil {
		return 0, f
	}
	if kEnd == len(s) || s[kEnd] != '=' {
		detail := "a label is key=value"
		if kEnd < len(s) && s[kEnd] != ',' {
			detail = "unexpected " + describe(s[kEnd]) + " in label key; keys are lowercase a-z, 0-9 and single '-', '.', '_', '~', '/' between them"
		}
		return 0, newError(s, kEnd, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel, detail)
	}
	if s[labelAt:kEnd] == "name" {
		return 0, newError(s, labelAt, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel,
			"\"name\" is not a label: the name comes first, before any ','")
	}
	return kEnd, nil
}

// labelDups finds duplicate label keys by rereading the labels already
// accepted; past a few, a map keeps hostile inputs linear.
type labelDups struct {
	short bool // the labels read begin with name:version
	count int  // labels read, the version of name:version included
	keys  map[string]bool
}

// maxLabelRescan is how many labels are reread before a map takes over.
const maxLabelRescan = 16

// seen reports whether key is among the labels in read (the input after
// the name, up to key's label), and counts key's label.
func (d *labelDups) seen(read, key string) bool {
	defer func() { d.count++ }()
	if d.count < maxLabelRescan {
		it := labelIter{rest: read, short: d.short}
		for k, _, ok := it.next(); ok; k, _, ok = it.next() {
			if k == key {
				return true
			}
		}
		return false
	}
	if d.keys == nil {
		d.keys = make(map[string]bool, 2*maxLabelRescan)
		it := labelIter{rest: read, short: d.short}
		for k, _, ok := it.next(); ok; k, _, ok = it.next() {
			d.keys[k] = true
		}
	}
	dup := d.keys[key]
	d.keys[key] = true
	return dup
}

// normalizeAppc qualifies a short appc name with docker.io like Docker
// qualifies familiar names.
func normalizeAppc(s string) (Reference, error) {
	r, err := parseAppc(s)
	if err != nil || !r.IsShort() {
		return r, err
	}
	pre := prefixes[preDomain]
	if strings.IndexByte(r.Name(), '/') < 0 {
		pre = prefixes[preLibrary]
	}
	return parseAppc(pre + s)
}

// scanIdentifier scans an appc AC identifier, [a-z0-9]+([-._~/][a-z0-9]+)*,
// from s[i:] and returns where it ends. isName selects the error wording.
func scanIdentifier(s string, i int, isName bool) (int, *ParseError) {
	start := i
	need := true
	for ; i < len(s); i++ {
		c := s[i]
		if isLowerAlnum(c) {
			need = false
			continue
		}
		if need {
			break
		}
		if c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			need = true
			continue
		}
		break
	}
	if !need {
		return i, nil
	}
	what, kind := "label key", ErrInvalidLabel
	if isName {
		what, kind = "name", ErrInvalidFormat
	}
	comp := s[start:componentEndComma(s, start)]
	var detail string
	switch {
	case i >= len(s) || s[i] == ',' || s[i] == '=' || s[i] == ':':
		if i == start {
			detail = "empty " + what
		} else {
			detail = "an appc " + what + " must end with a lowercase letter or digit"
		}
	case isUpper(s[i]):
		if isName {
			kind = ErrNameContainsUppercase
		}
		detail = "an appc " + what + " is lowercase"
	case i > start && (s[i] == '-' || s[i] == '.' || s[i] == '_' || s[i] == '~' || s[i] == '/'):
		detail = "separators ('-', '.', '_', '~', '/') must sit between letters or digits, one at a time"
	default:
		detail = "an appc " + what + " must start with a lowercase letter or digit, not " + describe(s[i])
	}
	return 0, newError(s, i, comp, kind, detail)
}

func appcNameError(s string, end int) *ParseError {
	kind, detail := ErrInvalidFormat, ""
	switch {
	case end == len(s):
		detail = "expected ':' or ',' after the name"
	case isUpper(s[end]):
		kind, detail = ErrNameContainsUppercase, "an appc name is lowercase"
	default:
		detail = "unexpected " + describe(s[end]) + "; an appc name is lowercase a-z, 0-9 and single '-', '.', '_', '~', '/' between them"
	}
	return newError(s, end, s[:componentEndComma(s, 0)], kind, detail)
}

// scanValue scans a label value from s[i:] up to ',' or ':' or the end. A
// value is non-empty valid UTF-8 without ',', '=', ':', white space or
// control characters.
func scanValue(s string, i int, key string) (string, int, *ParseError) {
	start := i
	for i < len(s) {
		c := s[i]
		if c == ',' || c == ':' {
			break
		}
		if c < utf8.RuneSelf {
			if c == '=' || c <= ' ' || c == 0x7f {
				return "", 0, valueError(s, start, i, key, "unexpected "+describe(c)+" in the value of "+quote(key)+"; values have no '=', ',', ':', white space or control characters")
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return "", 0, valueError(s, start, i, key, "the value of "+quote(key)+" is not valid UTF-8")
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", 0, valueError(s, start, i, key, "the value of "+quote(key)+" has white space or a control character")
		}
		i += n
	}
	if i == start {
		return "", 0, valueError(s, start, i, key, "empty value for "+quote(key))
	}
	return s[start:i], i, nil
}

func valueError(s string, start, off int, key, detail string) *ParseError {
	return newError(s, off, s[start:componentEndComma(s, start)], ErrInvalidLabel, detail)
}

func componentEndComma(s string, i int) int {
	if j := strings.IndexByte(s[i:], ','); j >= 0 {
		return i + j
	}
	return len(s)
}
