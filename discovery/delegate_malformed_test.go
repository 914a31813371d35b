package discovery_test

import (
	"testing"

	"github.com/ocidns/ocidns/discovery"
)

// DESIGN §2: "a duplicated key or a malformed value makes that record
// invalid (reported in the trace, never a crash)"; issue 3: "malformed
// v=oci1 records are reported in the trace and skipped". Each record of
// malformed.mapping.test breaks one rule; the name under its prefix falls
// to the host-wide mapping, and the trace names the record and the fault.
func TestMalformedRecordsAreReportedAndSkipped(t *testing.T) {
	rows := []struct {
		prefix string
		record string
		fault  string // in the trace's report
	}{
		{"dup", "v=oci1; prefix=dup; priority=1; registry=https://dup.example; priority=2", `key "priority" at offset 62: duplicated key`},
		{"notarget", "v=oci1; prefix=notarget; priority=5", "no target"},
		{"two", "v=oci1; prefix=two; registry=https://two.example; delegate=two.example", `key "delegate"`},
		{"badurl", "v=oci1; prefix=badurl; registry=ftp://badurl.example", "scheme must be https"},
		{"badpath", "v=oci1; prefix=badpath; registry=https://badpath.example/Not_Lower", "repository paths are lowercase"},
		// DESIGN §2: "http:// only for hosts the operator marked insecure".
		{"plain", "v=oci1; prefix=plain; registry=http://plain.example:5000/lab", "marked insecure"},
	}
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, r := range rows {
				name := "malformed.mapping.test/" + r.prefix + "/app"
				res, evs := dlMust(t, d, name)
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: "https://registry.example", Repository: "malformed/" + r.prefix + "/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				dlWantDecision(t, evs, "skipped malformed record", r.record, r.fault)
			}
		})
	}
}

// The same http:// record is valid when the operator marked its registry
// insecure, as host:port or as the bare host (Docker's
// insecure-registries); marking another host changes nothing.
func TestPlainHTTPRegistryNeedsTheHostMarkedInsecure(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			for _, tc := range []struct {
				insecure string
				url      string
				repo     string
			}{
				{"plain.example:5000", "http://plain.example:5000", "lab/app"},
				{"plain.example", "http://plain.example:5000", "lab/app"},
				{"plain.example:5001", "https://registry.example", "malformed/plain/app"},
				{"other.example", "https://registry.example", "malformed/plain/app"},
			} {
				o.Insecure = func(h string) bool { return h == tc.insecure }
				res, _ := dlMust(t, discovery.New(o), "malformed.mapping.test/plain/app")
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: tc.url, Repository: tc.repo, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
			}
		})
	}
}
