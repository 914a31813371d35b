package trace

import "context"

// key is the context key of the *Trace; an unexported type so no other
// package can collide with it.
type key struct{}

// NewContext returns a context that carries tr. Every DNS query, HTTP fetch
// and decision made under that context adds its events to tr, so one trace
// follows a resolution through packages that only pass a context along.
// A nil tr is allowed and discards events.
func NewContext(ctx context.Context, tr *Trace) context.Context {
	return context.WithValue(ctx, key{}, tr)
}

// FromContext returns the trace carried by ctx, or nil (a *Trace that
// discards every event) when there is none.
func FromContext(ctx context.Context) *Trace {
	if ctx == nil {
		return nil
	}
	tr, _ := ctx.Value(key{}).(*Trace)
	return tr
}
