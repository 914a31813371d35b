// Package daemon is the HTTP API of `ocidns serve`: what a container engine
// on the same machine calls to resolve names through one shared cache.
//
//	GET /v1/resolve?ref=REF[&platform=OS/ARCH[/VARIANT]]  the JSON of `ocidns resolve -o json`
//	GET /v1/trace?ref=REF[&platform=OS/ARCH[/VARIANT]]    one traced resolution (tracepage.Body)
//	GET /                                                  the trace page, which asks /v1/trace
//	GET /assets/trace.js, /assets/trace.css                its script and style sheet
//	GET /healthz                                           "ok"
//	GET /metrics                                           Prometheus text format
//	GET, HEAD /v2/...                                      the registry front door (Config.FrontDoor)
//
// Errors are JSON objects {"ref","error","code"} with the HTTP status of
// their code: 400 invalid request, reference or platform, 404 not found,
// 401 unauthorized, 403 refused by the owner's signing policy
// (SIGNATURE_MISSING, SIGNATURE_INVALID, NO_USABLE_KEY), 502 upstream or
// discovery failure (and SIGNATURE_UNFETCHABLE), 504 timeout, 503 when too
// many requests are in flight, 421 for a Host header the daemon does not
// answer to (see Config.AllowedHosts). The error text of an upstream failure
// is generic (the code and the reference); the detail is in the log line of
// the request and in /v1/trace.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/tracepage"
	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver"
)

// Defaults and bounds of a Handler and its server.
const (
	DefaultMaxInFlight    = 256
	DefaultRequestTimeout = 30 * time.Second
	maxRefLength          = 4096

	// ReadHeaderTimeout and ReadTimeout bound reading a request (a GET
	// has no body): a client that trickles its headers is cut off.
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	// WriteMargin is how much longer than the request timeout the server
	// gives a response to be written: the handler answers 504 at the
	// request timeout, and that answer must reach the client.
	WriteMargin = 5 * time.Second
	// IdleTimeout closes keep-alive connections left unused.
	IdleTimeout = 60 * time.Second
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes = 16 << 10
)

// Config configures a Handler.
type Config struct {
	Resolver *resolver.Resolver
	// MaxInFlight bounds concurrent /v1 requests; excess requests get 503
	// at once instead of queueing. Zero or negative means
	// DefaultMaxInFlight. Give the Resolver resolver.WithMaxUpstream with
	// the same bound, so that upstream work stays bounded too when clients
	// give up early.
	MaxInFlight int
	// RequestTimeout bounds each request. Zero or negative means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// ListenAddr is the address the server listens on (host:port). Its
	// host is accepted in the Host header of requests besides those below.
	ListenAddr string
	// AllowedHosts are further names accepted in the Host header, as NAME
	// (any port) or NAME:PORT. Requests whose Host names anything else are
	// refused with 421 (DNS rebinding: a web page whose name resolves to
	// the daemon's address). IP literals, "localhost" and an absent Host
	// are always accepted: a browser page reaches the daemon under a name
	// it controls only through DNS.
	AllowedHosts []string
	// Logger receives one line per request at info (nil: slog.Default()).
	Logger *slog.Logger
	// FrontDoor, when set, serves every path under /v2 (the OCI
	// distribution API; see package internal/frontdoor). It gets the
	// request as sent: the path is not cleaned first, so that it can
	// refuse a ".." instead of having it resolved.
	FrontDoor http.Handler
}

// Handler serves the daemon's API. Create it with New.
type Handler struct {
	cfg     Config
	hosts   hostPolicy
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
	h := &Handler{
		cfg:     cfg,
		hosts:   newHostPolicy(cfg.ListenAddr, cfg.AllowedHosts),
		sem:     make(chan struct{}, cfg.MaxInFlight),
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
	}
	h.mux.HandleFunc("GET /v1/resolve", h.limited(h.serveResolve))
	h.mux.HandleFunc("GET /v1/trace", h.limited(h.serveTrace))
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	h.mux.HandleFunc("GET /metrics", h.serveMetrics)
	page := tracepage.Handler()
	h.mux.Handle("GET /{$}", page)
	h.mux.Handle("GET /assets/", page)
	return h
}

// NewServer returns the HTTP server for h: reading a request is bounded, and
// the write timeout is derived from the request timeout, so that a request
// the handler ends with 504 gets that answer rather than an empty reply.
func NewServer(h *Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      h.cfg.RequestTimeout + WriteMargin,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// ServeHTTP implements http.Handler: requests for a Host the daemon does not
// answer to are refused before anything else.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.hosts.allows(r.Host) {
		h.metrics.rejectedHost.Add(1)
		writeJSON(w, http.StatusMisdirectedRequest, errorBody{
			Error: "this daemon does not answer to Host " + strconv.Quote(truncate(r.Host)) + " (ocidns serve --allowed-host)",
			Code:  codeHostNotAllowed,
		})
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", truncate(r.URL.Path)), slog.String("host", truncate(r.Host)),
			slog.Int("status", http.StatusMisdirectedRequest), slog.String("outcome", codeHostNotAllowed))
		return
	}
	if h.cfg.FrontDoor != nil && (r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/")) {
		h.cfg.FrontDoor.ServeHTTP(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Codes the daemon adds to the resolver's.
const (
	codeInvalidRequest  = "INVALID_REQUEST"
	codeInvalidPlatform = "INVALID_PLATFORM"
	codeOverloaded      = "OVERLOADED"
	codeHostNotAllowed  = "HOST_NOT_ALLOWED"
)

// hostPolicy decides which Host headers the daemon answers to.
type hostPolicy struct {
	names map[string]bool // lower-case names accepted on any port
	exact map[string]bool // lower-case name:port accepted as such
}

func newHostPolicy(listen string, allowed []string) hostPolicy {
	p := hostPolicy{names: map[string]bool{"localhost": true}, exact: map[string]bool{}}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		p.names[canonicalHost(host)] = true
	}
	for _, a := range allowed {
		if host, port, err := net.SplitHostPort(a); err == nil {
			p.exact[canonicalHost(host)+":"+port] = true
		} else {
			p.names[canonicalHost(a)] = true
		}
	}
	return p
}

// canonicalHost lower-cases a host name and drops its root dot and the
// brackets of an IPv6 literal.
func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), ".")
}

// allows reports whether the daemon answers to the Host header hostport.
func (p hostPolicy) allows(hostport string) bool {
	if hostport == "" {
		return true // HTTP/1.0 without Host: not a browser
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	host = canonicalHost(host)
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return p.names[host] || (port != "" && p.exact[host+":"+port])
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Ref   string `json:"ref,omitempty"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

// outcome is what one API request came to, for its log line and metrics.
type outcome struct {
	status int
	code   string // "" on success
	ref    string
	cached bool
	err    error // the detail behind a failure, for the log only
}

// limited decodes the query string, sheds load beyond MaxInFlight with a
// quick 503, bounds each request's time, and logs one line per request.
func (h *Handler) limited(next func(http.ResponseWriter, *http.Request, url.Values) outcome) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var o outcome
		q, err := url.ParseQuery(r.URL.RawQuery)
		switch {
		case err != nil:
			o = outcome{status: http.StatusBadRequest, code: codeInvalidRequest, err: err}
			writeJSON(w, o.status, errorBody{Error: "query string: " + err.Error(), Code: o.code})
		default:
			select {
			case h.sem <- struct{}{}:
				ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
				o = next(w, r.WithContext(ctx), q)
				cancel()
				<-h.sem
			default:
				o = outcome{status: http.StatusServiceUnavailable, code: codeOverloaded, ref: q.Get("ref")}
				w.Header().Set("Retry-After", "1")
				writeJSON(w, o.status, errorBody{Error: "too many requests in flight", Code: o.code})
			}
		}
		d := time.Since(start)
		name := "ok"
		if o.code != "" {
			name = o.code
		}
		h.metrics.observe(r.URL.Path, name, d)
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("ref", truncate(o.ref)), slog.Int("status", o.status),
			slog.String("outcome", name), slog.Bool("cached", o.cached), slog.Duration("duration", d),
		}
		if o.err != nil {
			attrs = append(attrs, slog.String("error", truncateLong(o.err.Error())))
		}
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}
}

func (h *Handler) serveResolve(w http.ResponseWriter, r *http.Request, q url.Values) outcome {
	ref, plat, bad := requestRef(q)
	if bad.status != 0 {
		writeJSON(w, bad.status, bad.body)
		return outcome{status: bad.status, code: bad.body.Code, ref: ref}
	}
	var res resolver.Result
	var err error
	tr := trace.New(nil) // the upstream requests are counted, failed resolutions' too
	ctx := trace.NewContext(r.Context(), tr)
	if plat != nil {
		res, err = h.cfg.Resolver.ResolvePlatform(ctx, ref, plat)
	} else {
		res, err = h.cfg.Resolver.Resolve(ctx, ref)
	}
	h.metrics.countUpstream(tr.Events())
	if err != nil {
		code := resolver.CodeOf(err)
		status := statusOf(code)
		writeJSON(w, status, errorBody{Ref: ref, Error: publicError(ref, err), Code: string(code)})
		return outcome{status: status, code: string(code), ref: ref, err: err}
	}
	writeJSON(w, http.StatusOK, res)
	return outcome{status: http.StatusOK, ref: ref, cached: res.Cached}
}

// publicError is the error text a caller of /v1/resolve gets: the reason in
// full when the reference itself is at fault, else the class of failure
// only. What an upstream said (connection refused, a TLS alert, an HTTP
// status, its address) would let any caller probe what the daemon's network
// reaches; the log line and /v1/trace keep it for the operator.
func publicError(ref string, err error) string {
	if errors.Is(err, resolver.ErrInvalidReference) {
		return err.Error()
	}
	var se *resolver.SignatureError
	if errors.As(err, &se) && !errors.Is(err, resolver.ErrSignatureUnfetchable) {
		// What the owner publishes and the registry stores is public;
		// the attempts, which may name the daemon's network, stay in the
		// log and /v1/trace.
		return ref + ": " + string(resolver.CodeOf(err)) + " for " + se.Digest.String() + ": a verified signature is required by " + se.RequiredBy
	}
	kind := resolver.ErrUpstream
	var e *resolver.Error
	if errors.As(err, &e) && e.Kind != nil {
		kind = e.Kind
	}
	return ref + ": " + kind.Error() + " (the daemon's log and /v1/trace have the details)"
}

// serveTrace answers one traced resolution, on failure too: the events,
// each hop's report and the answer or the error (tracepage.Body).
func (h *Handler) serveTrace(w http.ResponseWriter, r *http.Request, q url.Values) outcome {
	ref, plat, bad := requestRef(q)
	if bad.status != 0 {
		writeJSON(w, bad.status, bad.body)
		return outcome{status: bad.status, code: bad.body.Code, ref: ref}
	}
	var res resolver.Result
	var events []trace.Event
	var err error
	platform := ""
	if plat != nil {
		platform = plat.String()
		res, events, err = h.cfg.Resolver.TracePlatform(r.Context(), ref, plat)
	} else {
		res, events, err = h.cfg.Resolver.Trace(r.Context(), ref) // the daemon's own platform, as /v1/resolve
	}
	h.metrics.countUpstream(events)
	out := tracepage.NewBody(ref, platform, res, events, err)
	if err != nil {
		code := resolver.CodeOf(err)
		status := statusOf(code)
		writeJSON(w, status, out)
		return outcome{status: status, code: string(code), ref: ref, err: err}
	}
	writeJSON(w, http.StatusOK, out)
	return outcome{status: http.StatusOK, ref: ref}
}

// badRequest is a request the daemon refuses before resolving anything.
type badRequest struct {
	status int
	body   errorBody
}

// requestRef reads ref= and platform= from the query.
func requestRef(q url.Values) (string, *reference.Platform, badRequest) {
	ref := q.Get("ref")
	switch {
	case ref == "":
		return "", nil, badRequest{http.StatusBadRequest, errorBody{Error: "missing query parameter ref", Code: string(resolver.CodeInvalidReference)}}
	case len(ref) > maxRefLength:
		return "", nil, badRequest{http.StatusBadRequest, errorBody{Error: "ref longer than " + strconv.Itoa(maxRefLength) + " bytes", Code: string(resolver.CodeInvalidReference)}}
	}
	if p := q.Get("platform"); p != "" {
		plat, err := reference.ParsePlatform(p)
		if err != nil {
			return ref, nil, badRequest{http.StatusBadRequest, errorBody{Ref: ref, Error: "platform " + strconv.Quote(truncate(p)) + ": " + err.Error(), Code: codeInvalidPlatform}}
		}
		return ref, &plat, badRequest{}
	}
	return ref, nil, badRequest{}
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
	case resolver.CodeSignatureMissing, resolver.CodeSignatureInvalid, resolver.CodeNoUsableKey:
		// The owner's signing policy refuses the image: like a registry's
		// DENIED, retrying will not help.
		return http.StatusForbidden
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

// truncate bounds a caller's string in a log line or an answer.
func truncate(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// truncateLong bounds an error's detail in a log line.
func truncateLong(s string) string {
	if len(s) > 2048 {
		return s[:2048] + "..."
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
