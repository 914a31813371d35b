package resolver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/flight"
)

// This file answers a registry's 401: which challenge to take, where to get
// a token, which credentials may go where, and how long a token is reused.
//
// Credentials (found for the registry's host, see credentials.go) go
// only to that registry (Basic challenge) or to the token realm its Bearer
// challenge names — that is the token protocol. Only the registry's own
// challenge counts: a 401 from a host the registry redirected to (a CDN, a
// storage bucket) is never answered nor remembered, since its realm could
// be anyone's (protocol.md §12). A realm must be https unless the registry
// host is marked insecure, and may be an internal IP literal (loopback,
// private, link-local) only when the registry's host is one too. Redirects
// never carry an Authorization header to another origin (see
// newRegistryClient).

// internalIP reports whether host is an IP literal in a loopback, private,
// link-local or unspecified range.
func internalIP(host string) bool {
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified()
}

// hostOnly strips the port from host[:port].
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// Bounds of the authentication memory of one registry client: tokens by
// (origin, scope), and challenges by origin. Least recently used entries
// go first; a forgotten entry costs one 401 round trip, never a failure.
const (
	maxCachedTokens      = 1024
	maxAuthOrigins       = 256
	defaultTokenLifetime = 60 * time.Second // distribution token spec default for a missing expires_in
	maxTokenLifetime     = time.Hour        // reuse no token longer, whatever the server says
)

// authKey identifies cached authorization: the registry origin
// (scheme://host:port) and the token scope.
type authKey struct{ origin, scope string }

type cachedAuth struct {
	header  string
	expires time.Time
}

// tokenOutcome is what a shared token request gives every caller waiting
// for it: the header, and the request's trace events, which each caller
// copies to its own trace.
type tokenOutcome struct {
	header string
	events []trace.Event
}

// authState is the client's memory of authentication. Safe for concurrent
// use.
type authState struct {
	mu     sync.Mutex
	tokens *simplelru.LRU[authKey, cachedAuth]
	bearer *simplelru.LRU[string, challenge] // origin → its last Bearer challenge, to fetch tokens for new scopes without a 401 first
	basic  *simplelru.LRU[string, string]    // origin → Basic header it accepted a challenge for
	// The token requests in flight, each shared by the callers that need
	// its (origin, scope) meanwhile; bounded by the requests in flight.
	flights flight.Group[authKey, tokenOutcome]
}

// newAuthState returns an empty memory, on the clock now, whose token
// requests take at most timeout (or their first caller's later deadline).
func newAuthState(timeout time.Duration, now func() time.Time) *authState {
	tokens, _ := simplelru.NewLRU[authKey, cachedAuth](maxCachedTokens, nil)
	bearer, _ := simplelru.NewLRU[string, challenge](maxAuthOrigins, nil)
	basic, _ := simplelru.NewLRU[string, string](maxAuthOrigins, nil)
	a := &authState{tokens: tokens, bearer: bearer, basic: basic}
	a.flights.Timeout = timeout
	a.flights.Lookup = func(k authKey) (tokenOutcome, bool) {
		h, ok := a.token(k, now())
		return tokenOutcome{header: h}, ok
	}
	return a
}

// token returns the Bearer header cached for k while it is valid.
func (a *authState) token(k authKey, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.tokens.Get(k); ok && now.Before(t.expires) {
		return t.header, true
	}
	return "", false
}

// cached returns the header to send first for k: a valid token, or the
// Basic header the origin accepted before.
func (a *authState) cached(k authKey, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.tokens.Get(k); ok {
		if now.Before(t.expires) {
			return t.header, true
		}
		a.tokens.Remove(k)
	}
	if h, ok := a.basic.Get(k.origin); ok {
		return h, true
	}
	return "", false
}

func (a *authState) store(k authKey, header string, expires time.Time) {
	a.mu.Lock()
	a.tokens.Add(k, cachedAuth{header: header, expires: expires})
	a.mu.Unlock()
}

// invalidate forgets what was sent for k, after the registry refused it.
func (a *authState) invalidate(k authKey) {
	a.mu.Lock()
	a.tokens.Remove(k)
	a.basic.Remove(k.origin)
	a.mu.Unlock()
}

func (a *authState) knownBearer(origin string) (challenge, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bearer.Get(origin)
}

func (a *authState) rememberBearer(origin string, ch challenge) {
	a.mu.Lock()
	a.bearer.Add(origin, ch)
	a.mu.Unlock()
}

func (a *authState) rememberBasic(origin, header string) {
	a.mu.Lock()
	a.basic.Add(origin, header)
	a.mu.Unlock()
}

// initialAuth returns the Authorization header to send with the first try
// of rq: a cached token, Basic credentials the host asked for before, or a
// token fetched now because the host's Bearer challenge is already known.
func (c *registryClient) initialAuth(ctx context.Context, rq *regRequest) (string, string, error) {
	k := authKey{rq.t.origin, rq.t.scope}
	if h, ok := c.auth.cached(k, c.cfg.Now()); ok {
		return h, "cached " + authScheme(h) + " authorization", nil
	}
	if ch, ok := c.auth.knownBearer(rq.t.origin); ok {
		h, err := c.token(ctx, rq, ch)
		if err != nil {
			return "", "", err
		}
		return h, "bearer token fetched ahead (challenge known)", nil
	}
	return "", "", nil
}

func authScheme(h string) string {
	s, _, _ := strings.Cut(h, " ")
	return strings.ToLower(s)
}

// authorize answers a 401 carrying the given WWW-Authenticate values and
// returns the Authorization header to retry with.
func (c *registryClient) authorize(ctx context.Context, rq *regRequest, values []string) (string, error) {
	t := rq.t
	if len(values) == 0 {
		return "", t.err(rq.step, ErrUnauthorized, errors.New("HTTP 401 without WWW-Authenticate"))
	}
	chs, err := parseChallenges(values)
	if err != nil {
		return "", t.err(rq.step, ErrUnauthorized, err)
	}
	var bearer, basic *challenge
	for i := range chs {
		switch {
		case chs[i].is("Bearer") && bearer == nil:
			bearer = &chs[i]
		case chs[i].is("Basic") && basic == nil:
			basic = &chs[i]
		}
	}
	switch {
	case bearer != nil:
		c.auth.rememberBearer(t.origin, challenge{Scheme: bearer.Scheme, Params: map[string]string{
			"realm": bearer.Params["realm"], "service": bearer.Params["service"]}})
		return c.token(ctx, rq, *bearer)
	case basic != nil:
		creds, ok, err := c.cfg.Creds.lookup(ctx, t.host, t.repo)
		if err != nil {
			return "", t.err(rq.step, ErrUnauthorized, err)
		}
		if !ok || creds.Username == "" {
			return "", t.err(rq.step, ErrUnauthorized,
				fmt.Errorf("registry requires Basic authentication: %s", c.cfg.Creds.missing(t.host)))
		}
		h := "Basic " + base64.StdEncoding.EncodeToString([]byte(creds.Username+":"+creds.Password))
		c.auth.rememberBasic(t.origin, h)
		rq.tr.Add(trace.Event{Source: "registry", Query: "auth " + t.host, Server: t.host,
			Decision: "Basic challenge: sending the credentials for " + normalizeRegistryHost(t.host) + " from " + creds.Source})
		return h, nil
	}
	schemes := make([]string, len(chs))
	for i, ch := range chs {
		schemes[i] = ch.Scheme
	}
	return "", t.err(rq.step, ErrUnauthorized, fmt.Errorf("unsupported authentication scheme(s): %s", strings.Join(schemes, ", ")))
}

// token returns a Bearer header for rq's scope, from the cache or from the
// challenge's realm. Concurrent callers for one (origin, scope) share one
// request under internal/flight's rule: it belongs to none of them, a
// caller that gives up leaves the others waiting, and the last to leave
// abandons it. Each caller reports the outcome (events and error) under
// its own reference.
func (c *registryClient) token(ctx context.Context, rq *regRequest, ch challenge) (string, error) {
	k := authKey{rq.t.origin, rq.t.scope}
	if h, ok := c.auth.token(k, c.cfg.Now()); ok {
		return h, nil
	}
	shared := *rq.t
	shared.refName = "" // the request's errors name no caller's reference
	o, _, err := c.auth.flights.Do(ctx, k, func(ctx context.Context) (tokenOutcome, error) {
		return c.requestToken(ctx, k, &shared, ch)
	})
	for _, ev := range o.events {
		rq.tr.Add(ev)
	}
	var e *Error
	switch {
	case err == nil:
		return o.header, nil
	case errors.As(err, &e):
		return "", rq.t.err(e.Step, e.Kind, e.Err)
	}
	return "", rq.t.err("token", transportKind(err), err)
}

// requestToken fetches the token for k on behalf of every caller waiting
// for it, its trace events collected apart, and stores it before the
// shared request ends.
func (c *registryClient) requestToken(ctx context.Context, k authKey, t *target, ch challenge) (tokenOutcome, error) {
	tr := trace.New(c.cfg.Now)
	header, expires, err := c.fetchToken(trace.NewContext(ctx, tr), t, ch, tr)
	if err == nil {
		c.auth.store(k, header, expires)
	}
	return tokenOutcome{header: header, events: tr.Events()}, err
}
