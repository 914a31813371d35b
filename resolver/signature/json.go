package signature

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// This file reads JSON the way signed documents must be read: member names
// matched exactly (encoding/json's struct decoding folds case, so
// "Docker-Reference" would pass for "docker-reference"), a member twice in
// one object rejected (parsers disagree on which copy wins, which lets one
// signed document mean two things), invalid UTF-8 rejected (encoding/json
// silently replaces it), nothing after the value, and the nesting bounded.

// maxJSONDepth bounds nesting; cosign's documents nest five deep.
const maxJSONDepth = 32

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// jsonValue is one parsed value. Objects keep their members in order.
type jsonValue struct {
	kind  jsonKind
	str   string // a string's value, a number's text
	keys  []string
	elems []*jsonValue // object member values (parallel to keys) or array elements
	off   int64        // byte offset where the value starts
}

// member returns the value of the object member named exactly key, or nil.
func (v *jsonValue) member(key string) *jsonValue {
	if i := slices.Index(v.keys, key); i >= 0 {
		return v.elems[i]
	}
	return nil
}

// jsonError is a document that is not valid JSON, or not the JSON a format
// wants: the JSON path of the value at fault ("critical.identity"), its byte
// offset, and the cause.
type jsonError struct {
	Path   string
	Offset int64
	Err    error
}

func (e *jsonError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("%s at offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *jsonError) Unwrap() error { return e.Err }

func jsonErrf(path string, off int64, format string, args ...any) error {
	return &jsonError{Path: path, Offset: off, Err: fmt.Errorf(format, args...)}
}

// parseJSON parses data as one strict JSON value.
func parseJSON(data []byte) (*jsonValue, error) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, jsonErrf("", int64(off), "invalid UTF-8")
	}
	p := jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	v, err := p.value("", 0)
	if err != nil {
		return nil, err
	}
	off := p.next()
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, jsonErrf("", off, "data after the JSON value")
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
}

// next is the offset where the next token starts.
func (p *jsonParser) next() int64 {
	o := p.dec.InputOffset()
	for o < int64(len(p.data)) {
		switch p.data[o] {
		case ' ', '\t', '\r', '\n', ':', ',':
			o++
			continue
		}
		break
	}
	return o
}

func (p *jsonParser) token(path string) (json.Token, int64, error) {
	off := p.next()
	t, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, off, jsonErrf(path, off, "invalid JSON: %v", se)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, int64(len(p.data)), jsonErrf(path, int64(len(p.data)), "invalid JSON: unexpected end")
		}
		return nil, off, jsonErrf(path, off, "invalid JSON: %v", err)
	}
	return t, off, nil
}

// value reads one value, whose path is path, nested depth deep.
func (p *jsonParser) value(path string, depth int) (*jsonValue, error) {
	t, off, err := p.token(path)
	if err != nil {
		return nil, err
	}
	v := &jsonValue{off: off}
	switch t := t.(type) {
	case nil:
		v.kind = jsonNull
	case bool:
		v.kind = jsonBool
		if t {
			v.str = "true"
		}
	case json.Number:
		v.kind, v.str = jsonNumber, string(t)
	case string:
		v.kind, v.str = jsonString, t
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, jsonErrf(path, off, "nested deeper than %d", maxJSONDepth)
		}
		if t == '[' {
			err = p.array(v, path, depth)
		} else {
			err = p.object(v, path, depth)
		}
		if err != nil {
			return nil, err
		}
		if _, _, err := p.token(path); err != nil { // the closing delimiter
			return nil, err
		}
	}
	return v, nil
}

// array reads into v the elements of the array whose '[' was just read.
func (p *jsonParser) array(v *jsonValue, path string, depth int) error {
	v.kind = jsonArray
	for i := 0; p.dec.More(); i++ {
		e, err := p.value(fmt.Sprintf("%s[%d]", path, i), depth+1)
		if err != nil {
			return err
		}
		v.elems = append(v.elems, e)
	}
	return nil
}

// object reads into v the members of the object whose '{' was just read,
// refusing a member name that appears twice.
func (p *jsonParser) object(v *jsonValue, path string, depth int) error {
	v.kind = jsonObject
	var seen map[string]bool
	for p.dec.More() {
		kt, koff, err := p.token(path)
		if err != nil {
			return err
		}
		key, _ := kt.(string) // the decoder only returns string keys here
		mpath := joinJSONPath(path, key)
		var dup bool
		if dup, seen = repeatedKey(v.keys, key, seen); dup {
			return jsonErrf(mpath, koff, "member %q appears twice", key)
		}
		e, err := p.value(mpath, depth+1)
		if err != nil {
			return err
		}
		v.keys = append(v.keys, key)
		v.elems = append(v.elems, e)
	}
	return nil
}

// repeatedKey reports whether key is among an object's keys so far, and
// returns seen with key added. seen stays nil for the first few members and
// then holds every key, so that an object of many members is not quadratic.
func repeatedKey(keys []string, key string, seen map[string]bool) (bool, map[string]bool) {
	if seen != nil {
		dup := seen[key]
		seen[key] = true
		return dup, seen
	}
	dup := slices.Contains(keys, key)
	if len(keys) >= 16 {
		seen = make(map[string]bool, 32)
		for _, k := range keys {
			seen[k] = true
		}
		seen[key] = true
	}
	return dup, seen
}

func joinJSONPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// objectMembers checks that v is an object holding every required member;
// when strict, a member neither required nor optional is an error.
func objectMembers(v *jsonValue, path string, strict bool, required []string, optional ...string) error {
	if v == nil {
		return jsonErrf(path, 0, "missing")
	}
	if v.kind != jsonObject {
		return jsonErrf(path, v.off, "%s, want an object", v.kind)
	}
	for _, r := range required {
		if v.member(r) == nil {
			return jsonErrf(path, v.off, "no member %q", r)
		}
	}
	if strict {
		for i, k := range v.keys {
			if !slices.Contains(required, k) && !slices.Contains(optional, k) {
				return jsonErrf(joinJSONPath(path, k), v.elems[i].off, "unknown member %q", k)
			}
		}
	}
	return nil
}

// stringMember returns the string value of v's member key.
func stringMember(v *jsonValue, path, key string) (string, error) {
	m := v.member(key)
	p := joinJSONPath(path, key)
	if m == nil {
		return "", jsonErrf(path, v.off, "no member %q", key)
	}
	if m.kind != jsonString {
		return "", jsonErrf(p, m.off, "%s, want a string", m.kind)
	}
	return m.str, nil
}
