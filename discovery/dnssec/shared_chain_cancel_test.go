package dnssec_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
)

// heldQuerier asks the lab's real DNS client, holding one question until
// release is closed or the context asking it ends.
type heldQuerier struct {
	client  *dnsclient.Client
	name    string
	qtype   uint16
	asked   atomic.Int32
	arrived chan struct{} // closed when the question is first asked
	release chan struct{}
	ended   chan error // the context error of each held question given up
	once    sync.Once
}

func holdQuestion(client *dnsclient.Client, name string, qtype uint16) *heldQuerier {
	return &heldQuerier{client: client, name: name, qtype: qtype,
		arrived: make(chan struct{}), release: make(chan struct{}), ended: make(chan error, 8)}
}

func (h *heldQuerier) Query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error) {
	if dns.CanonicalName(name) == h.name && qtype == h.qtype {
		h.asked.Add(1)
		h.once.Do(func() { close(h.arrived) })
		select {
		case <-h.release:
		case <-ctx.Done():
			h.ended <- ctx.Err()
			return nil, ctx.Err()
		}
	}
	return h.client.Query(ctx, name, qtype)
}

type validated struct {
	sec dnssec.Security
	err error
}

func validateAsync(ctx context.Context, v *dnssec.Validator, a *dnsclient.Answer) chan validated {
	done := make(chan validated, 1)
	go func() {
		sec, err := v.Validate(ctx, a)
		done <- validated{sec, err}
	}()
	return done
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a liveness bound, not a timing assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// Two validations need the keys of corp.example.; the one that started
// fetching them gives up. The other must get its verdict from the same
// fetch: the shared computation belongs to no single validation (it used
// to fail with the first one's cancellation, and the second asked the
// DNSKEY question again).
func TestValidationLeavingDoesNotFailTheOthersSharingItsChain(t *testing.T) {
	l := startLab(t, testZones(0))
	answer := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	held := holdQuestion(l.client, "corp.example.", dns.TypeDNSKEY)
	v := dnssec.NewValidator(held, l.srv.TrustAnchors(), l.clock.now)

	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	a := validateAsync(ctxA, v, answer)
	<-held.arrived // A computes corp.example.'s keys
	b := validateAsync(context.Background(), v, answer)
	waitUntil(t, "B to join A's computation", func() bool { return dnssec.JoinedComputations(v) == 1 })

	cancelA()
	if got := <-a; got.sec != dnssec.Bogus || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("A, cancelled: %v %v; want bogus with context.Canceled", got.sec, got.err)
	}
	close(held.release)
	if got := <-b; got.sec != dnssec.Secure || got.err != nil {
		t.Fatalf("B: %v %v; want secure from the computation A started", got.sec, got.err)
	}
	if n := held.asked.Load(); n != 1 {
		t.Errorf("DNSKEY corp.example. asked %d times; want once, for both validations", n)
	}
	select {
	case err := <-held.ended:
		t.Errorf("the shared DNSKEY question was given up (%v) while B still waited", err)
	default:
	}
}

// When the last validation waiting for a shared computation leaves, the
// computation is cancelled: its held question sees its context end, and
// a validation after it starts afresh.
func TestLastValidationLeavingCancelsTheSharedChain(t *testing.T) {
	l := startLab(t, testZones(0))
	answer := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	held := holdQuestion(l.client, "corp.example.", dns.TypeDNSKEY)
	v := dnssec.NewValidator(held, l.srv.TrustAnchors(), l.clock.now)

	ctx, cancel := context.WithCancel(context.Background())
	a := validateAsync(ctx, v, answer)
	<-held.arrived
	cancel()
	if got := <-a; got.sec != dnssec.Bogus || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("cancelled validation: %v %v; want bogus with context.Canceled", got.sec, got.err)
	}
	select {
	case err := <-held.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the held question ended with %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // a liveness bound
		t.Fatal("the shared computation went on after its last validation left")
	}

	close(held.release)
	if sec, err := v.Validate(context.Background(), answer); sec != dnssec.Secure || err != nil {
		t.Errorf("validation after the abandoned one: %v %v; want secure", sec, err)
	}
	if n := held.asked.Load(); n != 2 {
		t.Errorf("DNSKEY corp.example. asked %d times; want twice (the abandoned computation, then a new one)", n)
	}
}

// A validation that gave up gets no event afterwards: the computation it
// started goes on for another validation, and the queries it sends then
// are not recorded in the trace of the one that left (whose caller may
// have printed it already).
func TestValidationThatLeftGetsNoLateEvents(t *testing.T) {
	l := startLab(t, testZones(0))
	answer := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	held := holdQuestion(l.client, "corp.example.", dns.TypeDNSKEY)
	v := dnssec.NewValidator(held, l.srv.TrustAnchors(), l.clock.now)

	trA := trace.New(nil)
	ctxA, cancelA := context.WithCancel(trace.NewContext(context.Background(), trA))
	a := validateAsync(ctxA, v, answer)
	<-held.arrived
	b := validateAsync(context.Background(), v, answer)
	waitUntil(t, "B to join A's computation", func() bool { return dnssec.JoinedComputations(v) == 1 })
	cancelA()
	<-a
	n := len(trA.Events())

	close(held.release) // the computation asks DNSKEY corp.example. now
	if got := <-b; got.sec != dnssec.Secure {
		t.Fatalf("B: %v %v; want secure", got.sec, got.err)
	}
	if late := trA.Events()[n:]; len(late) > 0 {
		t.Errorf("A's trace got %d events after A returned, the first %q", len(late), late[0])
	}
}
