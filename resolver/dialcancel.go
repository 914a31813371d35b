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
// dialScoped cancels the dial when that request ends.

// requestCtxKey holds, in a request's context, that context itself.
type requestCtxKey struct{}

// requestScoped is the RoundTripper in front of the Resolver's transport.
type requestScoped struct{ next http.RoundTripper }

// RoundTrip passes req on with its context recorded for dialScoped.
func (t requestScoped) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	return t.next.RoundTrip(req.WithContext(context.WithValue(ctx, requestCtxKey{}, ctx)))
}

// dialScoped returns dial, cancelled when the request that caused the dial
// ends before the connection is made.
func dialScoped(dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		req, ok := ctx.Value(requestCtxKey{}).(context.Context)
		if !ok {
			return dial(ctx, network, addr)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(req, cancel)
		defer stop()
		return dial(ctx, network, addr)
	}
}
