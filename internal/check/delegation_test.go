package check

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// TestDelegationLoop: two hosts delegating to each other; discovery's
// visited set finds the loop, wherever the chain starts.
func TestDelegationLoop(t *testing.T) {
	l := newLab(t, nil)
	for _, host := range []string{"loop-a.example.com", "loop-b.example.com"} {
		t.Run(host, func(t *testing.T) {
			fs := l.check(t, host, nil)
			want(t, fs, "error DELEGATION_LOOP")
			// The record that closed the loop is the one to fix.
			if f, _ := find(fs, CodeDelegationLoop); !strings.Contains(f.Record, "delegate=loop-") {
				t.Errorf("%s: loop finding names no record: %s", host, f)
			}
		})
	}
}

// TestDelegationTooDeep: a chain longer than clients follow.
func TestDelegationTooDeep(t *testing.T) {
	l := newLab(t, nil)
	fs := l.check(t, "d1.example.com", func(c *Config) { c.MaxHops = 2 })
	want(t, fs, "error DELEGATION_TOO_DEEP")
	f, _ := find(fs, CodeDelegationTooDeep)
	if !strings.Contains(f.Fix, "at most 2") {
		t.Errorf("fix %q does not give the limit", f.Fix)
	}
	// Within the default limit the same chain is fine, and described.
	fs = l.check(t, "d1.example.com", nil)
	wantNo(t, fs, CodeDelegationTooDeep)
	want(t, fs, "info DELEGATION", "info REGISTRY_OK")
	f, _ = find(fs, CodeDelegation)
	if !strings.Contains(f.Message, "d4.example.com/ocidns-check") || !strings.Contains(f.Message, "deep/ocidns-check") {
		t.Errorf("chain description: %s", f)
	}
}

// TestDelegateFailure: the delegate's TXT answer is unknown (SERVFAIL);
// the finding is about the delegate.
func TestDelegateFailure(t *testing.T) {
	l := newLab(t, nil)
	l.server.SetFault("_oci-discovery.broken.example.com.", dns.TypeTXT, dnstest.FaultServFail)
	fs := l.check(t, "tobroken.example.com", nil)
	f, ok := find(fs, CodeDelegateFailed)
	if !ok || f.Severity != Error || f.Host != "broken.example.com" {
		t.Errorf("want a DELEGATE_FAILED error at broken.example.com; got:\n%s", dump(fs))
	}
}
