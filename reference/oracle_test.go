package reference

import (
	"errors"
	"fmt"
	"strings"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// outcome is what a parser said about one input, in terms both parsers share.
type outcome struct {
	Valid                   bool
	Class                   string // error class when !Valid
	Domain, Path, Tag, Name string
	Digest                  string
	Str                     string
}

func (o outcome) describe() string {
	if !o.Valid {
		return "invalid(" + o.Class + ")"
	}
	return fmt.Sprintf("domain=%q path=%q tag=%q digest=%q name=%q string=%q", o.Domain, o.Path, o.Tag, o.Digest, o.Name, o.Str)
}

func isDigestErr(err error) bool {
	return errors.Is(err, digest.ErrDigestUnsupported) ||
		errors.Is(err, digest.ErrDigestInvalidLength) ||
		errors.Is(err, digest.ErrDigestInvalidFormat)
}

// oracleOutcome runs distribution/reference.
func oracleOutcome(s string, normalized bool) outcome {
	var ref dref.Reference
	var err error
	if normalized {
		ref, err = dref.ParseNormalizedNamed(s)
	} else {
		ref, err = dref.Parse(s)
	}
	if err != nil {
		class := "format"
		switch {
		case isDigestErr(err):
			class = "digest"
		case errors.Is(err, dref.ErrNameEmpty):
			class = "empty"
		case errors.Is(err, dref.ErrNameContainsUppercase):
			class = "upper"
		case errors.Is(err, dref.ErrNameTooLong):
			class = "long"
		case strings.Contains(err.Error(), "64-byte hexadecimal"):
			class = "canonical"
		case strings.Contains(err.Error(), "must be lowercase"): // ParseNormalizedNamed's own check
			class = "upper"
		case errors.Is(err, dref.ErrReferenceInvalidFormat):
		default:
			class = "other: " + err.Error()
		}
		return outcome{Class: class}
	}
	o := outcome{Valid: true, Str: ref.String()}
	if n, ok := ref.(dref.Named); ok {
		o.Domain, o.Path, o.Name = dref.Domain(n), dref.Path(n), n.Name()
	}
	if t, ok := ref.(dref.Tagged); ok {
		o.Tag = t.Tag()
	}
	if d, ok := ref.(dref.Digested); ok {
		o.Digest = d.Digest().String()
	}
	return o
}

// ourOutcome runs this package and maps its errors onto distribution's classes.
func ourOutcome(s string, normalized bool) outcome {
	var r Reference
	var err error
	if normalized {
		r, err = ParseNormalized(s)
	} else {
		r, err = Parse(s)
	}
	if err != nil {
		class := "format"
		switch {
		case isDigestErr(err):
			class = "digest"
		case errors.Is(err, ErrNameEmpty):
			class = "empty"
		case errors.Is(err, ErrNameContainsUppercase):
			class = "upper"
		case errors.Is(err, ErrNameTooLong):
			class = "long"
		case errors.Is(err, ErrNameNotCanonical):
			class = "canonical"
		case errors.Is(err, ErrInvalidFormat):
		default:
			class = "other: " + err.Error()
		}
		return outcome{Class: class}
	}
	return outcome{Valid: true, Domain: r.Domain(), Path: r.Path(), Tag: r.Tag(), Name: r.Name(),
		Digest: r.Digest().String(), Str: r.String()}
}

// compareWithOracle returns a description of any disagreement, "" if none.
func compareWithOracle(s string, normalized bool) string {
	want, got := oracleOutcome(s, normalized), ourOutcome(s, normalized)
	if normalized && s == "" {
		// Documented difference: distribution builds "docker.io/library/"
		// and calls it a format error; we say the name is empty.
		want.Class = "empty"
	}
	if want != got {
		fn := "Parse"
		if normalized {
			fn = "ParseNormalized"
		}
		return fmt.Sprintf("%s(%q):\n  distribution: %s\n  ocidns:       %s", fn, s, want.describe(), got.describe())
	}
	return ""
}
