package dnsclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// A truncated UDP answer is asked again over TCP (RFC 7766).
func TestTruncatedAnswerIsRetriedOverTCP(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		name  string
		fault dnstest.Fault
		count int
	}{
		{"RRset larger than 1232 bytes", "big.client.test", dnstest.FaultNone, 8},
		{"TC on every UDP answer", "multi.client.test", dnstest.FaultTruncate, 1},
		{"answer padded beyond any UDP buffer", "multi.client.test", dnstest.FaultOversize, 1},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			s := dcStart(t, dnstest.Config{})
			s.SetFault(tc.name, dns.TypeTXT, tc.fault)
			c := dnstest.ClientT(t, 0, s.Addr())
			a, evs := dcQuery(t, c, tc.name, dns.TypeTXT)
			if len(a.Records) != tc.count || a.Msg.Truncated {
				t.Errorf("%d records, TC %v; want %d, complete", len(a.Records), a.Msg.Truncated, tc.count)
			}
			if n := s.QueryCount(tc.name, dns.TypeTXT); n != 2 {
				t.Errorf("%d queries, want UDP then TCP", n)
			}
			if !dcHasEvent(evs, "retrying over TCP") || len(evs) != 2 || evs[1].Server != s.Addr()+" (tcp)" {
				t.Errorf("events %+v", evs)
			}
		})
	}
}

// Over TCP nobody off-path can inject a packet, so a response that does
// not match is a broken server: the answer is unknown from it and the next
// server is asked.
func TestBrokenTCPRetryFailsOverToTheNextServer(t *testing.T) {
	for _, tc := range []struct {
		fault dnstest.Fault
		want  string
	}{
		{dnstest.FaultWrongID, "response over TCP does not match the query: wrong ID"},
		{dnstest.FaultWrongQuestion, "response over TCP does not match the query: question"},
		{dnstest.FaultMalformed, "malformed response over TCP"},
		{dnstest.FaultDrop, "no response within"},
		{dnstest.FaultServFail, "server answered SERVFAIL"},
		// TC over TCP, where there is no size to truncate at, is a
		// malformed answer (docs/protocol.md §9): unknown, not NODATA.
		{dnstest.FaultTruncateTCP, "malformed response over TCP: TC bit set"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			bad, good := dcStart(t, dnstest.Config{}), dcStart(t, dnstest.Config{})
			bad.SetFaultOn("udp", "multi.client.test", dns.TypeTXT, dnstest.FaultTruncate)
			bad.SetFaultOn("tcp", "multi.client.test", dns.TypeTXT, tc.fault)
			timeout := 5 * time.Second
			if tc.fault == dnstest.FaultDrop {
				timeout = 200 * time.Millisecond
			}
			_, err := dnstest.ClientT(t, timeout, bad.Addr()).Query(context.Background(), "multi.client.test", dns.TypeTXT)
			if !errors.Is(err, dnsclient.ErrUnknown) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("one server: err %v, want ErrUnknown saying %q", err, tc.want)
			}
			a, evs := dcQuery(t, dnstest.ClientT(t, timeout, bad.Addr(), good.Addr()), "multi.client.test", dns.TypeTXT)
			if a.Server != good.Addr() || len(a.Records) != 1 || len(evs) != 3 {
				t.Errorf("two servers: answered by %s, events %+v", a.Server, evs)
			}
		})
	}
}

// The UDP receive buffer is the EDNS0 size the client advertises (1232
// bytes, DNS Flag Day 2020). A server that ignores it and sends a larger
// datagram cannot be read whole: the answer is taken as truncated and
// asked again over TCP, never parsed from a cut datagram.
func TestUDPAnswerLargerThanAdvertisedGoesToTCP(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	s.SetFault("big.client.test", dns.TypeTXT, dnstest.FaultNoTruncate)
	a, evs := dcQuery(t, dnstest.ClientT(t, 0, s.Addr()), "big.client.test", dns.TypeTXT)
	if len(a.Records) != 8 || a.Msg.Truncated {
		t.Errorf("%d records, TC %v; want 8, complete", len(a.Records), a.Msg.Truncated)
	}
	if n := s.QueryCount("big.client.test", dns.TypeTXT); n != 2 {
		t.Errorf("%d queries, want UDP then TCP", n)
	}
	if !dcHasEvent(evs, "larger than the 1232-byte EDNS0 buffer") || !dcHasEvent(evs, "retrying over TCP") {
		t.Errorf("events %+v", evs)
	}
}
