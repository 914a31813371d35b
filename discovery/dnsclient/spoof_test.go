package dnsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// A stub resolver ignores UDP responses that do not answer its query (ID
// or question) and keeps waiting: an off-path forger's packet is dropped
// and the genuine answer that follows is taken.
func TestForgedResponsesAreIgnoredAndTheAnswerTaken(t *testing.T) {
	for _, f := range []dnstest.Fault{dnstest.FaultWrongID, dnstest.FaultWrongQuestion} {
		t.Run(f.String(), func(t *testing.T) {
			s := dcStart(t, dnstest.Config{})
			s.SetFault("multi.client.test", dns.TypeTXT, f)
			c := dnstest.ClientT(t, 0, s.Addr())
			a, evs := dcQuery(t, c, "multi.client.test", dns.TypeTXT)
			if len(a.Records) != 1 || a.Msg.Question[0].Name != "multi.client.test." {
				t.Errorf("records %v", a.Records)
			}
			if !dcHasEvent(evs, "ignored response") {
				t.Errorf("trace does not show the ignored response: %+v", evs)
			}
			if n := s.QueryCount("multi.client.test", dns.TypeTXT); n != 1 {
				t.Errorf("%d queries, want 1: the same socket kept waiting", n)
			}
		})
	}
}

// With only forgeries and garbage coming back, the answer is unknown after
// the timeout — never the forged content.
func TestOnlyForgedOrMalformedResponsesTimeOut(t *testing.T) {
	for _, f := range []dnstest.Fault{dnstest.FaultWrongIDOnly, dnstest.FaultMalformed} {
		t.Run(f.String(), func(t *testing.T) {
			s := dcStart(t, dnstest.Config{})
			s.SetFault("multi.client.test", dns.TypeTXT, f)
			c := dnstest.ClientT(t, 200*time.Millisecond, s.Addr())
			tr := trace.New(nil)
			_, err := c.Query(trace.NewContext(context.Background(), tr), "multi.client.test", dns.TypeTXT)
			if !errors.Is(err, dnsclient.ErrUnknown) {
				t.Errorf("err %v, want ErrUnknown", err)
			}
			if !dcHasEvent(tr.Events(), "ignored response") {
				t.Errorf("trace %+v", tr.Events())
			}
		})
	}
}
