// Package dnstest is a real authoritative DNS server (miekg/dns) for tests,
// benchmarks and the demo: it serves zone files on one loopback port over
// UDP and TCP, signs zones with DNSSEC keys made at start, and can be told
// to misbehave for chosen questions (SERVFAIL, silence, forged IDs, ...).
//
// Behaviour, as an authoritative server's:
//   - the deepest served zone that encloses the question answers it, with
//     the AA bit; DS questions are answered by the parent zone; names under
//     a delegation to a zone not served here get a referral;
//   - NXDOMAIN and NODATA carry the zone's SOA (TTL min(SOA TTL, MINIMUM),
//     RFC 2308 §3), and with the DO bit its RRSIG and the NSEC (or, with
//     Zone.NSEC3, NSEC3) records that prove the denial (RFC 4035 §3.1.3,
//     RFC 5155 §7.2);
//   - RRSIGs only when the query has the DO bit;
//   - CNAMEs are chased inside the zone, at most 8, loops cut;
//   - wildcards (RFC 4592) synthesize answers owned by the name asked, with
//     the wildcard's RRSIG and, with the DO bit, the NSEC or NSEC3 record
//     proving that no closer name exists (RFC 4035 §3.1.3.3, RFC 5155
//     §7.2.6);
//   - UDP answers larger than the client's EDNS buffer (at most 1232, 512
//     without EDNS) are truncated: TC bit and nothing but the OPT record.
//
// Signing follows what dnssec-signzone does, children first: each signed
// zone gets an ECDSAP256SHA256 (or Zone.Algorithm) KSK and ZSK, or one CSK;
// its DS goes into the parent zone when that is served and signed; then the
// parent is signed. TrustAnchors returns the DS of the top-most signed
// zones, for a validator. Keys come from crypto/rand: tests must not depend
// on their values. A zone can also be signed as an attacker would
// (Zone.CollidingKeys, Zone.BogusSigs: the KeyTrap attack).
//
// Config.Delay holds every answer back by a fixed time, so that benchmarks
// can count a client's serial round trips on loopback.
package dnstest

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Zone is one zone to serve.
type Zone struct {
	// Origin is the zone's apex, e.g. "example.test.".
	Origin string
	// File is the path of a zone file (RFC 1035 master file syntax, as
	// read by dns.NewZoneParser; no $INCLUDE). Errors name the file and
	// line.
	File string
	// Text is the zone inline, instead of File.
	Text string
	// Sign makes the server sign the zone at Start. A zone file may instead
	// carry its own RRSIG/NSEC records (pre-signed) with Sign false.
	Sign bool
	// Algorithm is the DNSSEC algorithm: dns.RSASHA256 (8),
	// dns.ECDSAP256SHA256 (13, the default), dns.ECDSAP384SHA384 (14) or
	// dns.ED25519 (15).
	Algorithm uint8
	// CSK signs with one combined key (flags 257) instead of a KSK and a ZSK.
	CSK bool
	// NoDS keeps the signed zone's DS out of its parent: the zone is an
	// island, insecure from the parent's point of view, and no trust anchor.
	NoDS bool
	// StripSigs serves the zone unsigned (no DNSKEY, RRSIG or NSEC) while
	// its parent publishes its DS: the "stripped" attack. Implies Sign.
	StripSigs bool
	// Expired signs with a validity window that ended before Now.
	Expired bool
	// CollidingKeys adds this many DNSKEYs to the signed zone's DNSKEY
	// RRset, each a valid public key of the zone's algorithm (13, 14 or
	// 15) with no private half, whose flags are chosen so that its key
	// tag equals the ZSK's (or CSK's): the KeyTrap attack (CVE-2023-50387)
	// makes a validator try every one of them for every RRSIG that names
	// the tag. The DNSKEY RRset is signed by the KSK as usual.
	CollidingKeys int
	// NSEC3 proves denials with NSEC3 records (RFC 5155: hashed owner
	// names, SHA-1) instead of NSEC, and publishes NSEC3PARAM at the apex:
	// NSEC3Iterations additional iterations of the hash, NSEC3Salt its
	// salt in hex ("" for none). NSEC3OptOut sets the opt-out flag and
	// leaves unsigned delegations (no DS) out of the chain (RFC 5155 §6),
	// so that their denial of DS is an opt-out span. Need Sign.
	NSEC3           bool
	NSEC3Iterations uint16
	NSEC3Salt       string
	NSEC3OptOut     bool
	// BogusSigs serves every data RRset of the zone (not its SOA, NS,
	// DNSKEY, DS, NSEC or NSEC3 RRsets, which keeps negative answers small) with
	// this many RRSIGs ahead of the genuine one: copies of it, same key
	// tag, algorithm, signer and validity, with random signature bytes,
	// which verify with no key.
	BogusSigs int
}

// Config configures a Server.
type Config struct {
	// Zones to serve; at least one; no two with the same origin.
	Zones []Zone
	// Addr to listen on, UDP and TCP; "127.0.0.1:0" (a free port) when
	// empty. "[::1]:0" serves IPv6.
	Addr string
	// Now is the clock signatures are dated by; time.Now when nil.
	Now func() time.Time
	// SigValidity is how long signatures stay valid after Now: 30 days
	// when zero.
	SigValidity time.Duration
	// SigInception is how long before Now signatures become valid (clock
	// skew allowance): 1 hour when zero.
	SigInception time.Duration
	// AD sets the AD bit on answers whose data this server knows to be
	// secure — from a signed zone chained by DS to a trust anchor, not
	// expired, stripped or tampered — as a validating resolver would. It
	// stands in for such a resolver in tests of trusting the AD bit; it is
	// not validation.
	AD bool
	// Delay holds every answer back this long before it is sent (UDP and
	// TCP, faulted answers too; FaultDrop still sends nothing), standing
	// in for the round trip to a distant resolver. Queries are answered
	// concurrently, so n queries in flight together cost one Delay, and n
	// queries in a row cost n: a benchmark measures a client's serial
	// round trips as (wall with Delay - wall without) / Delay. SetDelay
	// changes it while serving.
	Delay time.Duration
}

const (
	defaultSigValidity  = 30 * 24 * time.Hour
	defaultSigInception = time.Hour
	// serverEDNSSize is the largest UDP answer this server sends, as BIND's
	// default max-udp-size.
	serverEDNSSize = 1232
	// oversizePadding makes FaultOversize answers larger than any UDP buffer.
	oversizePadding = 4096
)

// Server is a running authoritative server. Its methods are safe for
// concurrent use with the queries it serves.
type Server struct {
	cfg   Config
	addr  string
	zones []*zone // deepest first

	zmu sync.RWMutex // zone data: read by queries, written by Tamper/Resign

	mu          sync.Mutex // faults, counters and the delay
	faults      map[faultKey]Fault
	serverFault Fault // for questions without a fault of their own
	counts      map[question]int
	total       int
	withDO      int // queries with the DO bit
	delay       time.Duration

	done chan struct{} // closed by Close: delayed answers are dropped

	udp, tcp  *dns.Server
	closeOnce sync.Once
	closeErr  error
}

// Start loads and signs the zones and starts serving. Errors name the
// zone, and for zone files the file and line.
func Start(cfg Config) (*Server, error) {
	if len(cfg.Zones) == 0 {
		return nil, errors.New("dnstest: no zones to serve")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SigValidity <= 0 {
		cfg.SigValidity = defaultSigValidity
	}
	if cfg.SigInception <= 0 {
		cfg.SigInception = defaultSigInception
	}
	s := &Server{cfg: cfg, faults: map[faultKey]Fault{}, counts: map[question]int{}, delay: cfg.Delay, done: make(chan struct{})}
	seen := map[string]bool{}
	for _, zc := range cfg.Zones {
		z, err := loadZone(zc)
		if err != nil {
			return nil, err
		}
		if seen[z.origin] {
			return nil, fmt.Errorf("dnstest: zone %s configured twice", z.origin)
		}
		seen[z.origin] = true
		s.zones = append(s.zones, z)
	}
	sort.SliceStable(s.zones, func(i, j int) bool {
		return dns.CountLabel(s.zones[i].origin) > dns.CountLabel(s.zones[j].origin)
	})
	for i, z := range s.zones {
		for _, p := range s.zones[i+1:] {
			if p.origin != z.origin && dns.IsSubDomain(p.origin, z.origin) {
				z.parent = p
				break
			}
		}
	}
	if err := s.signAll(); err != nil {
		return nil, err
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

// signAll signs the zones children first, putting each child's DS into its
// parent before the parent is signed.
func (s *Server) signAll() error {
	for _, z := range s.zones {
		if !z.cfg.Sign && !z.cfg.StripSigs {
			for _, n := range z.nodes {
				if len(n.sigs) > 0 {
					z.signedBy = true // pre-signed file
				}
			}
			continue
		}
		if err := z.generateKeys(); err != nil {
			return err
		}
		if err := z.signZone(s.window(z.cfg.Expired)); err != nil {
			return err
		}
		z.expired = z.cfg.Expired
		if p := z.parent; p != nil && !z.cfg.NoDS && (p.cfg.Sign || p.cfg.StripSigs) {
			n := p.node(z.origin)
			n.rrsets[dns.TypeDS] = append([]dns.RR(nil), z.ds...)
			z.dsInParent = true
		}
	}
	return nil
}

// window is the signature validity window: around Now, or one that ended
// an hour ago for expired signatures.
func (s *Server) window(expired bool) (inception, expiration time.Time) {
	now := s.cfg.Now()
	if expired {
		return now.Add(-s.cfg.SigValidity - time.Hour), now.Add(-time.Hour)
	}
	return now.Add(-s.cfg.SigInception), now.Add(s.cfg.SigValidity)
}

// listen binds UDP and TCP on one port and starts both servers.
func (s *Server) listen() error {
	addr := s.cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dnstest: listen address %q: %w", addr, err)
	}
	var (
		l  net.Listener
		pc net.PacketConn
	)
	// A free TCP port may be taken for UDP: try a few before giving up.
	for try := 0; ; try++ {
		if l, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("dnstest: %w", err)
		}
		bound := net.JoinHostPort(host, fmt.Sprint(l.Addr().(*net.TCPAddr).Port))
		if pc, err = net.ListenPacket("udp", bound); err == nil {
			s.addr = bound
			break
		}
		l.Close()
		if port != "0" || try == 10 {
			return fmt.Errorf("dnstest: %w", err)
		}
	}
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.tcp = &dns.Server{Listener: l, Handler: s, NotifyStartedFunc: notify}
	s.udp = &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: notify}
	errc := make(chan error, 2)
	for _, srv := range []*dns.Server{s.tcp, s.udp} {
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				errc <- err
			}
		}()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-errc:
			s.Close()
			return fmt.Errorf("dnstest: serving: %w", err)
		}
	}
	return nil
}

// Addr returns the address served, "127.0.0.1:port" (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Close stops serving. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		var errs []error
		for _, srv := range []*dns.Server{s.udp, s.tcp} {
			if srv != nil {
				if err := srv.Shutdown(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// SetDelay sets the delay added to every answer from now on (see
// Config.Delay); 0 answers at once.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = max(d, 0)
}

// hold waits d before an answer is sent; false when the server closed
// meanwhile (the answer is then dropped, so Close never waits on it).
func (s *Server) hold(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// ZonePath returns the path of a file in the repository's
// testdata/zones directory, so that tests of any package find the shared
// zone files whatever their working directory.
func ZonePath(file string) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testdata", "zones", file)
	}
	return filepath.Join(filepath.Dir(self), "..", "..", "testdata", "zones", file)
}

// findZone returns the zone that answers name/qtype: the deepest served
// zone enclosing name, or for DS at a zone's apex its parent. s.zmu held.
func (s *Server) findZone(name string, qtype uint16) *zone {
	name = dns.CanonicalName(name)
	for _, z := range s.zones { // deepest first
		if dns.IsSubDomain(z.origin, name) {
			if qtype == dns.TypeDS && z.origin == name && z.parent != nil {
				return z.parent
			}
			return z
		}
	}
	return nil
}

// zoneFor returns the zone with this origin, or an error naming it.
func (s *Server) zoneFor(origin string) (*zone, error) {
	o := dns.CanonicalName(origin)
	for _, z := range s.zones {
		if z.origin == o {
			return z, nil
		}
	}
	return nil, fmt.Errorf("dnstest: no zone %s served", o)
}
