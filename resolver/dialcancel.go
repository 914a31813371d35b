package resolver

import (
	"context"
	"net"
	"net/http"
)

// net/http dials a new connection with a context detached from the request
// that asked for it, so that a later request may use the connection: a dial
// outlives its request by as long as the dial takes. With --dns, a dial
// starts with address queries that may take seconds to time out, and
// abandoned requests for names that never resolve would pile up sockets.
// The two wrappers below tie each dial to its request: requestScoped puts
// the request's context into its values (which the dial context keeps), and
// dialScoped cancels the dial when that request ends, and bounds how many
// dials run at once.

// requestCtxKey holds, in a request's context, that context itself.
type requestCtxKey struct{}

// requestScoped is the RoundTripper in front of the Resolver's transport.
type requestScoped struct{ next http.RoundTripper }

// RoundTrip passes req on with its context recorded for dialScoped.
func (t requestScoped) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	return t.next.RoundTrip(req.WithContext(context.WithValue(ctx, requestCtxKey{}, ctx)))
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the
// transport, which only reaches a RoundTripper that has the method.
func (t requestScoped) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// dialScoped returns dial, cancelled when the request that caused the dial
// ends before the connection is made, and run at most cap(slots) at a
// time: a cancelled dial still takes a moment to stop, and under load those
// moments must not add up to unbounded sockets.
func dialScoped(dial func(context.Context, string, string) (net.Conn, error), slots chan struct{}) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if req, ok := ctx.Value(requestCtxKey{}).(context.Context); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			stop := context.AfterFunc(req, cancel)
			defer stop()
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
		}
		return dial(ctx, network, addr)
	}
}
