package dnstest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// clientZones are the zones of the DNS client tests.
func clientZones() []Zone {
	return []Zone{
		{Origin: "client.test.", File: ZonePath("client.test.zone")},
		{Origin: "other.test.", File: ZonePath("other.test.zone")},
	}
}

// ask sends one query with miekg's client, a real peer.
func ask(t *testing.T, s *Server, network, name string, qtype uint16, edns, do bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(1232, do)
	}
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 1232}
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", dns.Type(qtype), name, network, err)
	}
	return r
}

func TestServerAnswersFromZoneFileWithAA(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	r := ask(t, s, "udp", "multi.client.test", dns.TypeTXT, true, false)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("rcode %s AA %v answer %v", dns.RcodeToString[r.Rcode], r.Authoritative, r.Answer)
	}
	if got := strings.Join(r.Answer[0].(*dns.TXT).Txt, ""); got != "v=oci1; prefix=acme; registry=https://registry.client.test" {
		t.Errorf("TXT = %q", got)
	}
	if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != 1232 {
		t.Errorf("OPT = %v, want EDNS0 with 1232", opt)
	}
}

func TestServerNegativeAnswersCarrySOAWithRFC2308TTL(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	for _, tc := range []struct {
		name    string
		qtype   uint16
		rcode   int
		soaTTL  uint32
		comment string
	}{
		{"nothing.client.test", dns.TypeTXT, dns.RcodeNameError, 300, "NXDOMAIN: min(3600, MINIMUM 300)"},
		{"multi.client.test", dns.TypeA, dns.RcodeSuccess, 300, "NODATA"},
		{"deep.client.test", dns.TypeTXT, dns.RcodeSuccess, 300, "empty non-terminal is NODATA, not NXDOMAIN"},
		{"nothing.other.test", dns.TypeTXT, dns.RcodeNameError, 60, "SOA TTL 60 below MINIMUM 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, s, "udp", tc.name, tc.qtype, true, false)
			if r.Rcode != tc.rcode || len(r.Answer) != 0 || len(r.Ns) != 1 {
				t.Errorf("%s (%s): rcode %s answer %v ns %v", tc.name, tc.comment, dns.RcodeToString[r.Rcode], r.Answer, r.Ns)
				return
			}
			if soa, ok := r.Ns[0].(*dns.SOA); !ok || soa.Hdr.Ttl != tc.soaTTL {
				t.Errorf("%s (%s): authority %v, want SOA with TTL %d", tc.name, tc.comment, r.Ns[0], tc.soaTTL)
			}
		})
	}
}

func TestServerChasesCNAMEInsideTheZoneOnly(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	r := ask(t, s, "udp", "alias.client.test", dns.TypeTXT, true, false)
	if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[1].Header().Rrtype != dns.TypeTXT {
		t.Errorf("in-zone CNAME: answer %v, want CNAME then TXT", r.Answer)
	}
	r = ask(t, s, "udp", "outside.client.test", dns.TypeTXT, true, false)
	if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || len(r.Ns) != 0 {
		t.Errorf("out-of-zone CNAME: answer %v ns %v, want the CNAME alone", r.Answer, r.Ns)
	}
	r = ask(t, s, "udp", "dangling.client.test", dns.TypeTXT, true, false)
	if r.Rcode != dns.RcodeNameError || len(r.Answer) != 1 {
		t.Errorf("dangling CNAME: rcode %s answer %v, want NXDOMAIN with the CNAME (RFC 6604)", dns.RcodeToString[r.Rcode], r.Answer)
	}
	r = ask(t, s, "udp", "loop1.client.test", dns.TypeTXT, true, false)
	if len(r.Answer) != 2 {
		t.Errorf("CNAME loop: answer %v, want both CNAMEs once", r.Answer)
	}
}

func TestServerTruncatesUDPAnswersLargerThanTheClientBuffer(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	r := ask(t, s, "udp", "big.client.test", dns.TypeTXT, true, false)
	if !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("UDP: TC %v answer %d records, want TC and empty", r.Truncated, len(r.Answer))
	}
	r = ask(t, s, "tcp", "big.client.test", dns.TypeTXT, true, false)
	if r.Truncated || len(r.Answer) != 8 {
		t.Errorf("TCP: TC %v answer %d records, want 8", r.Truncated, len(r.Answer))
	}
	// Without EDNS the limit is 512 bytes: the SRV answer fits, the TXT
	// RRset of ~1.6 KB does not.
	if r := ask(t, s, "udp", "_oci-registry._tcp.client.test", dns.TypeSRV, false, false); r.Truncated || len(r.Answer) != 2 {
		t.Errorf("small answer without EDNS: TC %v, %d records", r.Truncated, len(r.Answer))
	}
	if r := ask(t, s, "udp", "big.client.test", dns.TypeTXT, false, false); !r.Truncated {
		t.Errorf("large answer without EDNS not truncated")
	}
}

func TestServerRefusesNamesOutsideItsZones(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	r := ask(t, s, "udp", "example.com", dns.TypeA, true, false)
	if r.Rcode != dns.RcodeRefused || r.Authoritative {
		t.Errorf("rcode %s AA %v, want REFUSED without AA", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
}

func TestServerCountsQueriesPerQuestion(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	ask(t, s, "udp", "multi.client.test", dns.TypeTXT, true, false)
	ask(t, s, "tcp", "MULTI.client.test.", dns.TypeTXT, true, false)
	ask(t, s, "udp", "multi.client.test", dns.TypeA, true, false)
	if n := s.QueryCount("multi.client.test", dns.TypeTXT); n != 2 {
		t.Errorf("QueryCount TXT = %d, want 2 (case-insensitive, UDP and TCP)", n)
	}
	if n := s.QueryCount("multi.client.test.", dns.TypeNone); n != 3 {
		t.Errorf("QueryCount any type = %d, want 3", n)
	}
	if n := s.TotalQueries(); n != 3 {
		t.Errorf("TotalQueries = %d, want 3", n)
	}
	s.ResetCounts()
	if n := s.TotalQueries(); n != 0 {
		t.Errorf("TotalQueries after reset = %d", n)
	}
}

// rawUDP sends a query and returns the datagrams received: it waits up to
// 5s for each of the want expected ones, then briefly for any extra.
func rawUDP(t *testing.T, s *Server, m *dns.Msg, want int) [][]byte {
	t.Helper()
	conn, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for {
		wait := 5 * time.Second
		if len(got) >= want {
			wait = 100 * time.Millisecond
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 65535)
		n, err := conn.Read(buf)
		if err != nil {
			return got
		}
		got = append(got, buf[:n])
	}
}

func TestServerFaults(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	const name = "multi.client.test."
	for _, tc := range []struct {
		fault   Fault
		packets int
		check   func(t *testing.T, id uint16, pkts [][]byte)
	}{
		{FaultServFail, 1, wantRcodes(dns.RcodeServerFailure)},
		{FaultRefused, 1, wantRcodes(dns.RcodeRefused)},
		{FaultDrop, 0, func(t *testing.T, _ uint16, pkts [][]byte) {
			if len(pkts) != 0 {
				t.Errorf("got %d packets, want none", len(pkts))
			}
		}},
		{FaultWrongID, 2, func(t *testing.T, id uint16, pkts [][]byte) {
			ids := packetIDs(t, pkts)
			if len(ids) != 2 || ids[0] == id || ids[1] != id {
				t.Errorf("IDs %v, want a wrong one then %d", ids, id)
			}
		}},
		{FaultWrongIDOnly, 1, func(t *testing.T, id uint16, pkts [][]byte) {
			ids := packetIDs(t, pkts)
			if len(ids) != 1 || ids[0] == id {
				t.Errorf("IDs %v, want one wrong ID", ids)
			}
		}},
		{FaultWrongQuestion, 2, func(t *testing.T, id uint16, pkts [][]byte) {
			var qs []string
			for _, p := range pkts {
				m := new(dns.Msg)
				if err := m.Unpack(p); err != nil {
					t.Fatal(err)
				}
				qs = append(qs, m.Question[0].Name)
			}
			if len(qs) != 2 || qs[0] == name || qs[1] != name {
				t.Errorf("questions %v, want a wrong one then %s", qs, name)
			}
		}},
		{FaultTruncate, 1, func(t *testing.T, _ uint16, pkts [][]byte) {
			m := new(dns.Msg)
			if len(pkts) != 1 || m.Unpack(pkts[0]) != nil || !m.Truncated || len(m.Answer) != 0 {
				t.Errorf("want one truncated empty answer, got %d packets: %v", len(pkts), m)
			}
		}},
		{FaultOversize, 1, func(t *testing.T, _ uint16, pkts [][]byte) {
			m := new(dns.Msg)
			if len(pkts) != 1 || m.Unpack(pkts[0]) != nil || !m.Truncated {
				t.Errorf("want one truncated answer, got %d packets: %v", len(pkts), m)
			}
		}},
		{FaultMalformed, 1, func(t *testing.T, id uint16, pkts [][]byte) {
			if len(pkts) != 1 || len(pkts[0]) < 2 || uint16(pkts[0][0])<<8|uint16(pkts[0][1]) != id {
				t.Fatalf("want one packet with ID %d, got %d", id, len(pkts))
			}
			if err := new(dns.Msg).Unpack(pkts[0]); err == nil {
				t.Errorf("malformed packet parses")
			}
		}},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s.SetFault(name, dns.TypeTXT, tc.fault)
			defer s.SetFault(name, dns.TypeTXT, FaultNone)
			m := new(dns.Msg).SetQuestion(name, dns.TypeTXT)
			m.SetEdns0(1232, false)
			tc.check(t, m.Id, rawUDP(t, s, m, tc.packets))
		})
	}
	// Other types of the name, and TypeNone faults.
	s.SetFault(name, dns.TypeNone, FaultRefused)
	if r := ask(t, s, "udp", name, dns.TypeA, true, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("TypeNone fault: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	s.SetFault(name, dns.TypeNone, FaultNone)
	if r := ask(t, s, "udp", name, dns.TypeTXT, true, false); r.Rcode != dns.RcodeSuccess {
		t.Errorf("after FaultNone: rcode %s", dns.RcodeToString[r.Rcode])
	}
}

func TestServerOversizeFaultKeepsRecordsOverTCP(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	s.SetFault("multi.client.test", dns.TypeTXT, FaultOversize)
	for _, edns := range []bool{true, false} {
		t.Run(fmt.Sprint("edns=", edns), func(t *testing.T) {
			r := ask(t, s, "tcp", "multi.client.test", dns.TypeTXT, edns, false)
			if r.Truncated || len(r.Answer) != 1 || r.Len() < oversizePadding {
				t.Errorf("EDNS %v over TCP: TC %v, %d records, %d bytes", edns, r.Truncated, len(r.Answer), r.Len())
			}
		})
	}
}

// FaultTruncateTCP truncates over TCP too; FaultNoTruncate sends a UDP
// answer larger than the client's buffer whole.
func TestServerTruncationFaults(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	s.SetFault("multi.client.test", dns.TypeTXT, FaultTruncateTCP)
	if r := ask(t, s, "tcp", "multi.client.test", dns.TypeTXT, true, false); !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("truncate-tcp over TCP: TC %v, %d records; want TC and none", r.Truncated, len(r.Answer))
	}
	s.SetFault("big.client.test", dns.TypeTXT, FaultNoTruncate)
	m := new(dns.Msg).SetQuestion("big.client.test.", dns.TypeTXT)
	m.SetEdns0(1232, false)
	pkts := rawUDP(t, s, m, 1)
	r := new(dns.Msg)
	if len(pkts) != 1 || r.Unpack(pkts[0]) != nil || r.Truncated || len(r.Answer) != 8 || len(pkts[0]) <= 1232 {
		t.Errorf("no-truncate: %d packets; want one of more than 1232 bytes with 8 records: %v", len(pkts), r)
	}
}

func wantRcodes(rcode int) func(t *testing.T, id uint16, pkts [][]byte) {
	return func(t *testing.T, id uint16, pkts [][]byte) {
		m := new(dns.Msg)
		if len(pkts) != 1 || m.Unpack(pkts[0]) != nil || m.Rcode != rcode || m.Id != id {
			t.Errorf("want one %s with ID %d, got %d packets: %v", dns.RcodeToString[rcode], id, len(pkts), m)
		}
	}
}

func packetIDs(t *testing.T, pkts [][]byte) []uint16 {
	var ids []uint16
	for _, p := range pkts {
		m := new(dns.Msg)
		if err := m.Unpack(p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Id)
	}
	return ids
}

func TestServerZoneErrorsNameTheFileAndLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	soa := "@ IN SOA ns hostmaster 1 2 3 4 5\n"
	bad := write("bad.zone", "$ORIGIN bad.test.\n$TTL 60\n"+soa+"www IN A 300.1.2.3\n")
	for _, tc := range []struct {
		zone Zone
		want []string
	}{
		{Zone{Origin: "bad.test.", File: bad}, []string{bad, "line: 4"}},
		{Zone{Origin: "x.test.", File: filepath.Join(dir, "missing.zone")}, []string{"missing.zone"}},
		{Zone{Origin: "x.test.", Text: "www IN A 192.0.2.1\n"}, []string{"x.test.", "no SOA"}},
		{Zone{Origin: "x.test.", Text: soa + "www.y.test. IN A 192.0.2.1\n"}, []string{"outside the zone x.test."}},
		{Zone{Origin: "x.test.", Text: soa + "www IN CNAME a\nwww IN TXT \"b\"\n"}, []string{"www.x.test.", "CNAME must be alone"}},
		{Zone{Origin: "x.test.", Text: soa + "www CH TXT \"b\"\n"}, []string{"only IN"}},
		{Zone{Origin: "x.test.", Text: soa, File: bad}, []string{"not both"}},
		{Zone{Origin: "x.test.", Text: soa, Algorithm: 5, Sign: true}, []string{"algorithm 5"}},
		{Zone{Origin: "x.test.", Text: soa + "$INCLUDE /etc/hostname\n"}, []string{"$INCLUDE"}},
		{Zone{Origin: "x.test.", Text: soa, Expired: true}, []string{"x.test.", "need Sign"}},
	} {
		t.Run(tc.zone.Origin, func(t *testing.T) {
			_, err := Start(Config{Zones: []Zone{tc.zone}})
			if err == nil {
				t.Errorf("zone %+v: no error", tc.zone)
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	_, err := Start(Config{Zones: []Zone{{Origin: "x.test", Text: soa}, {Origin: "X.test.", Text: soa}}})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate zone: %v", err)
	}
}

func TestServerListensOnIPv6Loopback(t *testing.T) {
	s, err := Start(Config{Zones: clientZones(), Addr: "[::1]:0"})
	if err != nil {
		t.Skipf("IPv6 loopback unavailable here: %v", err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.Addr(), "[::1]:") {
		t.Fatalf("Addr = %s", s.Addr())
	}
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			if r := ask(t, s, network, "multi.client.test", dns.TypeTXT, true, false); len(r.Answer) != 1 {
				t.Errorf("%s: %v", network, r)
			}
		})
	}
}

func TestServerWildcardSynthesizesTheAskedName(t *testing.T) {
	s := StartT(t, Config{Zones: []Zone{{Origin: "signed.test.", File: ZonePath("signed.test.zone")}}})
	r := ask(t, s, "udp", "anything.wild.signed.test", dns.TypeTXT, true, false)
	if len(r.Answer) != 1 || r.Answer[0].Header().Name != "anything.wild.signed.test." {
		t.Errorf("answer %v, want a TXT owned by the asked name", r.Answer)
	}
}

func TestServerReferralForDelegationNotServed(t *testing.T) {
	s := StartT(t, Config{Zones: []Zone{{Origin: "signed.test.", File: ZonePath("signed.test.zone")}}})
	r := ask(t, s, "udp", "_oci-discovery.sub.signed.test", dns.TypeTXT, true, false)
	if r.Authoritative || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeNS || len(r.Extra) < 2 {
		t.Errorf("referral: AA %v answer %v ns %v extra %v", r.Authoritative, r.Answer, r.Ns, r.Extra)
	}
}

func TestFaultOnOneTransportOnly(t *testing.T) {
	s := StartT(t, Config{Zones: clientZones()})
	s.SetFault("multi.client.test", dns.TypeTXT, FaultServFail)
	s.SetFaultOn("udp", "multi.client.test", dns.TypeTXT, FaultTruncate)
	if r := ask(t, s, "udp", "multi.client.test", dns.TypeTXT, true, false); !r.Truncated {
		t.Errorf("UDP: %v, want the UDP-only fault (truncation)", r)
	}
	if r := ask(t, s, "tcp", "multi.client.test", dns.TypeTXT, true, false); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("TCP: %v, want the fault for both transports (SERVFAIL)", r)
	}
}
