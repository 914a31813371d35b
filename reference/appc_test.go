package reference

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParseAppc pins the appc form: name[:version](,key=value)+.
func TestParseAppc(t *testing.T) {
	tests := []struct {
		in, domain, path, tag string
		labels                []Label
		canonical             string
	}{
		{"app,version=v1.0.0", "", "app", "v1.0.0", []Label{{"version", "v1.0.0"}}, "app,version=v1.0.0"},
		{"example.com/org/app,version=v1.0.0,os=linux,arch=amd64", "example.com", "org/app", "v1.0.0",
			[]Label{{"version", "v1.0.0"}, {"os", "linux"}, {"arch", "amd64"}},
			"example.com/org/app,arch=amd64,os=linux,version=v1.0.0"},
		{"coreos.com/etcd:v3.5.0+git,os=linux", "coreos.com", "etcd", "v3.5.0+git",
			[]Label{{"version", "v3.5.0+git"}, {"os", "linux"}}, "coreos.com/etcd,os=linux,version=v3.5.0+git"},
		{"a~b.c_d-e/f,x=é", "a~b.c_d-e", "f", "", []Label{{"x", "é"}}, "a~b.c_d-e/f,x=é"},
		{"org/app,z=1,a=2", "", "org/app", "", []Label{{"z", "1"}, {"a", "2"}}, "org/app,a=2,z=1"},
		{"localhost/app,k/x=v", "localhost", "app", "", []Label{{"k/x", "v"}}, "localhost/app,k/x=v"},
		{"app,v=a@b+c", "", "app", "", []Label{{"v", "a@b+c"}}, "app,v=a@b+c"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if err != nil {
				t.Errorf("Parse(%q): %v", tt.in, err)
				return
			}
			if r.Form() != FormAppc || r.Domain() != tt.domain || r.Path() != tt.path || r.Tag() != tt.tag ||
				!reflect.DeepEqual(r.Labels(), tt.labels) || r.Digest() != "" {
				t.Errorf("Parse(%q) = %v %q %q %q %v", tt.in, r.Form(), r.Domain(), r.Path(), r.Tag(), r.Labels())
			}
			if r.String() != tt.in {
				t.Errorf("Parse(%q).String() = %q", tt.in, r.String())
			}
			if r.Canonical() != tt.canonical {
				t.Errorf("Parse(%q).Canonical() = %q, want %q", tt.in, r.Canonical(), tt.canonical)
			}
		})
	}
}

// TestParseAppcLabelsAreCopies: callers cannot change a Reference through
// the slice Labels returns.
func TestParseAppcLabelsAreCopies(t *testing.T) {
	r, _ := Parse("app,version=1")
	r.Labels()[0].Value = "2"
	if v, _ := r.Label("version"); v != "1" {
		t.Fatalf("Labels() aliases the reference: version is now %q", v)
	}
}

// TestParseAppcErrors: each rule of the appc grammar, with where it broke.
func TestParseAppcErrors(t *testing.T) {
	tests := []struct {
		in     string
		kind   error
		offset int
		msg    string
	}{
		{"App,version=1", ErrNameContainsUppercase, 0, "lowercase"},
		{",version=1", ErrInvalidFormat, 0, "empty name"},
		{"a__b,version=1", ErrInvalidFormat, 2, "one at a time"},
		{"a-,x=y", ErrInvalidFormat, 2, "must end with"},
		{"a!b,x=y", ErrInvalidFormat, 1, "unexpected '!'"},
		{"app:1:2,x=y", ErrInvalidLabel, 5, "at most one ':'"},
		{"app,x=y:z", ErrInvalidLabel, 7, "only once"},
		{"app,name=x", ErrInvalidLabel, 4, `"name" is not a label`},
		{"app:1,version=2", ErrInvalidLabel, 6, "name:version already set it"},
		{"app,a=1,b=2,a=3", ErrInvalidLabel, 12, `duplicate label "a"`},
		{"app,", ErrInvalidLabel, 4, "empty label key"},
		{"app,os", ErrInvalidLabel, 6, "key=value"},
		{"app,os=", ErrInvalidLabel, 7, `empty value for "os"`},
		{"app,=linux", ErrInvalidLabel, 4, "empty label key"},
		{"app,OS=linux", ErrInvalidLabel, 4, "lowercase"},
		{"app,os=li nux", ErrInvalidLabel, 9, "' '"},
		{"app,os=a=b", ErrInvalidLabel, 8, "'='"},
		{"app,os=a\tb", ErrInvalidLabel, 8, `byte "\t"`},
		{"app,os=\u00a0", ErrInvalidLabel, 7, "white space"},
		{"app,os=\xff", ErrInvalidLabel, 7, "UTF-8"},
		{"app:,os=linux", ErrInvalidLabel, 4, `empty value for "version"`},
		{"app,a=1,,b=2", ErrInvalidLabel, 8, "empty label key"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tt.kind) || pe.Offset != tt.offset || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse(%q) = %v\n want %v at offset %d containing %q", tt.in, err, tt.kind, tt.offset, tt.msg)
				return
			}
			checkParseError(t, tt.in, err)
		})
	}
}

// TestParseAppcManyLabelsStaysLinear: duplicate detection switches to a map
// for long label lists, so a hostile input cannot make parsing quadratic.
func TestParseAppcManyLabelsStaysLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("app")
	for i := 0; i < 20000; i++ {
		b.WriteString(",k" + itoa(i) + "=v")
	}
	r, err := Parse(b.String())
	if err != nil || len(r.Labels()) != 20000 {
		t.Fatalf("20000 labels: %d, %v", len(r.Labels()), err)
	}
	_, err = Parse(b.String() + ",k19999=x")
	if !errors.Is(err, ErrInvalidLabel) {
		t.Fatalf("duplicate at the end: %v", err)
	}
}
