package discovery

import (
	"strings"
	"testing"
)

// records parses v=oci1 TXT records, as a host would publish them.
func txtMappings(t testing.TB, texts ...string) []Mapping {
	t.Helper()
	ms := make([]Mapping, len(texts))
	for i, s := range texts {
		m, err := ParseTXT(s, ParseOptions{})
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		ms[i] = m
	}
	return ms
}

func mappingRecords(ms []Mapping) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Record)
	}
	return s
}

func TestSelect(t *testing.T) {
	published := []string{
		"v=oci1; prefix=acme; delegate=acme.example",
		"v=oci1; prefix=acme/team; registry=https://team.example",
		"v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=20",
		"v=oci1; prefix=tools; registry=https://mirror-a.example; priority=10; weight=1",
		"v=oci1; prefix=tools; registry=https://mirror-b.example; priority=10; weight=9",
		"v=oci1; registry=https://registry.example.com",
	}
	for _, tc := range []struct {
		rule    string
		records []string
		path    string
		want    []string // records matched, in order
		rest    string
	}{
		{"a single mapping for the whole host matches every path", published[5:], "org/app", published[5:], "org/app"},
		{"prefix matched on whole components: acme matches acme/x", published[:1], "acme/app", published[:1], "app"},
		{"prefix matched on whole components: acme matches acme itself", published[:1], "acme", published[:1], ""},
		{"prefix matched on whole components: acme does not match acmex", published[:1], "acmex/app", nil, "acmex/app"},
		{"prefix matched on whole components: acme does not match acm", published[:1], "acm", nil, "acm"},
		{"longest prefix wins: acme/team over acme and the whole host", published, "acme/team/app", published[1:2], "app"},
		{"longest prefix wins: acme/teamx is under acme, not acme/team", published, "acme/teamx/app", published[:1], "teamx/app"},
		{"longest prefix wins: the whole host when nothing longer matches", published, "other/app", published[5:], "other/app"},
		{"mirrors (all registry=, same prefix) sorted by priority, stable", published, "tools/x/y",
			[]string{published[3], published[4], published[2]}, "x/y"},
		{"identical delegations count once", []string{"v=oci1; prefix=a; delegate=d.example", "v=oci1;prefix=a;delegate=D.example."}, "a/b",
			[]string{"v=oci1; prefix=a; delegate=d.example"}, "b"},
		{"no mapping at all", nil, "a/b", nil, "a/b"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			ms := txtMappings(t, tc.records...)
			before := append([]Mapping(nil), ms...)
			got, rest, err := Select(ms, tc.path)
			if err != nil {
				t.Fatalf("Select(%q): %v", tc.path, err)
			}
			if g := mappingRecords(got); strings.Join(g, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Select(%q) matched\n%s\nwant\n%s", tc.path, strings.Join(g, "\n"), strings.Join(tc.want, "\n"))
			}
			if rest != tc.rest {
				t.Errorf("Select(%q) rest = %q, want %q", tc.path, rest, tc.rest)
			}
			for i := range ms {
				if ms[i] != before[i] {
					t.Fatalf("Select reordered or changed its input at %d", i)
				}
			}
		})
	}
}

// The single-match result shares ms but has no spare capacity: appending to it
// must not overwrite the caller's mappings.
func TestSelectResultDoesNotAliasOnAppend(t *testing.T) {
	ms := txtMappings(t, "v=oci1; prefix=a; registry=https://a.example", "v=oci1; prefix=b; registry=https://b.example")
	got, _, _ := Select(ms, "a/x")
	_ = append(got, Mapping{Registry: "https://evil.example"})
	if ms[1].Registry != "https://b.example" {
		t.Fatal("append to Select's result overwrote the input")
	}
}

// "the URL path is a repository prefix: example.com/tools/x → ghcr.io,
// repository example-tools/x"
func TestRegistryEndpoint(t *testing.T) {
	for _, tc := range []struct {
		registry, rest string
		url, repo      string
	}{
		{"https://ghcr.io/example-tools", "x", "https://ghcr.io", "example-tools/x"},
		{"https://registry.example.com", "team/app", "https://registry.example.com", "team/app"},
		{"https://ghcr.io/example-tools", "", "https://ghcr.io", "example-tools"},
		{"HTTPS://R.Example:443/a/", "b", "https://r.example", "a/b"},
		{"https://r.example:5443/a", "b/c", "https://r.example:5443", "a/b/c"},
		{"http://localhost:5000", "app", "http://localhost:5000", "app"},
		{"http://localhost:80", "app", "http://localhost", "app"},
		{"https://[::1]:5000/p", "", "https://[::1]:5000", "p"},
	} {
		url, repo, err := RegistryEndpoint(Mapping{Registry: tc.registry}, tc.rest)
		if err != nil || url != tc.url || repo != tc.repo {
			t.Errorf("RegistryEndpoint(%q, %q) = %q, %q, %v; want %q, %q", tc.registry, tc.rest, url, repo, err, tc.url, tc.repo)
		}
	}
	for _, tc := range []struct {
		m    Mapping
		rest string
		msg  string
	}{
		{Mapping{Prefix: "acme", Registry: "https://r.example"}, "", `no repository: the name ends at the prefix "acme"`},
		{Mapping{Delegate: "d.example"}, "x", "has no registry"},
		{Mapping{Registry: "https://r.example/a"}, "B", "uppercase"},
		{Mapping{Registry: "https://r.example"}, "/x", "must not start with '/'"},
		{Mapping{Registry: "ftp://r.example"}, "x", "scheme must be https"},
	} {
		_, _, err := RegistryEndpoint(tc.m, tc.rest)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("RegistryEndpoint(%+v, %q) = %v, want an error saying %q", tc.m, tc.rest, err, tc.msg)
		}
	}
}
