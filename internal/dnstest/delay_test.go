package dnstest

import (
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A delayed server holds every answer back by the delay, over UDP and TCP,
// and answers queries in flight together concurrently: n parallel
// queries cost one delay, not n. Only lower bounds are asserted (an answer
// can never come sooner than the delay); how much later it comes depends
// on the machine.
func TestDelayHoldsEveryAnswerBack(t *testing.T) {
	const delay = 250 * time.Millisecond
	s := StartT(t, Config{Zones: clientZones(), Delay: delay})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			start := time.Now()
			if r := ask(t, s, network, "multi.client.test", dns.TypeTXT, true, false); len(r.Answer) != 1 {
				t.Fatalf("answer %v", r.Answer)
			}
			if took := time.Since(start); took < delay {
				t.Errorf("answered after %v, before the %v delay", took, delay)
			}
		})
	}

	// Eight queries at once: held concurrently, so together they finish
	// well before eight delays would.
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { ask(t, s, "udp", "multi.client.test", dns.TypeTXT, true, false) })
	}
	wg.Wait()
	if took := time.Since(start); took < delay || took >= 8*delay {
		t.Errorf("8 parallel queries took %v; want at least %v and less than %v (answers held one after another?)", took, delay, 8*delay)
	}

	s.SetDelay(0)
	start = time.Now()
	ask(t, s, "udp", "multi.client.test", dns.TypeTXT, true, false)
	if took := time.Since(start); took >= 8*delay {
		t.Errorf("SetDelay(0): answered after %v", took)
	}
}

// Close does not wait for answers being held back: they are dropped.
func TestCloseDropsHeldAnswers(t *testing.T) {
	s, err := Start(Config{Zones: clientZones(), Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
		c.Exchange(new(dns.Msg).SetQuestion("multi.client.test.", dns.TypeTXT), s.Addr())
	}()
	for s.TotalQueries() == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close waits for an answer held back an hour")
	}
	<-sent
}
