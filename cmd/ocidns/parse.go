package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ocidns/ocidns/reference"
)

// maxParseLine bounds one line of standard input, so a stray binary file
// piped in costs bounded memory.
const maxParseLine = 64 << 10

func init() {
	register(command{
		name:    "parse",
		summary: "parse and explain image names in docker or appc form",
		usage:   parseUsage,
		run:     runParse,
	})
}

const parseUsage = "ocidns parse [--normalize] [-o text|json] [REF...]"

const parseAbout = `Parse each REF (or each line of standard input when there is none) and
explain its parts: domain, path, tag, digest, appc labels and platform.
A REF with a ',' is in appc form (name[:version],key=value,...), any other
is in docker form, parsed exactly as github.com/distribution/reference does.
--normalize applies Docker's rules: "ubuntu" is docker.io/library/ubuntu.

Exit status: 0 all valid, 1 any invalid, 2 usage error. Each invalid REF is
reported on standard error, one line each.`

func runParse(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("parse")
	normalize := fs.Bool("normalize", false, "qualify short names the Docker way (docker.io, library/)")
	output := fs.StringP("output", "o", "text", "output format: text or json (one object per line)")
	if code, done := parseFlags(fs, parseUsage, parseAbout, args, stdio); done {
		return code
	}
	if *output != "text" && *output != "json" {
		return usageError(stdio, "parse", "-o must be text or json, not %q", *output)
	}
	p := parsePrinter{stdio: stdio, json: *output == "json", normalize: *normalize}
	p.enc = json.NewEncoder(stdio.Out)
	p.enc.SetEscapeHTML(false)

	if fs.NArg() > 0 {
		for _, ref := range fs.Args() {
			if ctx.Err() != nil {
				return exitFailed
			}
			p.one(ref)
		}
	} else if err := eachLine(ctx, stdio.In, maxParseLine, p.one, func(line int, err error) {
		fmt.Fprintf(stdio.Err, "ocidns parse: standard input line %d: %v\n", line, err)
		p.failed = true
	}); err != nil {
		fmt.Fprintf(stdio.Err, "ocidns parse: reading standard input: %v\n", err)
		return exitFailed
	}
	if p.writeErr != nil {
		fmt.Fprintf(stdio.Err, "ocidns parse: writing output: %v\n", p.writeErr)
		return exitFailed
	}
	if p.failed {
		return exitFailed
	}
	return exitOK
}

// eachLine calls fn for every non-blank line of r that does not start with
// '#', trimmed of surrounding white space. A line longer than max bytes is
// skipped and reported to bad with its number; reading goes on. The error
// is a read error other than EOF, or ctx's.
func eachLine(ctx context.Context, r io.Reader, max int, fn func(string), bad func(line int, err error)) error {
	br := bufio.NewReaderSize(r, max)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			bad(n, fmt.Errorf("longer than %d bytes; skipped", max))
			for errors.Is(err, bufio.ErrBufferFull) { // discard the rest of the line
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if s := strings.TrimSpace(string(line)); s != "" && !strings.HasPrefix(s, "#") {
			fn(s)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type parsePrinter struct {
	stdio     IO
	json      bool
	normalize bool
	enc       *json.Encoder
	failed    bool
	writeErr  error
}

// parseResult is the JSON shape of one reference (README, `ocidns parse`).
type parseResult struct {
	Input    string     `json:"input"`
	Valid    bool       `json:"valid"`
	Form     string     `json:"form,omitempty"`
	Domain   string     `json:"domain,omitempty"`
	Path     string     `json:"path,omitempty"`
	Tag      string     `json:"tag,omitempty"`
	Digest   string     `json:"digest,omitempty"`
	Labels   labelsJSON `json:"labels,omitempty"`
	String   string     `json:"string,omitempty"`
	Platform string     `json:"platform,omitempty"`
	Error    string     `json:"error,omitempty"`
	Offset   *int       `json:"offset,omitempty"`
}

// labelsJSON encodes appc labels as one object, keys in input order.
type labelsJSON []reference.Label

// MarshalJSON implements json.Marshaler.
func (ls labelsJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(l.Key)
		v, _ := json.Marshal(l.Value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (p *parsePrinter) one(ref string) {
	parse := reference.Parse
	if p.normalize {
		parse = reference.ParseNormalized
	}
	r, err := parse(ref)
	var plat reference.Platform
	var hasPlat bool
	if err == nil {
		plat, hasPlat, err = r.Platform()
	}
	if err != nil {
		p.failed = true
		refError(p.stdio, "parse", ref, err)
		if p.json {
			off := 0
			var pe *reference.ParseError
			if errors.As(err, &pe) {
				off = pe.Offset
			}
			p.emit(parseResult{Input: ref, Error: err.Error(), Offset: &off})
		}
		return
	}
	if p.json {
		res := parseResult{Input: ref, Valid: true, Form: r.Form().String(), Domain: r.Domain(), Path: r.Path(),
			Tag: r.Tag(), Digest: r.Digest().String(), Labels: r.Labels(), String: r.String()}
		if hasPlat {
			res.Platform = plat.String()
		}
		p.emit(res)
		return
	}
	p.write(explain(r, ref, plat, hasPlat))
}

func (p *parsePrinter) emit(res parseResult) {
	if p.writeErr == nil {
		p.writeErr = p.enc.Encode(res)
	}
}

func (p *parsePrinter) write(s string) {
	if p.writeErr == nil {
		_, p.writeErr = io.WriteString(p.stdio.Out, s)
	}
}

// explain describes a valid reference for a person, one part a line.
func explain(r reference.Reference, input string, plat reference.Platform, hasPlat bool) string {
	var e explanation
	e.b.WriteString(input + "\n")
	e.parts(r)
	if ls := r.Labels(); len(ls) > 0 {
		kv := make([]string, len(ls))
		for i, l := range ls {
			kv[i] = l.Key + "=" + l.Value
		}
		e.line("labels", strings.Join(kv, " "), "")
	}
	if hasPlat {
		e.line("platform", plat.String(), "from the os/arch/variant labels")
	}
	if r.String() != input {
		e.line("normalized", r.String(), "")
	}
	e.otherForm(r)
	e.b.WriteByte('\n')
	return e.b.String()
}

// explanation is the text of explain, a line a part of the name.
type explanation struct{ b strings.Builder }

// line writes part k, its value v and a note on it.
func (e *explanation) line(k, v, note string) {
	fmt.Fprintf(&e.b, "  %-10s %s", k+":", v)
	if note != "" {
		e.b.WriteString("  (" + note + ")")
	}
	e.b.WriteByte('\n')
}

// parts explains r's form, domain, path, tag and digest.
func (e *explanation) parts(r reference.Reference) {
	if r.Form() == reference.FormAppc {
		e.line("form", "appc", "name[:version],key=value,...")
	} else {
		e.line("form", "docker", "[domain/]path[:tag][@digest]")
	}
	switch {
	case r.Domain() == "":
		e.line("domain", "-", "none: a short name; qualify it with a search domain or --normalize")
	case r.IsShort():
		e.line("domain", r.Domain(), "parses as a host, but with no '.' or ':' and not localhost Docker calls this a short name: qualify it")
	default:
		e.line("domain", r.Domain(), "registry host")
	}
	e.line("path", r.Path(), "repository on that registry")
	if r.Tag() != "" {
		note := "a mutable name, resolved to a digest"
		if r.Form() == reference.FormAppc {
			note = "the version label"
		}
		e.line("tag", r.Tag(), note)
	}
	if r.Digest() != "" {
		e.line("digest", r.Digest().String(), "content address: pins exact bytes, no resolution needed")
	}
}

// otherForm explains r in the other form (and an appc name's canonical
// order), or why it has none.
func (e *explanation) otherForm(r reference.Reference) {
	if r.Form() != reference.FormAppc {
		if a, err := r.ToAppc(); err == nil {
			e.line("as appc", a.String(), "")
		} else {
			e.line("as appc", "-", err.Error())
		}
		return
	}
	if r.Canonical() != r.String() {
		e.line("canonical", r.Canonical(), "labels sorted")
	}
	if d, err := r.ToDocker(); err == nil {
		e.line("as docker", d.String(), "")
	} else {
		e.line("as docker", "-", err.Error())
	}
}
