package dnstest

import (
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ServeDNS answers one query; it implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, udp := w.LocalAddr().(*net.UDPAddr)
	if len(req.Question) != 1 {
		_ = w.WriteMsg(new(dns.Msg).SetRcodeFormatError(req))
		return
	}
	f, delay := s.count(req, udp)
	if f == FaultDrop || !s.hold(delay) {
		return
	}
	if s.serveFault(w, req, f) {
		return
	}
	resp := s.answer(req, udp && f != FaultNoTruncate, f == FaultOversize, f == FaultStripDNSSEC)
	if (f == FaultTruncate && udp) || f == FaultTruncateTCP {
		truncate(resp)
	}
	switch f {
	case FaultWrongID, FaultWrongIDOnly:
		forged := resp.Copy()
		forged.Id = req.Id ^ 0x8001
		_ = w.WriteMsg(forged)
		if f == FaultWrongIDOnly {
			return
		}
	case FaultWrongQuestion:
		q := req.Question[0]
		forged := resp.Copy()
		forged.Question = []dns.Question{{Name: "wrong-question.invalid.", Qtype: q.Qtype, Qclass: q.Qclass}}
		_ = w.WriteMsg(forged)
	}
	_ = w.WriteMsg(resp)
}

// count counts req's question and returns the fault that applies to it
// over udp or TCP (FaultServFailDO resolved by req's DO bit) and the
// delay before answering.
func (s *Server) count(req *dns.Msg, udp bool) (Fault, time.Duration) {
	network := "tcp"
	if udp {
		network = "udp"
	}
	q := req.Question[0]
	key := questionOf(q.Name, q.Qtype)
	opt := req.IsEdns0()
	do := opt != nil && opt.Do()
	s.mu.Lock()
	s.counts[key]++
	s.total++
	if do {
		s.withDO++
	}
	f := s.faultFor(key, network)
	delay := s.delay
	s.mu.Unlock()
	if f == FaultServFailDO {
		f = FaultNone
		if do {
			f = FaultServFail
		}
	}
	return f, delay
}

// serveFault answers req as fault f has the server answer in place of
// the zones' answer, and reports whether it did: false for the faults
// that alter the answer itself (or none).
func (s *Server) serveFault(w dns.ResponseWriter, req *dns.Msg, f Fault) bool {
	opt := req.IsEdns0()
	do := opt != nil && opt.Do()
	resp := new(dns.Msg).SetReply(req)
	switch f {
	case FaultServFail:
		resp.Rcode = dns.RcodeServerFailure
	case FaultRefused:
		resp.Rcode = dns.RcodeRefused
	case FaultNXDomain:
		resp.Rcode = dns.RcodeNameError
		resp.RecursionAvailable = true
	case FaultDenyWithoutProof:
		resp.Rcode = dns.RcodeNameError
		q := req.Question[0]
		s.zmu.RLock()
		if z := s.findZone(q.Name, q.Qtype); z != nil {
			resp.Authoritative = true
			resp.Ns = z.negativeSOA(do && z.signedBy)
		}
		s.zmu.RUnlock()
	case FaultMalformed:
		// Right ID, QR set, one question announced, then the message ends.
		_, _ = w.Write([]byte{byte(req.Id >> 8), byte(req.Id), 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'b', 'a'})
		return true
	default:
		return false
	}
	if opt != nil {
		resp.SetEdns0(serverEDNSSize, do)
	}
	_ = w.WriteMsg(resp)
	return true
}

// answer builds the response to req from the zones; strip leaves out the
// DNSSEC records a DO bit asks for, while still echoing the bit.
func (s *Server) answer(req *dns.Msg, udp, oversize, strip bool) *dns.Msg {
	resp := new(dns.Msg).SetReply(req)
	resp.Compress = true
	opt := req.IsEdns0()
	do := opt != nil && opt.Do()
	withSigs := do && !strip
	q := req.Question[0]
	switch {
	case opt != nil && opt.Version() != 0:
		resp.Rcode = dns.RcodeBadVers // RFC 6891 §6.1.3
		resp.SetEdns0(serverEDNSSize, do)
		return resp
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
	case q.Qclass != dns.ClassINET:
		resp.Rcode = dns.RcodeRefused
	default:
		s.zmu.RLock()
		if z := s.findZone(q.Name, q.Qtype); z == nil {
			resp.Rcode = dns.RcodeRefused // not authoritative, and no recursion
		} else {
			resp.Authoritative = true
			z.resolve(resp, q.Name, q.Qtype, withSigs)
			resp.AuthenticatedData = s.cfg.AD && z.secure() && !z.tampered[questionOf(q.Name, q.Qtype)]
		}
		s.zmu.RUnlock()
	}
	if opt != nil {
		resp.SetEdns0(serverEDNSSize, do)
	}
	if oversize {
		pad(resp)
	}
	if udp {
		limit := dns.MinMsgSize
		if opt != nil {
			limit = min(max(int(opt.UDPSize()), dns.MinMsgSize), serverEDNSSize)
		}
		if resp.Len() > limit {
			truncate(resp)
		}
	}
	return resp
}

// secure reports whether the zone's data would validate from a trust
// anchor: signed, in its validity window, and chained by DS up to a zone
// that is itself an anchor. s.zmu held.
func (z *zone) secure() bool {
	for ; z != nil; z = z.parent {
		if !z.signedBy || z.expired || len(z.keys) == 0 {
			return false
		}
		if !z.dsInParent {
			return !z.cfg.NoDS // a top-most signed zone is a trust anchor
		}
	}
	return false
}

// truncate empties an answer that does not fit, keeping the OPT record,
// and sets TC so that the client asks again over TCP.
func truncate(m *dns.Msg) {
	m.Truncated = true
	m.Answer, m.Ns = nil, nil
	var extra []dns.RR
	for _, rr := range m.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	m.Extra = extra
}

// pad makes m larger than any UDP buffer without changing its records:
// an EDNS0 Padding option (RFC 7830), or without EDNS filler TXT records
// in the additional section, which clients ignore.
func pad(m *dns.Msg) {
	if opt := m.IsEdns0(); opt != nil {
		opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, oversizePadding)})
		return
	}
	filler := strings.Repeat("x", 250)
	for i := 0; i*260 < oversizePadding; i++ {
		m.Extra = append(m.Extra, &dns.TXT{
			Hdr: dns.RR_Header{Name: "padding.invalid.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0},
			Txt: []string{filler},
		})
	}
}
