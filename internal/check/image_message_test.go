package check

import (
	"context"
	"errors"
	"testing"
)

// TestImageFindingsNameTheImageOnce: IMAGE_UNSIGNED and IMAGE_UNRESOLVED
// quote the error of Config.CheckName with the name once: an error that
// words itself without the name (the resolver's *Error: Reason) by that,
// any other by its whole text, after the name.
func TestImageFindingsNameTheImageOnce(t *testing.T) {
	l := newLab(t, nil)
	const name = "good.example.com/app:v1"
	for _, tc := range []struct {
		name string
		res  NameResult
		code string
		msg  string
	}{
		{"unresolved, error names the image", NameResult{Err: refError{name, "HEAD manifest: not found"}},
			CodeImageUnresolved, name + ": HEAD manifest: not found"},
		{"unresolved, error without the name", NameResult{Err: context.DeadlineExceeded},
			CodeImageUnresolved, name + ": context deadline exceeded"},
		{"unsigned, error names the image", NameResult{Err: refError{name, "signature missing"}, Code: "SIGNATURE_MISSING", Checked: true},
			CodeImageUnsigned, name + ": signature missing: clients refuse it"},
		{"unsigned, error without the name", NameResult{Err: errors.New("signature missing"), Code: "SIGNATURE_MISSING", Checked: true},
			CodeImageUnsigned, name + ": signature missing: clients refuse it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := l.check(t, "good.example.com", func(c *Config) {
				c.NoRegistryProbe = true
				c.Names = []string{name}
				c.CheckName = func(context.Context, string) NameResult { return tc.res }
			})
			f, ok := find(fs, tc.code)
			if !ok || f.Message != tc.msg || f.Record != name {
				t.Errorf("want %s %q; got:\n%s", tc.code, tc.msg, dump(fs))
			}
		})
	}
}

// refError is worded as the resolver's *Error is: the reference, then
// Reason.
type refError struct{ ref, reason string }

func (e refError) Error() string  { return e.ref + ": " + e.reason }
func (e refError) Reason() string { return e.reason }
