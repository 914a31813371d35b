package dnsclient_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// docs/protocol.md §9: on a timeout, SERVFAIL or REFUSED the client tries
// the next server before it calls the answer unknown.
func TestFailingServerIsSkippedForTheNextOne(t *testing.T) {
	for _, f := range []dnstest.Fault{dnstest.FaultServFail, dnstest.FaultRefused, dnstest.FaultDrop} {
		t.Run(f.String(), func(t *testing.T) {
			bad, good := dcStart(t, dnstest.Config{}), dcStart(t, dnstest.Config{})
			bad.SetFault("multi.client.test", dns.TypeTXT, f)
			timeout := time.Duration(0)
			if f == dnstest.FaultDrop {
				timeout = 200 * time.Millisecond
			}
			c := dnstest.ClientT(t, timeout, bad.Addr(), good.Addr())
			a, evs := dcQuery(t, c, "multi.client.test", dns.TypeTXT)
			if a.Server != good.Addr() || len(a.Records) != 1 {
				t.Errorf("answered by %s with %v, want %s", a.Server, a.Records, good.Addr())
			}
			if bad.QueryCount("multi.client.test", dns.TypeTXT) != 1 || good.QueryCount("multi.client.test", dns.TypeTXT) != 1 {
				t.Errorf("queries: bad %d good %d", bad.QueryCount("multi.client.test", dns.TypeTXT), good.QueryCount("multi.client.test", dns.TypeTXT))
			}
			if len(evs) != 2 || evs[0].Server != bad.Addr() || evs[1].Server != good.Addr() || evs[1].Outcome != "NOERROR" {
				t.Errorf("events %+v", evs)
			}
		})
	}
}

func TestEveryServerFailingIsAnUnknownAnswer(t *testing.T) {
	s1, s2 := dcStart(t, dnstest.Config{}), dcStart(t, dnstest.Config{})
	s1.SetFault("multi.client.test", dns.TypeTXT, dnstest.FaultRefused)
	s2.SetFault("multi.client.test", dns.TypeTXT, dnstest.FaultServFail)
	c, err := dnsclient.New(dnsclient.Config{Servers: []string{s1.Addr(), s2.Addr()}, Timeout: 5 * time.Second, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), "multi.client.test", dns.TypeTXT)
	var de *dnsclient.Error
	if !errors.As(err, &de) || !errors.Is(err, dnsclient.ErrUnknown) {
		t.Fatalf("err %v, want *dnsclient.Error wrapping ErrUnknown", err)
	}
	if de.Rcode != dns.RcodeServerFailure || de.Server != s2.Addr() || de.Name != "multi.client.test." || de.Qtype != dns.TypeTXT {
		t.Errorf("%+v", de)
	}
	for _, w := range []string{"TXT multi.client.test.", s2.Addr(), "SERVFAIL", "4 queries to 2 servers"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not mention %q", err, w)
		}
	}
	// Attempts: every server is asked once per round; then the one that
	// answered SERVFAIL once more without the DO bit (it might be failing
	// DNSSEC queries only).
	if n1, n2 := s1.QueryCount("multi.client.test", dns.TypeTXT), s2.QueryCount("multi.client.test", dns.TypeTXT); n1 != 2 || n2 != 3 {
		t.Errorf("queries %d and %d, want 2 and 3", n1, n2)
	}
	if do := s2.QueriesWithDO(); do != 2 {
		t.Errorf("%d queries to the SERVFAIL server with DO, want 2", do)
	}
}

func TestTimeoutOnEveryServerIsAnUnknownAnswer(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	s.SetFault("multi.client.test", dns.TypeTXT, dnstest.FaultDrop)
	c := dnstest.ClientT(t, 100*time.Millisecond, s.Addr())
	_, err := c.Query(context.Background(), "multi.client.test", dns.TypeTXT)
	var de *dnsclient.Error
	if !errors.As(err, &de) || !errors.Is(err, dnsclient.ErrUnknown) || de.Rcode != -1 || !strings.Contains(err.Error(), "no response within 100ms") {
		t.Errorf("err %v", err)
	}
}

func TestContextDeadlineEndsTheQuery(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	s.SetFault("multi.client.test", dns.TypeTXT, dnstest.FaultDrop)
	c := dnstest.ClientT(t, time.Hour, s.Addr(), s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, "multi.client.test", dns.TypeTXT)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, dnsclient.ErrUnknown) {
		t.Errorf("err %v, want the context's deadline and ErrUnknown", err)
	}
	// The second server entry was never tried once the context ended.
	if n := s.QueryCount("multi.client.test", dns.TypeTXT); n != 1 {
		t.Errorf("%d queries after the deadline, want 1", n)
	}
}

func TestCanceledContextAsksNobody(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, "multi.client.test", dns.TypeTXT); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	if s.TotalQueries() != 0 {
		t.Errorf("%d queries", s.TotalQueries())
	}
}

func TestUnreachableServerIsSkipped(t *testing.T) {
	// A port nobody listens on: the kernel answers ICMP port unreachable,
	// which a connected UDP socket reports as "connection refused".
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, dead, s.Addr())
	a, evs := dcQuery(t, c, "multi.client.test", dns.TypeTXT)
	if a.Server != s.Addr() || len(evs) != 2 || evs[0].Server != dead {
		t.Errorf("server %s events %+v", a.Server, evs)
	}
}
