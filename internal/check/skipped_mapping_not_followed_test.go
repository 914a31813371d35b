package check

import (
	"strings"
	"testing"
)

// TestCheckFollowsThePathClientsTake: a signed host delegates to hosts in
// an unsigned zone whose mappings send names to another host. Under
// --dnssec on, clients skip those mappings (docs/protocol.md §8.3), so the
// check follows the path discovery takes instead: it reports each skipped
// mapping once, as UNAUTHENTICATED at the delegate with where clients go,
// and never describes or probes the skipped target. Under --dnssec off
// clients follow the mapping, and so does the check.
func TestCheckFollowsThePathClientsTake(t *testing.T) {
	l := newLab(t, nil)
	const skipped = "closed.example.com" // the target of the skipped mappings
	for _, tc := range []struct {
		name      string
		host      string
		dnssecOff bool
		delegate  string // the host whose mapping is skipped; "" for none
		instead   string // where the UNAUTHENTICATED finding says clients go
		want      []string
		wantNo    []string
	}{
		{name: "on, skipped then direct", host: "hijack.example.com", delegate: "hijacked.other.test",
			instead: "goes to https://hijacked.other.test repository ocidns-check (direct at hijacked.other.test)",
			want:    []string{"error UNAUTHENTICATED", "info DELEGATION"}, wantNo: []string{CodeRegistryUnreachable}},
		{name: "on, skipped then no registry", host: "tonowhere.example.com", delegate: "nowhere.other.test",
			instead: "then discovery fails: ",
			want:    []string{"error UNAUTHENTICATED"}, wantNo: []string{CodeRegistryUnreachable, CodeDelegateFailed, CodeDelegation}},
		{name: "off, followed", host: "hijack.example.com", dnssecOff: true,
			want: []string{"info DELEGATION", "error REGISTRY_UNREACHABLE"}, wantNo: []string{CodeUnauthenticated}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := l.check(t, tc.host, func(c *Config) { c.DNSSECOff = tc.dnssecOff })
			want(t, fs, tc.want...)
			wantNo(t, fs, tc.wantNo...)
			var unauth []Finding
			for _, f := range fs {
				if f.Code == CodeUnauthenticated {
					unauth = append(unauth, f)
					continue
				}
				// Only the UNAUTHENTICATED finding names the skipped target;
				// under --dnssec off the chain and the probe lead there.
				if mentions := strings.Contains(f.Message, skipped); mentions != (tc.dnssecOff && (f.Code == CodeDelegation || f.Code == CodeRegistryUnreachable)) {
					t.Errorf("finding %s: mentions %s: %v", f, skipped, mentions)
				}
			}
			if tc.delegate == "" {
				return
			}
			if len(unauth) != 1 {
				t.Fatalf("want one UNAUTHENTICATED finding; got:\n%s", dump(fs))
			}
			f := unauth[0]
			if f.Host != tc.delegate || !strings.Contains(f.Record, skipped) || !strings.Contains(f.Message, tc.instead) {
				t.Errorf("want UNAUTHENTICATED at %s about its record to %s, saying %q; got %s [host %s record %q]",
					tc.delegate, skipped, tc.instead, f, f.Host, f.Record)
			}
		})
	}
}
