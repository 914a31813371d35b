package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// docs/protocol.md §7: every step and decision is a trace event: source,
// query, server, outcome (rcode or HTTP status), TTL, DNSSEC status,
// duration, and what it decided. Each source looked at has its query and its
// decision in the trace — absent ones included — and the last event sums up
// the result.
func TestTraceHasEveryQueryAndEveryDecision(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	o := l.options()
	o.DNSSECOff = true
	for _, tc := range []struct {
		name      string
		queries   map[string]string // DNS question → outcome
		decisions []string
	}{
		{"direct.mapping.test/app",
			map[string]string{"TXT _oci-discovery.direct.mapping.test.": "NXDOMAIN", "SRV _oci-registry._tcp.direct.mapping.test.": "NXDOMAIN"},
			[]string{"no TXT record", "no SRV record", "direct.mapping.test is its own registry"}},
		{"onlyspf.mapping.test/app",
			map[string]string{"TXT _oci-discovery.onlyspf.mapping.test.": "NOERROR", "SRV _oci-registry._tcp.onlyspf.mapping.test.": "NXDOMAIN"},
			[]string{"ignored TXT record that is not v=oci1", "no valid v=oci1 record", "no SRV record", "is its own registry"}},
		{"srvonly.mapping.test/app",
			map[string]string{"TXT _oci-discovery.srvonly.mapping.test.": "NXDOMAIN", "SRV _oci-registry._tcp.srvonly.mapping.test.": "NOERROR"},
			[]string{"no TXT record", "registry located by SRV"}},
		{"org.chain.test/acme/app",
			map[string]string{"TXT _oci-discovery.org.chain.test.": "NOERROR", "TXT _oci-discovery.acme.chain.test.": "NOERROR"},
			[]string{"mapping " + dlOrgAcme, "delegated to acme.chain.test", "mapping " + dlAcmeReg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, evs := dlMust(t, discovery.New(o), tc.name)
			for q, outcome := range tc.queries {
				found := false
				for _, e := range evs {
					found = found || (e.Source == "dns" && e.Query == q && e.Outcome == outcome && e.Server == l.srv.Addr() && e.Duration > 0)
				}
				if !found {
					t.Errorf("%s: no event for %s answered %s by %s", tc.name, q, outcome, l.srv.Addr())
				}
			}
			for _, dec := range tc.decisions {
				dlWantDecision(t, evs, dec)
			}
			last := evs[len(evs)-1]
			if last.Source != "discovery" || last.Query != tc.name || last.TTL != res.TTL || !strings.Contains(last.Decision, "endpoint(s)") {
				t.Errorf("%s: last event %q, want the summary", tc.name, last)
			}
		})
	}
}

// The trace is complete when Discover returns: a lookup still in flight
// when another source decided (here an SRV query the server never answers)
// is cancelled, and its event is in the trace before the summary — not
// added later, behind the caller's back.
//
// Each round has its own server, and reads its count once the server has
// stopped: Close waits for the handler of every query the server read, so
// a query of this round is counted now or never. With one server whose
// counts were reset between rounds, a round's dropped SRV datagram could be
// read by the server after the next round's reset and be blamed on a round
// that never sent it (the client had added its event in the round that did).
func TestTraceIsCompleteWhenDiscoverReturns(t *testing.T) {
	for range 5 {
		l := dlStart(t, dnstest.Config{})
		l.srv.SetFault("_oci-registry._tcp.single.mapping.test.", dns.TypeSRV, dnstest.FaultDrop)
		o := l.options()
		o.DNSSECOff = true
		_, evs := dlMust(t, discovery.New(o), "single.mapping.test/app")
		if err := l.srv.Close(); err != nil {
			t.Fatal(err)
		}
		asked := l.srv.QueryCount("_oci-registry._tcp.single.mapping.test.", dns.TypeSRV) > 0
		srvEvent := -1
		for i, e := range evs {
			if e.Source == "dns" && e.Query == "SRV _oci-registry._tcp.single.mapping.test." {
				srvEvent = i
			}
		}
		if asked && srvEvent < 0 {
			t.Fatalf("the SRV query was sent but has no event:\n%s", dlTrace(evs))
		}
		if srvEvent == len(evs)-1 {
			t.Fatalf("the SRV event came after the summary:\n%s", dlTrace(evs))
		}
	}
}

// reportLines is a hop report in one line a source: its outcome, cache
// status and authentication, the records used and each skipped one with
// its reason.
func reportLines(h discovery.HopReport) []string {
	var out []string
	for _, s := range h.Sources {
		line := fmt.Sprintf("%s %s cache=%s auth=%s", s.Source, s.Outcome, s.Cache, s.Auth)
		for _, m := range s.Used {
			line += " used=" + m.Record
			if m.Record == "" {
				line += m.Registry
			}
		}
		for _, sk := range s.Skipped {
			line += " " + sk.Reason.String() + "=" + sk.Record
		}
		out = append(out, line)
	}
	return out
}

// The report of a hop says, with data, what every source consulted
// answered and what became of each record it published: used, or skipped
// with a typed reason. The trace's words are rendered from it.
func TestHopReportSaysWhatBecameOfEveryRecord(t *testing.T) {
	const (
		acme     = "v=oci1; prefix=acme; registry=https://acme.example/acme-org"
		team     = "v=oci1; prefix=acme/team; registry=https://team.example"
		whole    = "v=oci1; registry=https://default.example/all"
		onlyAcme = "v=oci1; prefix=acme; registry=https://acme.example"
		single   = "v=oci1; registry=https://registry.example/single"
	)
	for _, tc := range []struct {
		name      string
		dnssecOn  bool
		discover  string
		want      []string
		wantError error
	}{
		{name: "the longest prefix wins; the shorter ones are skipped", discover: "prefix.mapping.test/acme/team/app",
			want: []string{"dns-txt decided cache=miss auth=none used=" + team + " shorter-prefix=" + acme + " shorter-prefix=" + whole}},
		{name: "no prefix matches: SRV absent, the host is its own registry", discover: "onlyacme.mapping.test/acmex/app",
			want: []string{"dns-txt no-match cache=miss auth=none no-prefix-match=" + onlyAcme, "dns-srv absent cache=miss auth=none",
				"direct decided cache=none auth=https used=https://onlyacme.mapping.test"}},
		{name: "records of other protocols and versions", discover: "ignored.mapping.test/app",
			want: []string{"dns-txt decided cache=miss auth=none used=v=oci1; registry=https://registry.example/ignored" +
				" not-oci=v=spf1 -all not-oci=google-site-verification=abc123 not-oci=v=oci2; registry=https://future.example"}},
		{name: "an unauthenticated mapping to another host under --dnssec on", dnssecOn: true, discover: "single.mapping.test/app",
			want: []string{"dns-txt no-match cache=miss auth=none unauthenticated-cross-host=" + single, "dns-srv absent cache=miss auth=none",
				"direct decided cache=none auth=https used=https://single.mapping.test"}},
		{name: "no registry here: the error carries the report", discover: "noregistry.mapping.test/app", wantError: discovery.ErrNoRegistry,
			want: []string{"dns-txt absent cache=miss auth=none", "dns-srv no-registry cache=miss auth=none", "direct failed cache=none auth="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := dlStart(t, dnstest.Config{})
			o := l.options()
			o.DNSSECOff = !tc.dnssecOn
			host, path, _ := strings.Cut(tc.discover, "/")
			res, err := discovery.New(o).Discover(context.Background(), host, path)
			var hops []discovery.HopReport
			switch {
			case tc.wantError != nil:
				var de *discovery.Error
				if !errors.As(err, &de) || !errors.Is(err, tc.wantError) {
					t.Fatalf("error %v, want %v", err, tc.wantError)
				}
				hops = de.Hops
			case err != nil:
				t.Fatal(err)
			default:
				hops = res.Hops
			}
			if len(hops) != 1 {
				t.Fatalf("%d hop reports, want 1", len(hops))
			}
			if got := reportLines(hops[0]); !slices.Equal(got, tc.want) {
				t.Errorf("report:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// Malformed records are skipped with their parse error; a second
// discovery reads the cache and says so; a validated answer says how.
func TestHopReportCarriesErrorsCacheStatusAndAuthentication(t *testing.T) {
	l := dlStart(t, dnstest.Config{Zones: dlMappingZones(true)})
	o := l.options()
	o.Cache = &discovery.Memo{}
	d := discovery.New(o)
	for i, want := range []discovery.CacheStatus{discovery.CacheMiss, discovery.CacheHit} {
		res, _ := dlMust(t, d, "malformed.mapping.test/x")
		txt := res.Hops[0].Source(discovery.SourceTXT)
		if txt == nil || txt.Cache != want || txt.Outcome != discovery.OutcomeDecided {
			t.Fatalf("discovery %d: TXT report %+v, want %s and decided", i+1, txt, want)
		}
		if !txt.DNSSEC.Validated || txt.DNSSEC.Security != dnssec.Secure || txt.Auth != discovery.AuthDNSSEC {
			t.Errorf("authentication %+v, want validated secure", txt.DNSSEC)
		}
		malformed := 0
		for _, sk := range txt.Skipped {
			var re *discovery.RecordError
			if sk.Reason == discovery.SkipMalformed {
				malformed++
				if !errors.As(sk.Err, &re) || re.Record != sk.Record {
					t.Errorf("malformed %q without its *RecordError: %v", sk.Record, sk.Err)
				}
			}
		}
		if malformed != 6 {
			t.Errorf("%d malformed records skipped, want 6", malformed)
		}
	}
}
