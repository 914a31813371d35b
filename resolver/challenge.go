package resolver

import (
	"fmt"
	"sort"
	"strings"
)

// This file parses WWW-Authenticate (RFC 7235 §4.1), the registry's answer
// to "who may read this?". The grammar, with the list rule of RFC 7230 §7
// (empty elements allowed, OWS around commas):
//
//	WWW-Authenticate = 1#challenge
//	challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//	auth-param       = token BWS "=" BWS ( token / quoted-string )
//	token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//	quoted-string    = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//	quoted-pair      = "\" ( HTAB / SP / VCHAR / obs-text )
//
// Commas separate both challenges and the parameters of one challenge; an
// element "token BWS =" continues the current challenge, anything else
// starts the next one. Several header fields are one list (RFC 7230 §3.2.2).

// maxChallengeHeader bounds the header text parsed: a registry needs a few
// hundred bytes, and the transport already bounds all headers.
const maxChallengeHeader = 16 << 10

// challenge is one parsed authentication challenge.
type challenge struct {
	// Scheme is the auth-scheme as sent; compare it case-insensitively.
	Scheme string
	// Params maps lower-cased parameter names to their (unquoted) values.
	Params map[string]string
	// Token68 is the token68 form's value, exclusive with Params.
	Token68 string
}

// is reports whether the challenge's scheme is s (case-insensitive).
func (c challenge) is(s string) bool { return strings.EqualFold(c.Scheme, s) }

// challengeError is a malformed WWW-Authenticate header.
type challengeError struct {
	Header string
	Offset int
	Msg    string
}

func (e *challengeError) Error() string {
	h := e.Header
	if len(h) > 200 {
		h = h[:200] + "..."
	}
	return fmt.Sprintf("malformed WWW-Authenticate %q: %s at offset %d", h, e.Msg, e.Offset)
}

// parseChallenges parses the values of every WWW-Authenticate field of a
// response. It never panics; a malformed header gives a *challengeError
// naming the byte offset in the fields joined by ", ".
func parseChallenges(values []string) ([]challenge, error) {
	s := strings.Join(values, ", ")
	if len(s) > maxChallengeHeader {
		return nil, &challengeError{Header: s, Offset: maxChallengeHeader, Msg: fmt.Sprintf("longer than %d bytes", maxChallengeHeader)}
	}
	p := chParser{s: s}
	var out []challenge
	for {
		p.skipListSeparators()
		if p.eof() {
			break
		}
		c, err := p.challenge()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, &challengeError{Header: s, Msg: "no challenge"}
	}
	return out, nil
}

type chParser struct {
	s string
	i int
}

func (p *chParser) eof() bool { return p.i >= len(p.s) }

func (p *chParser) fail(msg string) error {
	return &challengeError{Header: p.s, Offset: p.i, Msg: msg}
}

// skipOWS skips optional whitespace and returns how much it skipped.
func (p *chParser) skipOWS() int {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	return p.i - start
}

// skipListSeparators skips OWS and any number of commas (empty list
// elements are allowed and ignored).
func (p *chParser) skipListSeparators() {
	for {
		p.skipOWS()
		if p.eof() || p.s[p.i] != ',' {
			return
		}
		p.i++
	}
}

func (p *chParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *chParser) challenge() (challenge, error) {
	c := challenge{Scheme: p.token()}
	if c.Scheme == "" {
		return c, p.fail(fmt.Sprintf("expected an auth-scheme, found %q", p.s[p.i]))
	}
	sp := p.skipOWS()
	if p.eof() || p.s[p.i] == ',' {
		return c, nil
	}
	if sp == 0 {
		return c, p.fail("expected a space after the auth-scheme")
	}
	if t, ok := p.token68(); ok {
		c.Token68 = t
		return c, nil
	}
	for first := true; ; first = false {
		start := p.i
		name, val, ok, err := p.param()
		if err != nil {
			return c, err
		}
		if !ok {
			p.i = start
			if first {
				return c, p.fail("expected an auth-param (name=value)")
			}
			return c, nil // not a parameter: the next challenge starts here
		}
		key := strings.ToLower(name)
		if c.Params == nil {
			c.Params = make(map[string]string, 4)
		}
		if _, dup := c.Params[key]; dup {
			// RFC 7235 §2.1: each parameter name MUST only occur once.
			return c, &challengeError{Header: p.s, Offset: start, Msg: fmt.Sprintf("parameter %q repeated", key)}
		}
		c.Params[key] = val
		p.skipOWS()
		if p.eof() {
			return c, nil
		}
		if p.s[p.i] != ',' {
			return c, p.fail(fmt.Sprintf("expected ',' after parameter %q", key))
		}
		p.skipListSeparators()
		if p.eof() {
			return c, nil
		}
	}
}

// param reads one auth-param, name=value with the value a token or a
// quoted-string; ok is false, and nothing read counts, when what follows
// is no name and '='.
func (p *chParser) param() (name, val string, ok bool, err error) {
	name = p.token()
	p.skipOWS()
	if name == "" || p.eof() || p.s[p.i] != '=' {
		return "", "", false, nil
	}
	p.i++ // '='
	p.skipOWS()
	if !p.eof() && p.s[p.i] == '"' {
		val, err = p.quoted()
		return name, val, err == nil, err
	}
	if val = p.token(); val == "" {
		return name, "", false, p.fail(fmt.Sprintf("expected a token or quoted-string value for %q", name))
	}
	return name, val, true, nil
}

// token68 consumes a token68 when the rest of the list element is exactly
// one; otherwise it consumes nothing.
func (p *chParser) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	end := j
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return "", false
	}
	t := p.s[p.i:end]
	p.i = j
	return t, true
}

// quoted reads a quoted-string starting at the opening quote and returns it
// unescaped.
func (p *chParser) quoted() (string, error) {
	open := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		ch := p.s[p.i]
		switch {
		case ch == '"':
			p.i++
			return b.String(), nil
		case ch == '\\':
			if p.i+1 >= len(p.s) {
				p.i++
				return "", p.fail("quoted-string ends inside an escape")
			}
			if e := p.s[p.i+1]; !isQuotedPairChar(e) {
				p.i++
				return "", p.fail(fmt.Sprintf("control character %#x escaped in a quoted-string", e))
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case ch == '\t' || ch == ' ' || (ch >= 0x21 && ch != 0x7f):
			b.WriteByte(ch)
			p.i++
		default:
			return "", p.fail(fmt.Sprintf("control character %#x in a quoted-string", ch))
		}
	}
	return "", &challengeError{Header: p.s, Offset: open, Msg: "unterminated quoted-string"}
}

// isTchar reports RFC 7230 tchar.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

func isQuotedPairChar(c byte) bool { return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f) }

// formatChallenges writes challenges back in canonical form (parameters
// sorted, every value quoted); parseChallenges of the result gives them
// back. Used by tests and the fuzz target.
func formatChallenges(cs []challenge) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Scheme)
		if c.Token68 != "" {
			b.WriteString(" " + c.Token68)
			continue
		}
		keys := make([]string, 0, len(c.Params))
		for k := range c.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for j, k := range keys {
			if j == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(", ")
			}
			b.WriteString(k + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(c.Params[k]) + `"`)
		}
	}
	return b.String()
}
