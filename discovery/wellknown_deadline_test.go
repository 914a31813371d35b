package discovery

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

// cancelOnResponse is a RoundTripper that ends the request's context the
// moment a real response has arrived: the deadline firing as the answer
// comes in, made deterministic.
type cancelOnResponse struct {
	next   http.RoundTripper
	cancel context.CancelFunc
}

func (c cancelOnResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	c.cancel()
	return resp, err
}

// A stalled server's empty 200 that arrives as the caller's deadline fires
// is the caller's timeout, not an invalid document: callers (and the linter)
// tell "the host publishes garbage" from "we gave up waiting" by errors.Is.
func TestFetchWellKnownEmptyBodyAtDeadline(t *testing.T) {
	srv, host := wellKnownServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK) // an empty body, as a handler that gave up writes
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := *srv.Client()
	client.Transport = cancelOnResponse{next: client.Transport, cancel: cancel}
	_, err := FetchWellKnown(ctx, &client, host, ParseOptions{})
	if !errors.Is(err, ErrWellKnownUnknown) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrMalformed) {
		t.Fatalf("empty 200 at the deadline: %v; want the context's error, not an invalid document", err)
	}
}
