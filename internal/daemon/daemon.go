// Package daemon is the HTTP API of `ocidns serve`: what a container engine
// on the same machine calls to resolve names through one shared cache.
//
//	GET /v1/resolve?ref=REF[&platform=OS/ARCH[/VARIANT]]  the JSON of `ocidns resolve -o json`
//	GET /v1/trace?ref=REF                                  the trace events of one resolution
//	GET /healthz                                           "ok"
//	GET /metrics                                           Prometheus text format
//
// Errors are JSON objects {"ref","error","code"} with the HTTP status of
// their code: 400 invalid reference, 404 not found, 401 unauthorized, 502
// upstream or discovery failure, 504 timeout, 503 when too many requests are
// in flight.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver"
)

// Defaults of a Handler.
const (
	DefaultMaxInFlight    = 256
	DefaultRequestTimeout = 30 * time.Second
	maxRefLength          = 4096
)

// Config configures a Handler.
type Config struct {
	Resolver *resolver.Resolver
	// MaxInFlight bounds concurrent /v1 requests; excess requests get 503
	// at once instead of queueing (default 256).
	MaxInFlight int
	// RequestTimeout bounds each request (default 30s).
	RequestTimeout time.Duration
	// Logger receives one line per request at info (nil: slog.Default()).
	Logger *slog.Logger
}

// Handler serves the daemon's API. Create it with New.
type Handler struct {
	cfg     Config
	sem     chan struct{}
	mux     *http.ServeMux
	metrics *metrics
}

// New returns the API handler for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight), mux: http.NewServeMux(), metrics: newMetrics()}
	h.mux.HandleFunc("GET /v1/resolve", h.limited(h.serveResolve))
	h.mux.HandleFunc("GET /v1/trace", h.limited(h.serveTrace))
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	h.mux.HandleFunc("GET /metrics", h.serveMetrics)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// errorBody is the JSON of every error answer.
type errorBody struct {
	Ref   string `json:"ref,omitempty"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

// limited sheds load beyond MaxInFlight with a quick 503 and bounds each
// request's time.
func (h *Handler) limited(next func(http.ResponseWriter, *http.Request) (status int, code string, cached bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var status int
		var code string
		var cached bool
		select {
		case h.sem <- struct{}{}:
			ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
			status, code, cached = next(w, r.WithContext(ctx))
			cancel()
			<-h.sem
		default:
			status, code = http.StatusServiceUnavailable, "OVERLOADED"
			w.Header().Set("Retry-After", "1")
			writeJSON(w, status, errorBody{Error: "too many requests in flight", Code: code})
		}
		d := time.Since(start)
		outcome := "ok"
		if code != "" {
			outcome = code
		}
		h.metrics.observe(r.URL.Path, outcome, d)
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("ref", truncate(r.URL.Query().Get("ref"))), slog.Int("status", status),
			slog.String("outcome", outcome), slog.Bool("cached", cached), slog.Duration("duration", d))
	}
}

func (h *Handler) serveResolve(w http.ResponseWriter, r *http.Request) (int, string, bool) {
	ref, plat, errStatus, body := requestRef(r)
	if errStatus != 0 {
		writeJSON(w, errStatus, body)
		return errStatus, body.Code, false
	}
	var res resolver.Result
	var err error
	if plat != nil {
		res, err = h.cfg.Resolver.ResolvePlatform(r.Context(), ref, plat)
	} else {
		res, err = h.cfg.Resolver.Resolve(r.Context(), ref)
	}
	if err != nil {
		code := resolver.CodeOf(err)
		status := statusOf(code)
		writeJSON(w, status, errorBody{Ref: ref, Error: err.Error(), Code: string(code)})
		return status, string(code), false
	}
	h.metrics.countUpstream(res.Events)
	writeJSON(w, http.StatusOK, res)
	return http.StatusOK, "", res.Cached
}

// traceBody is the answer of /v1/trace.
type traceBody struct {
	Ref    string           `json:"ref"`
	Result *resolver.Result `json:"result,omitempty"`
	Error  string           `json:"error,omitempty"`
	Code   string           `json:"code,omitempty"`
	Events []trace.Event    `json:"events"`
}

func (h *Handler) serveTrace(w http.ResponseWriter, r *http.Request) (int, string, bool) {
	ref, _, errStatus, body := requestRef(r)
	if errStatus != 0 {
		writeJSON(w, errStatus, body)
		return errStatus, body.Code, false
	}
	res, events, err := h.cfg.Resolver.Trace(r.Context(), ref)
	h.metrics.countUpstream(events)
	out := traceBody{Ref: ref, Events: events}
	if out.Events == nil {
		out.Events = []trace.Event{}
	}
	if err != nil {
		code := resolver.CodeOf(err)
		out.Error, out.Code = err.Error(), string(code)
		status := statusOf(code)
		writeJSON(w, status, out)
		return status, string(code), false
	}
	res.Events = nil
	out.Result = &res
	writeJSON(w, http.StatusOK, out)
	return http.StatusOK, "", false
}

// requestRef reads ref= and platform= from the query string.
func requestRef(r *http.Request) (string, *reference.Platform, int, errorBody) {
	q := r.URL.Query()
	ref := q.Get("ref")
	switch {
	case ref == "":
		return "", nil, http.StatusBadRequest, errorBody{Error: "missing query parameter ref", Code: string(resolver.CodeInvalidReference)}
	case len(ref) > maxRefLength:
		return "", nil, http.StatusBadRequest, errorBody{Error: "ref longer than " + strconv.Itoa(maxRefLength) + " bytes", Code: string(resolver.CodeInvalidReference)}
	}
	if p := q.Get("platform"); p != "" {
		plat, err := reference.ParsePlatform(p)
		if err != nil {
			return "", nil, http.StatusBadRequest, errorBody{Ref: ref, Error: "platform " + strconv.Quote(p) + ": " + err.Error(), Code: "INVALID_PLATFORM"}
		}
		return ref, &plat, 0, errorBody{}
	}
	return ref, nil, 0, errorBody{}
}

// statusOf maps an error code to the HTTP status engines act on.
func statusOf(code resolver.Code) int {
	switch code {
	case resolver.CodeInvalidReference:
		return http.StatusBadRequest
	case resolver.CodeNotFound:
		return http.StatusNotFound
	case resolver.CodeUnauthorized:
		return http.StatusUnauthorized
	case resolver.CodeTimeout:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: err.Error(), Code: "INTERNAL"})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func truncate(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// Serve runs srv until ctx ends, then shuts it down gracefully, giving
// in-flight requests up to grace to finish.
func Serve(ctx context.Context, srv *http.Server, listen func() error, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- listen() }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	<-errc
	return nil
}
