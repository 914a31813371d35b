package reference

import (
	"errors"
	"strings"
	"testing"
)

// ValidatePath is the path production of the package grammar on its own;
// its errors carry the sentinel, the offset and the component at fault,
// and say what is wrong in a path's words.
func TestValidatePath(t *testing.T) {
	for _, ok := range []string{"a", "org/app", "a.b_c__d-e---f/x9", strings.Repeat("a", NameMaxLength)} {
		t.Run(ok, func(t *testing.T) {
			if err := ValidatePath(ok); err != nil {
				t.Errorf("ValidatePath(%q) = %v", ok, err)
			}
		})
	}
	for _, tc := range []struct {
		name, path string
		kind       error
		offset     int
		component  string
		msg        string
	}{
		{"empty", "", ErrNameEmpty, 0, "", "empty path"},
		{"too long", strings.Repeat("a", NameMaxLength+1), ErrNameTooLong, 0, strings.Repeat("a", NameMaxLength+1), "256 bytes long, more than 255"},
		{"leading slash", "/acme", ErrInvalidFormat, 0, "", "must not start with '/'"},
		{"trailing slash", "acme/", ErrInvalidFormat, 5, "", "must not end with '/'"},
		{"empty component", "acme//x", ErrInvalidFormat, 5, "", `empty path component at byte 5 ("//")`},
		{"uppercase", "org/Acme", ErrNameContainsUppercase, 4, "Acme", `uppercase letter 'A' in path component "Acme": repository paths are lowercase`},
		{"dot then dash", "a.-b", ErrInvalidFormat, 2, "a.-b", `separator ".-" in path component "a.-b"`},
		{"three underscores", "a___b", ErrInvalidFormat, 3, "a___b", `separator "___"`},
		{"two dots", "a..b", ErrInvalidFormat, 2, "a..b", `separator ".."`},
		{"ends with a dash", "a-", ErrInvalidFormat, 2, "a-", `path component "a-" must begin and end with a letter or digit`},
		{"starts with a dot", "x/.a", ErrInvalidFormat, 2, ".a", "must begin and end with a letter or digit"},
		{"a tag's colon", "a:b", ErrInvalidFormat, 1, "a:b", `invalid character ':' in path component "a:b"`},
		{"a percent-escape", "a%2Fb", ErrInvalidFormat, 1, "a%2Fb", `invalid character '%'`},
		{"a control byte", "a\x00", ErrInvalidFormat, 1, "a\x00", `invalid character byte "\x00"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePath(tc.path)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tc.kind) {
				t.Fatalf("ValidatePath(%q) = %v, want a *ParseError wrapping %v", tc.path, err, tc.kind)
			}
			if pe.Offset != tc.offset || pe.Component != tc.component || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ValidatePath(%q) = %q at offset %d component %q; want %q at %d in %q", tc.path, err, pe.Offset, pe.Component, tc.msg, tc.offset, tc.component)
			}
		})
	}
}

// ValidateTag is the tag production on its own.
func TestValidateTag(t *testing.T) {
	for _, ok := range []string{"v1", "_x", "1.0-rc_2", strings.Repeat("t", 128)} {
		t.Run(ok, func(t *testing.T) {
			if err := ValidateTag(ok); err != nil {
				t.Errorf("ValidateTag(%q) = %v", ok, err)
			}
		})
	}
	for _, tc := range []struct{ tag, msg string }{
		{"", "must start with a letter, digit or '_'"},
		{"-v1", "must start with a letter, digit or '_'"},
		{".v1", "must start with a letter, digit or '_'"},
		{"v1~rc", "'~' is not allowed in an OCI tag"},
		{strings.Repeat("t", 129), "at most 128"},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			err := ValidateTag(tc.tag)
			if !errors.Is(err, ErrTagInvalidFormat) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ValidateTag(%q) = %v, want ErrTagInvalidFormat saying %q", tc.tag, err, tc.msg)
			}
		})
	}
}

// A valid path or tag costs no allocation: discovery checks a prefix in
// every TXT record it parses.
func TestValidatePathAndTagDoNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = ValidatePath("org/team/app-1.2_x") }); n != 0 {
		t.Errorf("ValidatePath: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ValidateTag("v1.2.3-rc_1") }); n != 0 {
		t.Errorf("ValidateTag: %v allocations", n)
	}
}
