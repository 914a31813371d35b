package discovery_test

import (
	"testing"

	"github.com/ocidns/ocidns/discovery"
)

// DESIGN §2: "prefix — path prefix matched on whole components (acme
// matches acme/x, not acmex). Absent means the whole host. Longest prefix
// wins." The rows follow the comments of prefix.mapping.test.
func TestPrefixMatchesWholeComponentsAndTheLongestWins(t *testing.T) {
	rows := []struct {
		name      string
		url, repo string
		record    string
	}{
		{"prefix.mapping.test/acme/app", "https://acme.example", "acme-org/app", "v=oci1; prefix=acme; registry=https://acme.example/acme-org"},
		// The name ends at the prefix: the URL's path is the repository.
		{"prefix.mapping.test/acme", "https://acme.example", "acme-org", "v=oci1; prefix=acme; registry=https://acme.example/acme-org"},
		{"prefix.mapping.test/acme/team/app", "https://team.example", "app", "v=oci1; prefix=acme/team; registry=https://team.example"},
		{"prefix.mapping.test/acme/team/a/b/c", "https://team.example", "a/b/c", "v=oci1; prefix=acme/team; registry=https://team.example"},
		{"prefix.mapping.test/acme/teamx/app", "https://acme.example", "acme-org/teamx/app", "v=oci1; prefix=acme; registry=https://acme.example/acme-org"},
		{"prefix.mapping.test/acmex/app", "https://default.example", "all/acmex/app", "v=oci1; registry=https://default.example/all"},
		{"prefix.mapping.test/ac/app", "https://default.example", "all/ac/app", "v=oci1; registry=https://default.example/all"},
		{"prefix.mapping.test/team/app", "https://default.example", "all/team/app", "v=oci1; registry=https://default.example/all"},
	}
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, r := range rows {
				res, _ := dlMust(t, d, r.name)
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: r.url, Repository: r.repo, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				if len(res.Chain) != 1 || res.Chain[0].Record != r.record {
					t.Errorf("%s: chain %s, want the record %q", r.name, dlSteps(res.Chain), r.record)
				}
			}
		})
	}
}

// A host whose mappings all have a prefix maps no other name: acmex is not
// under acme, so the host is its own registry, and the trace says why.
func TestNoPrefixMatchFallsThroughToTheHost(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, evs := dlMust(t, discovery.New(o), "onlyacme.mapping.test/acmex/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://onlyacme.mapping.test", Repository: "acmex/app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			dlWantDecision(t, evs, `no v=oci1 prefix matches path "acmex/app"`)
		})
	}
}
