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
		v, vEnd, err := scanValue(s, i+1, "version")
		if err != nil {
			return Reference{}, err
		}
		r.tag, r.short = v, true
		i = vEnd
		if i < len(s) && s[i] == ':' { // scanValue stops only at ',' or ':' or the end
			return Reference{}, newError(s, i, s[end:componentEndComma(s, i)], ErrInvalidLabel,
				"at most one ':' (name:version), before the first ','")
		}
	}
	// Duplicate keys are found by rereading the labels already accepted;
	// past a few, a map keeps hostile inputs linear.
	const scanLimit = 16
	count := 0
	if r.short {
		count = 1
	}
	var seen map[string]bool
	for i < len(s) {
		// s[i] == ',' here: scanValue and the name scan stop nowhere else.
		labelAt := i + 1
		kEnd, kf := scanIdentifier(s, labelAt, false)
		if kf != nil {
			return Reference{}, kf
		}
		if kEnd == len(s) || s[kEnd] != '=' {
			detail := "a label is key=value"
			if kEnd < len(s) && s[kEnd] != ',' {
				detail = "unexpected " + describe(s[kEnd]) + " in label key; keys are lowercase a-z, 0-9 and single '-', '.', '_', '~', '/' between them"
			}
			return Reference{}, newError(s, kEnd, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel, detail)
		}
		key := s[labelAt:kEnd]
		if key == "name" {
			return Reference{}, newError(s, labelAt, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel,
				"\"name\" is not a label: the name comes first, before any ','")
		}
		var dup bool
		if count < scanLimit {
			it := labelIter{rest: s[end:i], short: r.short}
			for k, _, ok := it.next(); ok && !dup; k, _, ok = it.next() {
				dup = k == key
			}
		} else {
			if seen == nil {
				seen = make(map[string]bool, 2*scanLimit)
				it := labelIter{rest: s[end:i], short: r.short}
				for k, _, ok := it.next(); ok; k, _, ok = it.next() {
					seen[k] = true
				}
			}
			dup = seen[key]
			seen[key] = true
		}
		if dup {
			detail := "duplicate label " + quote(key)
			if key == "version" && r.short {
				detail += "; name:version already set it"
			}
			return Reference{}, newError(s, labelAt, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel, detail)
		}
		v, vEnd, err := scanValue(s, kEnd+1, key)
		if err != nil {
			return Reference{}, err
		}
		if vEnd < len(s) && s[vEnd] == ':' {
			return Reference{}, newError(s, vEnd, s[labelAt:componentEndComma(s, labelAt)], ErrInvalidLabel,
				"':' is allowed only once, between the name and its version, before the first ','")
		}
		if key == "version" {
			r.tag = v
		}
		count++
		i = vEnd
	}
	return r, nil
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
