// Package frontdoor is the registry front door of `ocidns serve`: the OCI
// distribution API, read-only, under /v2/, serving images by their
// federated names. An unmodified engine configured once with the daemon as
// its mirror (containerd, containers/image) or naming images through it
// (Docker) pulls example.com/org/app:v1; the front door discovers who
// serves the name, resolves the tag, and relays the manifest and blobs from
// the registry that holds them, checking every byte against its digest.
//
//	GET  /v2/                                         {} — the API version check
//	HEAD /v2/<name>/manifests/<tag or digest>        headers only, as GET
//	GET  /v2/<name>/manifests/<tag or digest>        the manifest, byte for byte
//	HEAD /v2/<name>/blobs/<digest>                   headers only
//	GET  /v2/<name>/blobs/<digest>                   the blob, streamed (Range passed on)
//	GET  /v2/<name>/tags/list[?n=&last=]              the registry's tag list
//	GET  /v2/<name>/referrers/<digest>[?artifactType=] the registry's referrers index
//
// The namespace host is ?ns=HOST (containerd's mirror requests; the path is
// then the repository there), or the first component of <name> when it
// contains a dot or a colon or is localhost (containers/image mirrors and
// `docker pull 127.0.0.1:5080/example.com/org/app`). Every answer to a
// named request echoes the host in OCI-Namespace. The rules are
// docs/protocol.md §14.
package frontdoor

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ocidns/ocidns/resolver"
)

// Defaults of a Handler.
const (
	DefaultMaxInFlight        = 256
	DefaultMaxStreams         = 64
	DefaultStreamWait         = 5 * time.Second
	DefaultRequestTimeout     = 30 * time.Second
	DefaultIdleTimeout        = 30 * time.Second
	DefaultManifestCacheBytes = 64 << 20
)

// Config configures a Handler. Zero fields take the defaults above.
type Config struct {
	// Resolver discovers names, resolves tags and fetches content. Its
	// address policy, upstream bounds and credentials apply to every
	// front-door request.
	Resolver *resolver.Resolver
	// MaxInFlight bounds concurrent manifest, tag and referrer requests;
	// beyond it, 429 TOOMANYREQUESTS at once, with Retry-After.
	MaxInFlight int
	// MaxStreams bounds concurrent blob streams (each holds an upstream
	// connection for as long as the transfer lasts); a request beyond it
	// waits up to StreamWait for a turn, then gets 429.
	MaxStreams int
	StreamWait time.Duration
	// RequestTimeout bounds a manifest, tag or referrer request, and the
	// opening of a blob stream.
	RequestTimeout time.Duration
	// IdleTimeout cuts a blob stream that makes no progress for this long,
	// reading from the registry or writing to the engine. A stream has no
	// bound in total: layers are large.
	IdleTimeout time.Duration
	// ManifestCacheBytes bounds the in-memory cache of verified manifests.
	ManifestCacheBytes int64
	// Logger receives one line per request (nil: slog.Default()).
	Logger *slog.Logger
}

// Handler serves the front door. Create it with New; it is safe for
// concurrent use.
type Handler struct {
	cfg       Config
	inFlight  chan struct{}
	streams   chan struct{}
	manifests *manifestCache
}

// New returns the front door for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.StreamWait <= 0 {
		cfg.StreamWait = DefaultStreamWait
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ManifestCacheBytes <= 0 {
		cfg.ManifestCacheBytes = DefaultManifestCacheBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{
		cfg:       cfg,
		inFlight:  make(chan struct{}, cfg.MaxInFlight),
		streams:   make(chan struct{}, cfg.MaxStreams),
		manifests: newManifestCache(cfg.ManifestCacheBytes),
	}
}

// outcome is what a request came to, for its log line.
type outcome struct {
	status int
	code   string // "" on success
	bytes  int64  // body bytes sent
	cached bool   // a manifest from the cache
	err    error  // detail for the log only
}

func (o *outcome) fail(w http.ResponseWriter, e *apiError) {
	e.write(w)
	o.status, o.code, o.err = e.status, e.code, e.err
}

// ServeHTTP implements http.Handler for paths under /v2.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	var o outcome
	var req request
	var aerr *apiError
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		aerr = newAPIError(http.StatusMethodNotAllowed, codeUnsupported, "the front door is read-only: %s is not served; push to the registry itself", truncate(r.Method))
		w.Header().Set("Allow", "GET, HEAD")
	} else {
		req, aerr = parseRequest(r)
	}
	switch {
	case aerr != nil:
		o.fail(w, aerr)
	case req.kind == kindPing:
		o = h.servePing(w)
	case req.kind == kindBlob && r.Method == http.MethodGet:
		w.Header().Set("OCI-Namespace", req.host)
		o = h.serveBlob(w, r, req)
	default:
		w.Header().Set("OCI-Namespace", req.host)
		o = h.limited(w, r, req)
	}
	h.log(r, req, o, time.Since(start))
}

func (h *Handler) servePing(w http.ResponseWriter) outcome {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "3")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("{}\n"))
	return outcome{status: http.StatusOK, bytes: 3}
}

// limited runs a short request (manifest, blob HEAD, tags, referrers)
// within MaxInFlight and RequestTimeout.
func (h *Handler) limited(w http.ResponseWriter, r *http.Request, req request) outcome {
	var o outcome
	select {
	case h.inFlight <- struct{}{}:
	default:
		o.fail(w, newAPIError(http.StatusTooManyRequests, codeTooManyRequests, "too many requests in flight"))
		return o
	}
	defer func() { <-h.inFlight }()
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	switch req.kind {
	case kindManifest:
		return h.serveManifest(w, r, req)
	case kindBlob:
		return h.statBlob(w, r, req)
	case kindTags:
		return h.serveTags(w, r, req)
	default:
		return h.serveReferrers(w, r, req)
	}
}

// locate discovers who serves req's name. A host that publishes no
// delegation is not ocidns's to serve: 404, and the engine pulls from the
// host itself, with its own credentials.
func (h *Handler) locate(ctx context.Context, req request, notFound string) (resolver.Location, *apiError) {
	loc, err := h.cfg.Resolver.Locate(ctx, req.name)
	if err != nil {
		return loc, upstreamError(req.name, err, notFound)
	}
	if !loc.Published() {
		return loc, newAPIError(http.StatusNotFound, codeNameUnknown,
			"%s publishes no delegation for %s (no _oci-discovery TXT, SRV or well-known mapping): pull it from %s itself",
			req.host, req.repo, req.host)
	}
	return loc, nil
}

func (h *Handler) log(r *http.Request, req request, o outcome, d time.Duration) {
	outcome := "ok"
	if o.code != "" {
		outcome = o.code
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", truncate(r.URL.Path)),
		slog.String("ns", truncate(req.host)), slog.Int("status", o.status), slog.String("outcome", outcome),
		slog.Int64("bytes", o.bytes), slog.Bool("cached", o.cached), slog.Duration("duration", d),
	}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", truncateLong(o.err.Error())))
	}
	h.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "frontdoor", attrs...)
}

// truncate bounds a caller's string in a log line.
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

func contentLength(w http.ResponseWriter, n int64) {
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
}
