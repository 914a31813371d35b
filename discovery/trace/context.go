package trace

import (
	"context"
	"time"
)

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

// Span is a step with parts, begun by Begin and recorded by End. A nil
// *Span (no trace in the context) records nothing.
type Span struct {
	tr    *Trace // the view the step itself is recorded in
	id    int
	start time.Time
}

// Begin starts a step with parts under ctx's trace: the events added
// under the context it returns have the step as their Parent. The step
// itself is recorded when the Span ends. Without a trace in ctx, Begin
// returns ctx and a nil Span.
func Begin(ctx context.Context) (context.Context, *Span) {
	tr := FromContext(ctx)
	if tr == nil {
		return ctx, nil
	}
	s := &Span{tr: tr, id: int(tr.rec.lastID.Add(1)), start: tr.rec.now()}
	return NewContext(ctx, tr.under(s.id)), s
}

// End records the step as e: with the ID its parts name as their Parent,
// and, when e sets none, the time since Begin as its Duration. A step
// never ended is not in the trace, and its parts name a Parent that is
// not there either.
func (s *Span) End(e Event) {
	if s == nil {
		return
	}
	e.Time = s.tr.rec.now()
	if e.Duration <= 0 {
		e.Duration = e.Time.Sub(s.start)
	}
	s.tr.add(e, s.id)
}

// WithHop returns a context whose trace marks its events, and those of
// the steps begun under it, as belonging to discovery hop n (1 for the
// name's own host). Without a trace in ctx it returns ctx.
func WithHop(ctx context.Context, n int) context.Context {
	tr := FromContext(ctx)
	if tr == nil {
		return ctx
	}
	return NewContext(ctx, tr.inHop(n))
}
