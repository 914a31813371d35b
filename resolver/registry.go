package resolver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/reference"
)

// This file is the registry client: it turns (endpoint, tag or digest,
// platform) into manifest digests over the OCI distribution API (docs/protocol.md §12).
//
//	tag, no platform:  HEAD /v2/<repo>/manifests/<tag>; its Docker-Content-Digest
//	                   when valid and the response complete, else GET and hash.
//	digest:            no request; with verify, GET and check the hash.
//	platform:          GET; an index gives the child's descriptor; a single
//	                   image has its config fetched and its os/arch checked.
//
// Every request is bounded in time (the caller's context and
// registryConfig.Timeout) and size, retried on 408/429/503 within bounds,
// authenticated as auth.go says, and recorded as a trace event.

// userAgent identifies ocidns to registries.
const userAgent = "ocidns"

// Defaults for registryConfig.
const (
	defaultMaxRetries    = 3
	defaultMaxRetryAfter = 10 * time.Second
	defaultRegTimeout    = 30 * time.Second
	maxRedirects         = 5
	// retryBackoff is the first wait when a retryable answer has no usable
	// Retry-After; it doubles per retry, within MaxRetryAfter.
	retryBackoff = 500 * time.Millisecond
)

// registryConfig configures a registryClient. Zero fields take defaults.
type registryConfig struct {
	// HTTP sends every request. Its transport (DNS view, TLS roots) is used
	// as is; the client works on a copy and never mutates it.
	HTTP *http.Client
	// Insecure reports whether plain HTTP (and an http:// token realm) is
	// allowed for a registry host:port.
	Insecure func(hostport string) bool
	// Creds finds registry credentials (credentials.go); may be nil.
	Creds *credentials
	// MaxRetries bounds retries of one request on 408/429/503 (default 3;
	// negative: none).
	MaxRetries int
	// MaxRetryAfter bounds one wait between retries, whatever Retry-After
	// says (default 10s).
	MaxRetryAfter time.Duration
	// Timeout bounds one registry operation: a request with its
	// authentication, retries and body (default 30s). The caller's context
	// bounds the whole resolution.
	Timeout time.Duration
	// MaxManifestBytes and MaxConfigBytes bound bodies read (defaults 4 MiB
	// and 1 MiB).
	MaxManifestBytes int64
	MaxConfigBytes   int64
	// Now and Sleep replace the clock and the wait between retries in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// registryClient resolves manifests. Safe for concurrent use; it holds the
// token cache.
type registryClient struct {
	cfg    registryConfig
	client *http.Client // a copy of cfg.HTTP with the redirect policy below
	auth   *authState
}

// manifestResult is what resolve found.
type manifestResult struct {
	// Digest, MediaType and Size describe the manifest the tag or digest
	// names (an index for a multi-platform image).
	Digest    digest.Digest
	MediaType string
	Size      int64
	// Platform is set when a platform was asked for.
	Platform *platformResult
	Endpoint discovery.Endpoint
}

// platformResult is the platform's manifest: an index child, or the image
// itself when it is single-platform and its config matches.
type platformResult struct {
	Digest    digest.Digest
	MediaType string
	Size      int64
	Platform  reference.Platform
}

// newRegistryClient returns a client for cfg, defaults filled in.
func newRegistryClient(cfg registryConfig) *registryClient {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = defaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = defaultMaxRetryAfter
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultRegTimeout
	}
	if cfg.MaxManifestBytes <= 0 {
		cfg.MaxManifestBytes = defaultMaxManifestBytes
	}
	if cfg.MaxConfigBytes <= 0 {
		cfg.MaxConfigBytes = defaultMaxConfigBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepContext
	}
	c := &registryClient{cfg: cfg, auth: newAuthState(cfg.Timeout, cfg.Now)}
	hc := *cfg.HTTP
	prev := cfg.HTTP.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		first := via[0].URL
		if first.Scheme == "https" && req.URL.Scheme != "https" && !c.insecure(req.URL.Host) {
			return fmt.Errorf("refusing redirect from %s to plain-HTTP %s", first.Host, req.URL.Redacted())
		}
		// net/http keeps Authorization when only the port differs; a
		// different origin is a different server, so drop it.
		if !sameOrigin(first, req.URL) {
			req.Header.Del("Authorization")
		}
		if prev != nil {
			return prev(req, via)
		}
		return nil
	}
	c.client = &hc
	return c
}

func (c *registryClient) insecure(hostport string) bool {
	return c.cfg.Insecure != nil && c.cfg.Insecure(hostport)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sameOrigin compares scheme and host:port, default ports made explicit.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && canonicalHostPort(a) == canonicalHostPort(b)
}

func canonicalHostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// target is one resolution's endpoint, checked.
type target struct {
	ep      discovery.Endpoint
	refName string
	base    string // scheme://host[:port]
	origin  string // scheme://host:port, the auth cache key
	host    string // host[:port] as in the URL
	repo    string
	scope   string // repository:<repo>:pull
}

// isOrigin reports whether req (a response's final request) went to the
// registry's own origin rather than to a host it redirected to.
func (t *target) isOrigin(req *http.Request) bool {
	if req == nil || req.URL == nil {
		return true // no redirect was followed
	}
	return strings.ToLower(req.URL.Scheme)+"://"+canonicalHostPort(req.URL) == t.origin
}

func (t *target) err(step string, kind, cause error) *Error {
	return newError(t.refName, t.host, step, kind, cause)
}

// readError is the *Error of a body of what that readBounded could not
// read: too large, or cut off.
func (t *target) readError(step, what string, err error) *Error {
	var tl *errTooLarge
	if errors.As(err, &tl) {
		return t.err(step, ErrTooLarge, err)
	}
	return t.err(step, transportKind(err), fmt.Errorf("reading %s: %w", what, err))
}

func (c *registryClient) target(ep discovery.Endpoint, refName string) (*target, error) {
	u, err := url.Parse(ep.URL)
	fail := func(kind error, cause error) (*target, error) {
		return nil, newError(refName, "", "registry endpoint", kind, cause)
	}
	if err != nil {
		return fail(ErrUpstream, fmt.Errorf("endpoint URL %q: %w", ep.URL, err))
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fail(ErrUpstream, fmt.Errorf("endpoint URL %q is not http(s)://host[:port]", ep.URL))
	}
	if u.Scheme == "http" && !c.insecure(u.Host) {
		return fail(ErrUpstream, fmt.Errorf("refusing plain HTTP to %s: not marked insecure", u.Host))
	}
	if err := reference.ValidatePath(ep.Repository); err != nil {
		return fail(ErrInvalidReference, fmt.Errorf("repository %q: %w", ep.Repository, err))
	}
	return &target{
		ep: ep, refName: refName, base: u.Scheme + "://" + u.Host,
		origin: strings.ToLower(u.Scheme) + "://" + canonicalHostPort(u), host: u.Host,
		repo: ep.Repository, scope: "repository:" + ep.Repository + ":pull",
	}, nil
}

// resolve finds the manifest digest for tag or dgst at ep (dgst wins when
// both are set, as for name:tag@digest), and the platform's manifest when plat is set. With verify, a digest
// reference's manifest is fetched and hashed, and a tag's is fetched rather
// than trusted from HEAD. Errors are *Error with Kind ErrNotFound (try the
// next endpoint), ErrUnauthorized, ErrDigestMismatch, ErrTooLarge,
// ErrTimeout, ErrUpstream or ErrInvalidReference.
func (c *registryClient) resolve(ctx context.Context, ep discovery.Endpoint, refName string, tag string, dgst digest.Digest,
	plat *reference.Platform, verify bool, tr *trace.Trace) (manifestResult, error) {
	t, err := c.target(ep, refName)
	if err != nil {
		return manifestResult{}, err
	}
	ref := tag
	switch {
	case tag == "" && dgst == "":
		return manifestResult{}, t.err("registry", ErrInvalidReference, errors.New("neither a tag nor a digest to resolve"))
	case dgst != "":
		// name:tag@digest means the digest; the tag is only a comment
		// (as in Docker).
		if err := dgst.Validate(); err != nil {
			return manifestResult{}, t.err("registry", ErrInvalidReference, fmt.Errorf("digest %q: %w", dgst, err))
		}
		ref = dgst.String()
	default:
		if err := reference.ValidateTag(tag); err != nil {
			return manifestResult{}, t.err("registry", ErrInvalidReference, fmt.Errorf("tag %q: %w", tag, err))
		}
	}

	if plat != nil && (plat.OS == "" || plat.Architecture == "") {
		return manifestResult{}, t.err("platform", ErrInvalidReference, fmt.Errorf("platform %q: need at least os/architecture", plat.String()))
	}
	if dgst != "" && plat == nil && !verify {
		tr.Add(trace.Event{Source: "registry", Server: t.host,
			Decision: "digest reference: no registry request needed (verify fetches and checks it)"})
		return manifestResult{Digest: dgst, Endpoint: ep}, nil
	}
	if dgst == "" && plat == nil && !verify {
		res, ok, err := c.headManifest(ctx, t, tag, tr)
		if err != nil || ok {
			return res, err
		}
	}
	m, err := c.getManifest(ctx, t, ref, dgst, tr)
	if err != nil {
		return manifestResult{}, err
	}
	res := manifestResult{Digest: m.digest, MediaType: m.mediaType, Size: int64(len(m.body)), Endpoint: ep}
	if plat != nil {
		if res.Platform, err = c.selectPlatform(ctx, t, m, *plat, tr); err != nil {
			return manifestResult{}, err
		}
	}
	return res, nil
}

// regRequest is one logical registry request.
type regRequest struct {
	t      *target
	method string
	url    string
	accept string
	step   string // for errors: "HEAD manifest", "GET manifest", "GET config"
	tr     *trace.Trace
	// rangeHeader, when set, is sent as the Range header (blobs).
	rangeHeader string
}

// do sends rq, answering 401 once with authentication and retrying
// 408/429/503 within bounds. It returns the final response (body open) and
// its trace event, which the caller completes with its decision.
func (c *registryClient) do(ctx context.Context, rq *regRequest) (*http.Response, trace.Event, error) {
	hdr, how, err := c.initialAuth(ctx, rq)
	if err != nil {
		return nil, trace.Event{}, err
	}
	authed := false
	for retries := 0; ; {
		resp, ev, err := c.send(ctx, rq, hdr, how)
		if err != nil {
			return nil, ev, err
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !rq.t.isOrigin(resp.Request):
			// A host the registry redirected to is not the registry: its
			// challenge could name any realm, and the credentials for the
			// registry must not go there (protocol.md §12).
			closeBody(resp)
			err := rq.t.err(rq.step, ErrUnauthorized, fmt.Errorf(
				"HTTP 401 from %s, which the registry redirected to: not the registry, so its challenge is not answered", resp.Request.URL.Host))
			return nil, ev, traceFailure(rq.tr, ev, err)
		case resp.StatusCode == http.StatusUnauthorized && !authed:
			authed = true
			if hdr != "" {
				c.auth.invalidate(authKey{rq.t.origin, rq.t.scope})
			}
			values := resp.Header.Values("WWW-Authenticate")
			closeBody(resp)
			ev.Decision += "authentication required: " + strings.Join(values, ", ")
			rq.tr.Add(ev)
			if hdr, err = c.authorize(ctx, rq, values); err != nil {
				return nil, ev, err
			}
			how = authScheme(hdr) + " authorization"
			continue
		case isRetryable(resp.StatusCode) && retries < c.cfg.MaxRetries:
			retries++
			if err := c.waitToRetry(ctx, rq, resp, retries, &ev); err != nil {
				return nil, ev, err
			}
			continue
		}
		if isRetryable(resp.StatusCode) && c.cfg.MaxRetries > 0 {
			ev.Decision += fmt.Sprintf("giving up after %d retries; ", retries)
		}
		return resp, ev, nil
	}
}

// send makes one try of rq with the Authorization header hdr (how names
// it for the trace, "" when none), and returns the response with its
// trace event, not yet added unless the request failed.
func (c *registryClient) send(ctx context.Context, rq *regRequest, hdr, how string) (*http.Response, trace.Event, error) {
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, nil)
	if err != nil {
		return nil, trace.Event{}, rq.t.err(rq.step, ErrUpstream, err)
	}
	req.Header.Set("Accept", rq.accept)
	req.Header.Set("User-Agent", userAgent)
	if rq.rangeHeader != "" {
		req.Header.Set("Range", rq.rangeHeader)
	}
	if hdr != "" {
		req.Header.Set("Authorization", hdr)
	}
	start := c.cfg.Now()
	resp, err := c.client.Do(req)
	ev := trace.Event{Source: "registry", Query: rq.method + " " + rq.url, Server: rq.t.host, Duration: c.cfg.Now().Sub(start), Request: trace.HTTP, Status: trace.NoResponse}
	if err != nil {
		err = redactURLError(err)
		ev.Outcome, ev.Decision = "error", err.Error()
		rq.tr.Add(ev)
		return nil, ev, rq.t.err(rq.step, transportKind(err), err)
	}
	ev.Outcome, ev.Status = strconv.Itoa(resp.StatusCode), resp.StatusCode
	if how != "" {
		ev.Decision = "sent " + how + "; "
	}
	if resp.Request != nil && resp.Request.URL.Host != req.URL.Host {
		ev.Decision += "answered by " + resp.Request.URL.Host + " after a redirect; "
	}
	return resp, ev, nil
}

// waitToRetry closes resp, a throttling answer to rq, and waits as long as
// it asks (bounded, see retryDelay) before try number retry+1: an error
// when that is past ctx's deadline or ctx ends meanwhile.
func (c *registryClient) waitToRetry(ctx context.Context, rq *regRequest, resp *http.Response, retry int, ev *trace.Event) error {
	wait, why := c.retryDelay(resp, retry-1)
	closeBody(resp)
	ev.Decision += fmt.Sprintf("retry %d of %d in %v (%s)", retry, c.cfg.MaxRetries, wait, why)
	rq.tr.Add(*ev)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return rq.t.err(rq.step, ErrTimeout,
			fmt.Errorf("HTTP %d: the registry asks to wait %v, past the deadline", resp.StatusCode, wait))
	}
	if err := c.cfg.Sleep(ctx, wait); err != nil {
		return rq.t.err(rq.step, transportKind(err), fmt.Errorf("waiting to retry: %w", err))
	}
	return nil
}

func isRetryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusRequestTimeout
}

// retryDelay reads Retry-After (delta-seconds or an HTTP date, RFC 9110
// §10.2.3) and bounds it by MaxRetryAfter; without a usable value it backs
// off exponentially.
func (c *registryClient) retryDelay(resp *http.Response, retry int) (time.Duration, string) {
	ra := strings.TrimSpace(resp.Header.Get("Retry-After"))
	var d time.Duration
	why := "Retry-After: " + ra
	if secs, err := strconv.ParseInt(ra, 10, 64); err == nil && secs >= 0 {
		if secs > int64(c.cfg.MaxRetryAfter/time.Second)+1 {
			secs = int64(c.cfg.MaxRetryAfter/time.Second) + 1 // avoid overflow; bounded below
		}
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(ra); err == nil {
		d = max(at.Sub(c.cfg.Now()), 0)
	} else {
		if ra == "" {
			why = "no Retry-After"
		} else {
			why = fmt.Sprintf("unusable Retry-After %q", ra)
		}
		d = retryBackoff << min(retry, 16)
		why += ", backing off"
	}
	if d > c.cfg.MaxRetryAfter {
		d = c.cfg.MaxRetryAfter
		why += fmt.Sprintf(", bounded to %v", d)
	}
	return d, why
}

// redactURLError drops the query of the URL a failed request names: a
// redirect target's query may be a pre-signed grant (storage buckets sign
// blob URLs so), which must not reach an error message or a log.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if u, perr := url.Parse(ue.URL); perr == nil && (u.RawQuery != "" || u.User != nil) {
		u.RawQuery, u.User = "", nil
		ue.URL = u.String()
	}
	return err
}

// transportKind classifies a transport or context error.
func transportKind(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ErrTimeout
	}
	return ErrUpstream
}

// closeBody drains a little of an unread body, so the connection can be
// reused, and closes it.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}

// registryErrorMessage reads an OCI error body (bounded) into
// ": CODE: message; CODE: message", or "" when there is none.
func registryErrorMessage(resp *http.Response) string {
	body, err := readBounded(resp.Body, maxErrorBodyBytes, resp.ContentLength, "error body")
	if err != nil || len(body) == 0 {
		return ""
	}
	var e struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	parts := make([]string, 0, len(e.Errors))
	for i, x := range e.Errors {
		if i == 3 {
			break
		}
		parts = append(parts, strings.TrimSpace(x.Code+": "+x.Message))
	}
	return ": " + strings.Join(parts, "; ")
}

// statusError turns an unexpected final status into an *Error.
func (c *registryClient) statusError(rq *regRequest, resp *http.Response, what string) error {
	msg := registryErrorMessage(resp)
	s := resp.StatusCode
	cause := fmt.Errorf("%s: HTTP %d%s", what, s, msg)
	switch {
	case s == http.StatusNotFound:
		return rq.t.err(rq.step, ErrNotFound, cause)
	case s == http.StatusUnauthorized:
		return rq.t.err(rq.step, ErrUnauthorized, fmt.Errorf("%w (refused after authenticating)", cause))
	case s == http.StatusForbidden:
		return rq.t.err(rq.step, ErrUnauthorized, cause)
	case isRetryable(s):
		return rq.t.err(rq.step, ErrUpstream, fmt.Errorf("%w, still after %d retries", cause, c.cfg.MaxRetries))
	}
	return rq.t.err(rq.step, ErrUpstream, cause)
}

func (t *target) manifestURL(ref string) string {
	return t.base + "/v2/" + t.repo + "/manifests/" + ref
}

// headManifest asks for the tag's digest without the body. ok is false when
// the answer cannot be used (no valid digest, incomplete headers, HEAD not
// allowed) and the manifest must be fetched.
func (c *registryClient) headManifest(ctx context.Context, t *target, tag string, tr *trace.Trace) (manifestResult, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	rq := &regRequest{t: t, method: http.MethodHead, url: t.manifestURL(tag), accept: acceptManifests, step: "HEAD manifest", tr: tr}
	resp, ev, err := c.do(ctx, rq)
	if err != nil {
		return manifestResult{}, false, err
	}
	defer closeBody(resp)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		ev.Decision += "HEAD not supported: fetching with GET"
		tr.Add(ev)
		return manifestResult{}, false, nil
	default:
		return manifestResult{}, false, traceFailure(tr, ev, c.statusError(rq, resp, fmt.Sprintf("manifest %s:%s", t.repo, tag)))
	}

	d, present, derr := parseDigestHeader(resp.Header.Get("Docker-Content-Digest"))
	mt := contentMediaType(resp.Header.Get("Content-Type"))
	size := resp.ContentLength
	var lacks []string
	switch {
	case !present:
		lacks = append(lacks, "no Docker-Content-Digest")
	case derr != nil:
		lacks = append(lacks, derr.Error())
	}
	if size < 0 {
		lacks = append(lacks, "no Content-Length")
	}
	if mt == "" {
		lacks = append(lacks, "no Content-Type")
	}
	if len(lacks) > 0 {
		ev.Decision += strings.Join(lacks, ", ") + ": fetching the manifest to hash it"
		tr.Add(ev)
		return manifestResult{}, false, nil
	}
	if size > c.cfg.MaxManifestBytes {
		return manifestResult{}, false, traceFailure(tr, ev,
			t.err(rq.step, ErrTooLarge, &errTooLarge{what: "manifest " + t.repo + ":" + tag, limit: c.cfg.MaxManifestBytes, size: size}))
	}
	ev.Decision += "digest " + d.String() + " from Docker-Content-Digest"
	tr.Add(ev)
	return manifestResult{Digest: d, MediaType: mt, Size: size, Endpoint: t.ep}, true, nil
}

// bodyDigests hash a manifest body as it is read: with the algorithm it
// is named by (the expected digest's, else the Docker-Content-Digest
// header's, else sha256), and with the header's too when that differs.
type bodyDigests struct {
	digesters  []digest.Digester
	hdr        digest.Digest // the header's digest, if present and readable
	hdrPresent bool
	hdrErr     error // the header names an algorithm this client lacks
	hdrIdx     int   // the digester of the header's algorithm; -1: none
}

// newBodyDigests returns the digests for a body with the header value
// header, named by expected (if any); an error when the header is
// malformed.
func newBodyDigests(header string, expected digest.Digest) (bodyDigests, error) {
	hdr, present, hdrErr := parseDigestHeader(header)
	if hdrErr != nil && !errors.Is(hdrErr, digest.ErrDigestUnsupported) {
		return bodyDigests{}, hdrErr
	}
	d := bodyDigests{hdr: hdr, hdrPresent: present, hdrErr: hdrErr, hdrIdx: -1}
	alg := digest.Canonical
	switch {
	case expected != "":
		alg = expected.Algorithm()
	case present && hdrErr == nil:
		alg = hdr.Algorithm()
	}
	d.digesters = []digest.Digester{alg.Digester()}
	if present && hdrErr == nil {
		d.hdrIdx = 0
		if hdr.Algorithm() != alg {
			d.digesters = append(d.digesters, hdr.Algorithm().Digester())
			d.hdrIdx = 1
		}
	}
	return d, nil
}

// checkHeader compares the body read with the header, once the body is
// read, and returns a note for the trace; an error when they differ.
func (d bodyDigests) checkHeader(what string) (note string, err error) {
	switch {
	case d.hdrIdx >= 0:
		if got := d.digesters[d.hdrIdx].Digest(); got != d.hdr {
			return "", fmt.Errorf("%s: Docker-Content-Digest says %s, content hashes to %s", what, d.hdr, got)
		}
		return ", matches Docker-Content-Digest", nil
	case d.hdrPresent:
		return fmt.Sprintf(" (%v: not checked)", d.hdrErr), nil
	}
	return "", nil
}

// traceFailure ends a request's trace event with the error it failed with
// and returns the error.
func traceFailure(tr *trace.Trace, ev trace.Event, err error) error {
	ev.Decision += err.Error()
	tr.Add(ev)
	return err
}

// fetchedManifest is a manifest read and verified.
type fetchedManifest struct {
	ref       string
	body      []byte
	digest    digest.Digest
	mediaType string
	// contentType is the registry's Content-Type header as sent.
	contentType string
	doc         manifestDoc
	docErr      error // the body is not a JSON manifest
}

// getManifest fetches ref (tag or digest) and hashes it. expected, when set,
// is the digest the body must have; a Docker-Content-Digest header, when
// present, must match too.
func (c *registryClient) getManifest(ctx context.Context, t *target, ref string, expected digest.Digest, tr *trace.Trace) (*fetchedManifest, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	rq := &regRequest{t: t, method: http.MethodGet, url: t.manifestURL(ref), accept: acceptManifests, step: "GET manifest", tr: tr}
	resp, ev, err := c.do(ctx, rq)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	what := "manifest " + t.repo + ":" + ref
	if expected != "" {
		what = "manifest " + t.repo + "@" + ref
	}
	fail := func(kind, cause error) (*fetchedManifest, error) {
		return nil, traceFailure(tr, ev, t.err(rq.step, kind, cause))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, traceFailure(tr, ev, c.statusError(rq, resp, what))
	}

	dg, err := newBodyDigests(resp.Header.Get("Docker-Content-Digest"), expected)
	if err != nil {
		// A malformed header cannot match anything: a registry that gets
		// this wrong is not trusted to name the content.
		return fail(ErrDigestMismatch, err)
	}
	body, err := readBounded(resp.Body, c.cfg.MaxManifestBytes, resp.ContentLength, what, dg.digesters...)
	if err != nil {
		return nil, traceFailure(tr, ev, t.readError(rq.step, what, err))
	}
	m := &fetchedManifest{ref: ref, body: body, digest: dg.digesters[0].Digest()}
	if expected != "" && m.digest != expected {
		return fail(ErrDigestMismatch, fmt.Errorf("%s: content hashes to %s", what, m.digest))
	}
	note, err := dg.checkHeader(what)
	if err != nil {
		return fail(ErrDigestMismatch, err)
	}
	if m.docErr = json.Unmarshal(body, &m.doc); m.docErr != nil {
		m.docErr = fmt.Errorf("%s is not a JSON manifest: %w", what, m.docErr)
	}
	m.contentType = resp.Header.Get("Content-Type")
	m.mediaType = manifestMediaType(&m.doc, m.contentType)
	ev.Decision += fmt.Sprintf("hashed %d bytes: %s%s", len(body), m.digest, note)
	tr.Add(ev)
	return m, nil
}

// selectPlatform picks want's manifest: from an index by matchPlatform, or
// the single image itself when its config names a matching platform.
func (c *registryClient) selectPlatform(ctx context.Context, t *target, m *fetchedManifest, want reference.Platform, tr *trace.Trace) (*platformResult, error) {
	if m.docErr != nil {
		return nil, t.err("platform", ErrUpstream, m.docErr)
	}
	doc := &m.doc
	switch {
	case isIndexType(m.mediaType) || (!isImageType(m.mediaType) && doc.Manifests != nil && doc.Config == nil):
		return platformFromIndex(t, m, want, tr)
	case isImageType(m.mediaType) || doc.Config != nil:
		return c.platformFromConfig(ctx, t, m, want, tr)
	}
	return nil, t.err("platform", ErrUpstream, fmt.Errorf("cannot select a platform from a manifest of media type %q", m.mediaType))
}

// platformFromIndex picks the child of the index m for want.
func platformFromIndex(t *target, m *fetchedManifest, want reference.Platform, tr *trace.Trace) (*platformResult, error) {
	wantS := platformString(want)
	i := matchPlatform(want, m.doc.Manifests)
	if i < 0 {
		var have []string
		for _, d := range m.doc.Manifests {
			if d.Platform != nil {
				have = append(have, d.Platform.String())
			}
		}
		err := t.err("platform", ErrNotFound, fmt.Errorf("no manifest for platform %s in index %s (it has: %s)",
			wantS, m.digest, strings.Join(have, ", ")))
		tr.Add(trace.Event{Source: "registry", Query: "platform " + wantS, Server: t.host, Outcome: "no match", Decision: err.Error()})
		return nil, err
	}
	d := m.doc.Manifests[i]
	if err := d.Digest.Validate(); err != nil {
		return nil, t.err("platform", ErrUpstream, fmt.Errorf("index %s: child for %s has digest %q: %w", m.digest, d.Platform, d.Digest, err))
	}
	if d.Size < 0 {
		return nil, t.err("platform", ErrUpstream, fmt.Errorf("index %s: child %s has negative size", m.digest, d.Digest))
	}
	tr.Add(trace.Event{Source: "registry", Query: "platform " + wantS, Server: t.host, Outcome: d.Platform.String(),
		Decision: fmt.Sprintf("index child %s (%s)", d.Digest, d.Platform)})
	return &platformResult{Digest: d.Digest, MediaType: d.MediaType, Size: d.Size, Platform: d.Platform.reference()}, nil
}

// platformFromConfig checks that the single-platform image m is for want,
// by its config.
func (c *registryClient) platformFromConfig(ctx context.Context, t *target, m *fetchedManifest, want reference.Platform, tr *trace.Trace) (*platformResult, error) {
	wantS := platformString(want)
	cfgDesc := m.doc.Config
	if cfgDesc == nil {
		return nil, t.err("platform", ErrUpstream, fmt.Errorf("image manifest %s has no config", m.digest))
	}
	if err := cfgDesc.Digest.Validate(); err != nil {
		return nil, t.err("platform", ErrUpstream, fmt.Errorf("image manifest %s: config digest %q: %w", m.digest, cfgDesc.Digest, err))
	}
	if cfgDesc.Size > c.cfg.MaxConfigBytes {
		return nil, t.err("GET config", ErrTooLarge, &errTooLarge{what: "image config " + cfgDesc.Digest.String(), limit: c.cfg.MaxConfigBytes, size: cfgDesc.Size})
	}
	blob, err := c.getBlob(ctx, t, cfgDesc.Digest, c.cfg.MaxConfigBytes, "image config", tr)
	if err != nil {
		return nil, err
	}
	var ic imageConfig
	if err := json.Unmarshal(blob, &ic); err != nil {
		return nil, t.err("GET config", ErrUpstream, fmt.Errorf("image config %s is not JSON: %v", cfgDesc.Digest, err))
	}
	have := ociPlatform{OS: ic.OS, Architecture: ic.Architecture, Variant: ic.Variant}
	if matchPlatform(want, []descriptor{{Platform: &have}}) < 0 {
		err := t.err("platform", ErrNotFound, fmt.Errorf("no manifest for platform %s: %s is a single-platform image for %s",
			wantS, m.digest, have))
		tr.Add(trace.Event{Source: "registry", Query: "platform " + wantS, Server: t.host, Outcome: "no match", Decision: err.Error()})
		return nil, err
	}
	tr.Add(trace.Event{Source: "registry", Query: "platform " + wantS, Server: t.host, Outcome: have.String(),
		Decision: "single-platform image; its config says " + have.String()})
	return &platformResult{Digest: m.digest, MediaType: m.mediaType, Size: int64(len(m.body)), Platform: have.reference()}, nil
}

func platformString(p reference.Platform) string {
	return ociPlatform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}.String()
}

// getBlob fetches a small blob (an image config) and checks its digest.
func (c *registryClient) getBlob(ctx context.Context, t *target, d digest.Digest, limit int64, what string, tr *trace.Trace) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	rq := &regRequest{t: t, method: http.MethodGet, url: t.base + "/v2/" + t.repo + "/blobs/" + d.String(),
		accept: "application/json, */*", step: "GET config", tr: tr}
	resp, ev, err := c.do(ctx, rq)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	what = what + " " + d.String()
	fail := func(kind, cause error) ([]byte, error) {
		return nil, traceFailure(tr, ev, t.err(rq.step, kind, cause))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, traceFailure(tr, ev, c.statusError(rq, resp, what))
	}
	dg := d.Algorithm().Digester()
	body, err := readBounded(resp.Body, limit, resp.ContentLength, what, dg)
	if err != nil {
		return nil, traceFailure(tr, ev, t.readError(rq.step, what, err))
	}
	if got := dg.Digest(); got != d {
		return fail(ErrDigestMismatch, fmt.Errorf("%s: content hashes to %s", what, got))
	}
	ev.Decision += fmt.Sprintf("%d bytes, digest checked", len(body))
	tr.Add(ev)
	return body, nil
}
