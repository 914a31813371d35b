package resolver

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: 429, 408 and 503 are retried honouring
// Retry-After, bounded (§11). Sleep is injected: the test asserts the
// waits asked for, never the time taken.
func TestThrottledRequestRetriesAfterRetryAfter(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	want := reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 2, RetryAfter: "2"})
	c, s := testClient(t, reg, nil)
	tr := trace.New(nil)
	res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, tr)
	if err != nil || res.Digest != want {
		t.Fatalf("got %+v %v", res, err)
	}
	if got := s.waits(); !reflect.DeepEqual(got, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Fatalf("waits %v, want the Retry-After 2s twice", got)
	}
	if n := reg.Requests(); n.Throttled != 2 || n.ManifestHEAD != 3 {
		t.Fatalf("requests %+v", n)
	}
	ev := tr.Events()
	if len(ev) != 3 || ev[0].Outcome != "429" || !strings.Contains(ev[0].Decision, "retry 1 of 3 in 2s (Retry-After: 2)") {
		t.Fatalf("trace %+v", ev)
	}
}

func TestRetryAfterIsBoundedByMaxRetryAfter(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 1, RetryAfter: "86400"})
	c, s := testClient(t, reg, func(c *registryConfig) { c.MaxRetryAfter = 3 * time.Second })
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if got := s.waits(); !reflect.DeepEqual(got, []time.Duration{3 * time.Second}) {
		t.Fatalf("waits %v, want one bounded 3s", got)
	}
}

func TestRetryAfterHTTPDateIsRelativeToTheClock(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 1, RetryAfter: now.Add(4 * time.Second).Format(http.TimeFormat)})
	c, s := testClient(t, reg, func(c *registryConfig) { c.Now = func() time.Time { return now } })
	resolveTag(t, c, reg, "org/app", "v1", nil)
	if got := s.waits(); !reflect.DeepEqual(got, []time.Duration{4 * time.Second}) {
		t.Fatalf("waits %v, want 4s", got)
	}
}

func TestThrottleWithoutRetryAfterBacksOff(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 3, ThrottleStatus: http.StatusServiceUnavailable, RetryAfter: "soon"})
	c, s := testClient(t, reg, nil)
	resolveTag(t, c, reg, "org/app", "v1", nil)
	want := []time.Duration{retryBackoff, 2 * retryBackoff, 4 * retryBackoff}
	if got := s.waits(); !reflect.DeepEqual(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
}

func TestRequestTimeoutStatusIsRetriedToo(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	want := reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 1, ThrottleStatus: http.StatusRequestTimeout, RetryAfter: "1"})
	c, _ := testClient(t, reg, nil)
	if res := resolveTag(t, c, reg, "org/app", "v1", nil); res.Digest != want {
		t.Fatalf("got %s", res.Digest)
	}
}

func TestThrottlingBeyondMaxRetriesFails(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 100, RetryAfter: "1"})
	c, s := testClient(t, reg, func(c *registryConfig) { c.MaxRetries = 2 })
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	e := wantKind(t, err, ErrUpstream)
	if !strings.Contains(e.Error(), "HTTP 429") || !strings.Contains(e.Error(), "after 2 retries") {
		t.Fatalf("error %q", e)
	}
	if len(s.waits()) != 2 || reg.Requests().ManifestHEAD != 3 {
		t.Fatalf("waits %v requests %+v", s.waits(), reg.Requests())
	}
}

func TestRetryWaitPastTheDeadlineFailsAtOnce(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{Throttle: 1, RetryAfter: "5"})
	c, s := testClient(t, reg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.resolve(ctx, endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	wantKind(t, err, ErrTimeout)
	if len(s.waits()) != 0 {
		t.Fatalf("slept %v although the deadline was nearer", s.waits())
	}
}
