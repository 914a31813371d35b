package resolver

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseChallengesRFC7235(t *testing.T) {
	type ch = challenge
	p := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		in   []string
		want []challenge
	}{
		{[]string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"`},
			[]ch{{Scheme: "Bearer", Params: p("realm", "https://auth.docker.io/token", "service", "registry.docker.io", "scope", "repository:library/ubuntu:pull")}}},
		{[]string{`Basic realm="Registry Realm"`}, []ch{{Scheme: "Basic", Params: p("realm", "Registry Realm")}}},
		// Case-insensitive names, BWS around "=", token values.
		{[]string{`bearer REALM = https , Service=svc`}, []ch{{Scheme: "bearer", Params: p("realm", "https", "service", "svc")}}},
		// Escapes in quoted-strings.
		{[]string{`Bearer realm="a\"b\\c", error="x"`}, []ch{{Scheme: "Bearer", Params: p("realm", `a"b\c`, "error", "x")}}},
		// Several challenges in one field, and across fields.
		{[]string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]ch{{Scheme: "Newauth", Params: p("realm", "apps", "type", "1", "title", `Login to "apps"`)}, {Scheme: "Basic", Params: p("realm", "simple")}}},
		{[]string{`Basic realm="a"`, `Bearer realm="b"`}, []ch{{Scheme: "Basic", Params: p("realm", "a")}, {Scheme: "Bearer", Params: p("realm", "b")}}},
		// token68, bare schemes, empty list elements.
		{[]string{`Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS==, NTLM`},
			[]ch{{Scheme: "Negotiate", Token68: "YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS=="}, {Scheme: "NTLM"}}},
		{[]string{` , Basic realm="x",, ,Bearer realm="y" , `}, []ch{{Scheme: "Basic", Params: p("realm", "x")}, {Scheme: "Bearer", Params: p("realm", "y")}}},
		{[]string{`Bearer realm=""`}, []ch{{Scheme: "Bearer", Params: p("realm", "")}}},
		// "name=" alone is a token68, not a parameter without a value.
		{[]string{`Bearer realm=`}, []ch{{Scheme: "Bearer", Token68: "realm="}}},
	} {
		t.Run(strings.Join(tc.in, "|"), func(t *testing.T) {
			got, err := parseChallenges(tc.in)
			if err != nil {
				t.Errorf("%q: %v", tc.in, err)
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q:\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseChallengesRejectsMalformedWithOffset(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "no challenge"},
		{`Bearer realm="x`, 13, "unterminated quoted-string"},
		{`Bearer realm="x\`, 16, "ends inside an escape"},
		{"Bearer realm=\"a\x01\"", 15, "control character"},
		{`Bearer a="b", realm=`, 20, "expected a token or quoted-string"},
		{`Bearer realm="a" service="b"`, 17, "expected ','"},
		{`Bearer realm="a", realm="b"`, 18, `parameter "realm" repeated`},
		{`"Bearer"`, 0, "expected an auth-scheme"},
		{`Bearer=x`, 6, "expected a space"},
		{`Bearer a b`, 7, "expected an auth-param"},
		{strings.Repeat("a", maxChallengeHeader+1), maxChallengeHeader, "longer than"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := parseChallenges([]string{tc.in})
			ce, ok := err.(*challengeError)
			if !ok {
				t.Errorf("%q: error %v, want *challengeError", tc.in, err)
				return
			}
			if ce.Offset != tc.offset || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("%q: %q at %d, want %q at %d", tc.in, ce.Msg, ce.Offset, tc.msg, tc.offset)
			}
		})
	}
}

// FuzzParseChallenge: any header parses or fails cleanly; what parses has
// token schemes and survives formatting and re-parsing unchanged.
func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"`,
		`Basic realm="Registry Realm"`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Negotiate abc==, NTLM`,
		` , Basic realm="x",, ,Bearer realm="y" , `,
		`Bearer realm="a\"b\\c", error="insufficient_scope"`,
		"Bearer realm=\"\t\x80\xff\"",
		`A b=, C`,
		`x y=z=`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseChallenges([]string{s})
		if err != nil {
			if _, ok := err.(*challengeError); !ok {
				t.Fatalf("error type %T", err)
			}
			return
		}
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", s)
			}
			for i := 0; i < len(c.Scheme); i++ {
				if !isTchar(c.Scheme[i]) {
					t.Fatalf("scheme %q from %q", c.Scheme, s)
				}
			}
			if c.Token68 != "" && c.Params != nil {
				t.Fatalf("token68 and params from %q", s)
			}
		}
		formatted := formatChallenges(cs)
		if len(formatted) > maxChallengeHeader {
			return // canonical spacing and quoting can outgrow the bound a valid header fits in
		}
		again, err := parseChallenges([]string{formatted})
		if err != nil {
			t.Fatalf("%q formats as %q, which does not parse: %v", s, formatChallenges(cs), err)
		}
		if !reflect.DeepEqual(cs, again) {
			t.Fatalf("%q: %+v formats as %q and parses back as %+v", s, cs, formatChallenges(cs), again)
		}
	})
}

// A header near the size bound is accepted even though its canonical form
// (a space after each comma) would not fit: the bound is on what arrives.
func TestChallengeNearTheBoundParses(t *testing.T) {
	s := strings.Repeat("A,", 8000)
	if _, err := parseChallenges([]string{s}); err != nil {
		t.Fatalf("%d-byte header: %v", len(s), err)
	}
}
