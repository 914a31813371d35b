package check

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
)

// checkSRV judges the SRV RRset at _oci-registry._tcp.<host>: its DNSSEC
// status, its targets (each must have addresses), and whether an
// unauthenticated target elsewhere will have to prove it is <host> in TLS.
func (c *checker) checkSRV(ctx context.Context) {
	if !c.dns {
		return
	}
	q := "SRV " + c.srvName()
	// SRV is consulted only for paths no usable TXT mapping decides.
	sev := Error
	if c.decidedBefore(discovery.SourceSRV) {
		sev = Warning
	}
	if c.srvErr != nil {
		c.srvBroken = true
		c.add(sev, CodeSRVLookupFailed, "", fmt.Sprintf("%s: %v: the answer is unknown, so clients fail names under %s that no TXT mapping decides", q, c.srvErr, c.host),
			"make every authoritative server of the zone answer this name (NOERROR with the records, or NXDOMAIN/NODATA)")
		return
	}
	a := c.srvAnswer
	if a.Absent() {
		return
	}
	auth, how, err := c.authenticate(ctx, a)
	if err != nil {
		c.srvBroken = true
		c.add(sev, CodeSRVBogus, "", fmt.Sprintf("%s: %v: clients reject the answer", q, err),
			"re-sign the zone or fix the DS at the parent; check with delv "+c.srvName()+" SRV")
		return
	}
	c.srvAuth = auth
	c.add(Info, CodeDNSSECStatus, "", q+": DNSSEC "+how, "")

	c.checkSRVRecords(ctx, q, sev, auth, a.Records)
}

// checkSRVRecords judges the records of a known SRV answer: their number,
// their targets, "no registry here".
func (c *checker) checkSRVRecords(ctx context.Context, q string, sev Severity, auth discovery.Auth, rrs []dns.RR) {
	srvs, err := discovery.SRVRecords(rrs)
	if err != nil {
		c.srvBroken = true
		c.add(sev, CodeSRVTooLarge, "", fmt.Sprintf("%s: %v: clients refuse the whole RRset as an unknown answer", q, err),
			fmt.Sprintf("publish at most %d SRV records (clients try at most %d targets)", discovery.MaxRRsetRecords, discovery.MaxEndpoints))
		return
	}
	eps, none, err := discovery.SRVEndpoints(srvs, c.name, probeComponent)
	switch {
	case err != nil:
		c.srvBroken = true
		c.add(Error, CodeSRVMalformed, "", fmt.Sprintf("%s: %v", q, err), "give every SRV record a valid host name target and a port from 1 to 65535")
		return
	case none:
		c.srvNone = true
		c.add(Info, CodeSRVNoRegistry, `0 0 0 .`, q+`: target "." says there is no registry at this host: names no other source maps fail with "no registry"`, "")
		return
	}
	c.srvEPs = eps
	if c.decidedBefore(discovery.SourceSRV) {
		c.add(Info, CodeSRVShadowed, "", q+": unused: a TXT mapping for every path decides first", "")
	}
	for _, s := range srvs {
		if s.Target != "." {
			c.checkSRVTarget(ctx, q, s, auth)
		}
	}
}

// checkSRVTarget looks up one target's addresses and queues its registry
// for a probe, with the TLS name clients require of it.
func (c *checker) checkSRVTarget(ctx context.Context, q string, s *dns.SRV, auth discovery.Auth) {
	target := strings.ToLower(strings.TrimSuffix(s.Target, "."))
	record := fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, s.Target)
	lctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	addrs, err := c.cfg.DNS.LookupIP(lctx, target)
	cancel()
	if err != nil {
		c.add(Error, CodeSRVUnresolved, record, fmt.Sprintf("%s: target %s has no address: %v", q, target, err),
			"publish A and/or AAAA records for "+target+", or point the SRV record at a name that has them")
		return
	}
	strs := make([]string, len(addrs))
	for i, ad := range addrs {
		strs[i] = ad.String()
	}
	c.add(Info, CodeSRVTarget, record, fmt.Sprintf("%s: target %s port %d at %s", q, target, s.Port, strings.Join(strs, ", ")), "")

	hp := target
	if s.Port != 443 {
		hp = net.JoinHostPort(target, strconv.Itoa(int(s.Port)))
	}
	scheme := "https://"
	if c.cfg.Insecure(hp) || c.cfg.Insecure(target) {
		scheme = "http://"
	}
	p := probe{url: scheme + hp, host: c.host, record: record, source: discovery.SourceSRV}
	// An unauthenticated SRV record may move the connection, never the
	// identity: clients then require a certificate valid for <host>.
	if auth == discovery.AuthNone && !c.cfg.DNSSECOff && !discovery.SameHost(target, c.host) {
		p.serverName = c.name
	}
	c.addProbe(p)
}

// txtCoversAll reports whether a usable TXT mapping decides every path.
func (c *checker) txtCoversAll() bool {
	for _, m := range c.txt {
		if m.Prefix == "" && c.usable(m, c.txtAuth) {
			return true
		}
	}
	return false
}
