package resolver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/reference"
)

// One grammar of repository paths and tags, reference's, wherever a path
// or a tag is checked: "a.-b" and "a___b" (separators the grammar does not
// have) are refused by the reference parser, by every discovery parser of
// a prefix or a registry URL's path, when a mapping's repository is built,
// and by the registry client before it sends a request — which accepted
// both before. A tag the grammar refuses is refused before any request.
func TestRepositoryGrammarIsOneEverywhere(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	c, _ := testClient(t, reg, nil)
	anyHTTP := discovery.ParseOptions{Insecure: func(string) bool { return true }}
	for _, bad := range []string{"a.-b", "a___b"} {
		t.Run(bad, func(t *testing.T) {
			checks := []struct {
				where string
				err   error
			}{
				{"reference.ValidatePath", reference.ValidatePath(bad)},
				{"reference.Parse", second(reference.Parse("example.com/" + bad + ":v1"))},
				{"discovery.ParseTXT prefix", second(discovery.ParseTXT("v=oci1; prefix="+bad+"; registry=https://r.example", anyHTTP))},
				{"discovery.ParseTXT registry path", second(discovery.ParseTXT("v=oci1; registry=https://r.example/"+bad, anyHTTP))},
				{"discovery.ParseWellKnown prefix", second(discovery.ParseWellKnown([]byte(`{"version":1,"namespaces":[{"prefix":"`+bad+`","delegate":"d.example"}]}`), anyHTTP))},
				{"discovery.ValidateMapping prefix", second(discovery.ValidateMapping(discovery.Mapping{Prefix: bad, Delegate: "d.example"}, anyHTTP))},
				{"discovery.RegistryEndpoint", third(discovery.RegistryEndpoint(discovery.Mapping{Registry: "https://r.example"}, bad))},
			}
			_, err := c.resolve(context.Background(), endpointFor(reg, bad), reg.Host()+"/"+bad+":v1", "v1", "", nil, false, nil)
			checks = append(checks, struct {
				where string
				err   error
			}{"the registry client", err})
			for _, ch := range checks {
				t.Run(ch.where, func(t *testing.T) {
					if ch.err == nil {
						t.Errorf("%s accepts %q", ch.where, bad)
					}
				})
			}
			if e := wantKind(t, err, ErrInvalidReference); !strings.Contains(e.Error(), `repository "`+bad+`"`) {
				t.Errorf("registry client error %q does not name the repository", e)
			}
			if n := len(reg.Log()); n != 0 {
				t.Errorf("%d requests sent for an invalid repository", n)
			}
		})
	}
	for _, tag := range []string{"-v1", ".v1", strings.Repeat("t", 129), "v1~rc"} {
		t.Run(tag, func(t *testing.T) {
			_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), reg.Host()+"/org/app:"+tag, tag, "", nil, false, nil)
			wantKind(t, err, ErrInvalidReference)
			if !errors.Is(err, reference.ErrTagInvalidFormat) || !errors.Is(reference.ValidateTag(tag), reference.ErrTagInvalidFormat) {
				t.Errorf("tag %q: %v, want reference.ErrTagInvalidFormat", tag, err)
			}
		})
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }
