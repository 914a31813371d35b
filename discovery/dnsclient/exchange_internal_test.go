package dnsclient

import (
	"testing"

	"github.com/miekg/dns"
)

// RFC 8914: a validating resolver says why it failed; the trace and the
// error carry it.
func TestRcodeTextIncludesTheExtendedDNSError(t *testing.T) {
	m := new(dns.Msg)
	m.Rcode = dns.RcodeServerFailure
	if got := rcodeText(m); got != "SERVFAIL" {
		t.Errorf("%q", got)
	}
	m.SetEdns0(1232, true)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeDNSBogus, ExtraText: "signature expired"})
	if got, want := rcodeText(m), `SERVFAIL (EDE 6 DNSSEC Bogus: "signature expired")`; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	unnamed := new(dns.Msg)
	unnamed.Rcode = 3841
	if got := rcodeText(unnamed); got != "RCODE3841" {
		t.Errorf("%q", got)
	}
}

func TestMismatchAcceptsAnErrorWithoutQuestion(t *testing.T) {
	req := new(dns.Msg).SetQuestion("a.test.", dns.TypeTXT)
	resp := new(dns.Msg).SetRcode(req, dns.RcodeFormatError)
	resp.Question = nil
	if why := mismatch(req, resp); why != "" {
		t.Errorf("FORMERR without question: %q", why)
	}
	resp.Rcode = dns.RcodeSuccess
	if why := mismatch(req, resp); why == "" {
		t.Error("NOERROR without question accepted")
	}
	resp = new(dns.Msg).SetReply(req)
	resp.Question[0].Name = "A.TEST."
	if why := mismatch(req, resp); why != "" {
		t.Errorf("0x20 case change refused: %q", why)
	}
	resp.Response = false
	if why := mismatch(req, resp); why == "" {
		t.Error("a query accepted as a response")
	}
}
