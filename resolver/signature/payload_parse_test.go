package signature

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

const goodPayload = `{"critical":{"identity":{"docker-reference":"registry.example/org/app"},` +
	`"image":{"docker-manifest-digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},` +
	`"type":"cosign container image signature"},"optional":null}`

// The simple-signing payload is parsed as atomic-signature(5) asks: exact
// member names, nothing unknown in critical or at the top, no member twice,
// the exact type, a valid digest.
func TestParseSimpleSigningStrictly(t *testing.T) {
	repl := func(old, new string) string { return strings.Replace(goodPayload, old, new, 1) }
	for _, c := range []struct {
		name, payload, wantErr string
	}{
		{"cosign's payload", goodPayload, ""},
		{"optional object", repl(`"optional":null`, `"optional":{"creator":"x","k":[1,{"a":null}]}`), ""},
		{"white space", strings.ReplaceAll(goodPayload, ",", " ,\n "), ""},
		{"unknown critical member", repl(`"type":`, `"extra":1,"type":`), `critical.extra at offset`},
		{"unknown identity member", repl(`"docker-reference":"registry.example/org/app"`, `"docker-reference":"registry.example/org/app","tag":"v1"`), `unknown member "tag"`},
		{"unknown image member", repl(`"image":{`, `"image":{"x":"y",`), `critical.image.x`},
		{"unknown top-level member", repl(`"optional":null`, `"optional":null,"extra":{}`), `unknown member "extra"`},
		{"no optional", repl(`,"optional":null`, ``), `no member "optional"`},
		{"optional a string", repl(`"optional":null`, `"optional":"x"`), `optional at offset`},
		{"duplicate critical", repl(`{"critical"`, `{"critical":{},"critical"`), `appears twice`},
		{"duplicate docker-reference", repl(`"docker-reference":"registry.example/org/app"`, `"docker-reference":"a.example/x","docker-reference":"registry.example/org/app"`), `appears twice`},
		{"duplicate inside optional", repl(`"optional":null`, `"optional":{"a":1,"a":2}`), `appears twice`},
		{"member name case", repl(`"docker-reference"`, `"Docker-Reference"`), `no member "docker-reference"`},
		{"type of another format", repl(`cosign container image signature`, `atomic container signature`), `want "cosign container image signature"`},
		{"type with a space", repl(`cosign container image signature`, `cosign container image signature `), `critical.type`},
		{"digest not a digest", repl(`sha256:0000000000000000000000000000000000000000000000000000000000000000`, `sha256:00`), `docker-manifest-digest`},
		{"digest not a string", repl(`"sha256:0000000000000000000000000000000000000000000000000000000000000000"`, `1`), `a number, want a string`},
		{"trailing data", goodPayload + `{}`, `data after the JSON value`},
		{"not JSON", `{"critical":`, `unexpected end`},
		{"invalid UTF-8", repl(`org/app`, "org/\xffapp"), `invalid UTF-8`},
		{"top-level array", `[` + goodPayload + `]`, `want an object`},
		{"deep nesting", repl(`"optional":null`, `"optional":`+strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat(`}`, 40)), `nested deeper`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := parseSimpleSigning([]byte(c.payload))
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.dockerReference != "registry.example/org/app" || p.digest.Encoded() != strings.Repeat("0", 64) {
					t.Errorf("parsed %+v", p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

// docker-reference matching: the repository is the requested name or the
// registry repository (host case-insensitively, Docker Hub's aliases as
// one), a tag in the reference is the requested one.
func TestMatchIdentity(t *testing.T) {
	req := Request{RequestedName: "example.com/org/app", RequestedTag: "v1", RegistryRepository: "index.docker.io/acme/app"}
	for _, c := range []struct {
		ref  string
		want Reason
	}{
		{"example.com/org/app", ""},
		{"Example.COM/org/app", ""},
		{"example.com/org/app:v1", ""},
		{"docker.io/acme/app", ""},
		{"registry-1.docker.io/acme/app:v1", ""},
		{"example.com/org/app:v2", ReasonWrongTag},
		{"example.com/org", ReasonWrongIdentity},
		{"example.com/org/app/sub", ReasonWrongIdentity},
		{"example.com:443/org/app", ReasonWrongIdentity},
		{"example.com/org/app@sha256:" + strings.Repeat("0", 64), ReasonMalformed},
		{"app", ReasonMalformed},
		{"example.com/org/app:", ReasonMalformed},
		{"", ReasonMalformed},
	} {
		t.Run(c.ref, func(t *testing.T) {
			got, err := matchIdentity(c.ref, req)
			if got != c.want || (c.want == "") != (err == nil) {
				t.Fatalf("reason %q err %v, want %q", got, err, c.want)
			}
		})
	}
}

func digestOf(s string) digest.Digest { return digest.Digest(s) }

// A docker-reference outside the grammar of reference names is malformed,
// whatever the request asks: a request by digest asks no tag, so a tag
// that is not a tag must be refused for what it is, not compared.
func TestMatchIdentityRefusesMalformedReference(t *testing.T) {
	byDigest := Request{RequestedName: "example.com/org/app", RegistryRepository: "registry.example.com/org/app"}
	for _, ref := range []string{
		"example.com/org/app:v1!",
		"example.com/org/app:-v1",
		"example.com/org/app:.v1",
		"example.com/org/app:" + strings.Repeat("v", 129),
		"example.com/org/App",
		"example.com/org//app",
		"example.com/org/app/",
		"exa_mple.com/org/app",
		"example.com/org/app,version=v1",
		"example.com/org/app:v1@sha256:" + strings.Repeat("0", 64),
	} {
		t.Run(ref, func(t *testing.T) {
			got, err := matchIdentity(ref, byDigest)
			if got != ReasonMalformed || err == nil || !strings.Contains(err.Error(), "docker-reference") {
				t.Fatalf("reason %q err %v, want %q naming the docker-reference", got, err, ReasonMalformed)
			}
		})
	}
}
