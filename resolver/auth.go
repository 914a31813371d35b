package resolver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
)

// This file answers a registry's 401: which challenge to take, where to get
// a token, which credentials may go where, and how long a token is reused.
//
// Credentials (from the Docker config, for exactly the registry's host) go
// only to that registry (Basic challenge) or to the token realm its Bearer
// challenge names — that is the token protocol. A realm must be https
// unless the registry host is marked insecure, and may be an internal IP
// literal (loopback, private, link-local) only when the registry's host is
// one too. Redirects never carry an
// Authorization header to another origin (see newRegistryClient).

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

// Token cache bounds.
const (
	maxCachedTokens      = 1024
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

// authFlight lets concurrent requests for one (origin, scope) share a
// token request.
type authFlight struct {
	done   chan struct{}
	header string
	err    error
}

// authState is the client's memory of authentication. Safe for concurrent
// use.
type authState struct {
	mu      sync.Mutex
	tokens  map[authKey]cachedAuth
	bearer  map[string]challenge // origin → its last Bearer challenge, to fetch tokens for new scopes without a 401 first
	basic   map[string]string    // origin → Basic header it accepted a challenge for
	flights map[authKey]*authFlight
}

func newAuthState() *authState {
	return &authState{tokens: map[authKey]cachedAuth{}, bearer: map[string]challenge{},
		basic: map[string]string{}, flights: map[authKey]*authFlight{}}
}

func (a *authState) cached(k authKey, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.tokens[k]; ok {
		if now.Before(t.expires) {
			return t.header, true
		}
		delete(a.tokens, k)
	}
	if h := a.basic[k.origin]; h != "" {
		return h, true
	}
	return "", false
}

func (a *authState) store(k authKey, header string, expires time.Time, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.tokens) >= maxCachedTokens {
		for key, t := range a.tokens {
			if !now.Before(t.expires) {
				delete(a.tokens, key)
			}
		}
		for key := range a.tokens {
			if len(a.tokens) < maxCachedTokens {
				break
			}
			delete(a.tokens, key) // arbitrary victim: the cache is an optimisation
		}
	}
	a.tokens[k] = cachedAuth{header: header, expires: expires}
}

// invalidate forgets what was sent for k, after the registry refused it.
func (a *authState) invalidate(k authKey) {
	a.mu.Lock()
	delete(a.tokens, k)
	delete(a.basic, k.origin)
	a.mu.Unlock()
}

func (a *authState) knownBearer(origin string) (challenge, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.bearer[origin]
	return c, ok
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
		c.auth.mu.Lock()
		c.auth.bearer[t.origin] = challenge{Scheme: bearer.Scheme, Params: map[string]string{
			"realm": bearer.Params["realm"], "service": bearer.Params["service"]}}
		c.auth.mu.Unlock()
		return c.token(ctx, rq, *bearer)
	case basic != nil:
		creds, ok, err := c.cfg.Creds.lookup(t.host)
		if err != nil {
			return "", t.err(rq.step, ErrUnauthorized, err)
		}
		if !ok || creds.Username == "" {
			return "", t.err(rq.step, ErrUnauthorized,
				fmt.Errorf("registry requires Basic authentication: %s", c.cfg.Creds.missing(t.host)))
		}
		h := "Basic " + base64.StdEncoding.EncodeToString([]byte(creds.Username+":"+creds.Password))
		c.auth.mu.Lock()
		c.auth.basic[t.origin] = h
		c.auth.mu.Unlock()
		rq.tr.Add(trace.Event{Source: "registry", Query: "auth " + t.host, Server: t.host,
			Decision: "Basic challenge: sending the credentials for " + normalizeRegistryHost(t.host) + " from " + c.cfg.Creds.where()})
		return h, nil
	}
	schemes := make([]string, len(chs))
	for i, ch := range chs {
		schemes[i] = ch.Scheme
	}
	return "", t.err(rq.step, ErrUnauthorized, fmt.Errorf("unsupported authentication scheme(s): %s", strings.Join(schemes, ", ")))
}

// token returns a Bearer header for rq's scope, from the cache or from the
// challenge's realm; concurrent callers for one scope share one request.
func (c *registryClient) token(ctx context.Context, rq *regRequest, ch challenge) (string, error) {
	k := authKey{rq.t.origin, rq.t.scope}
	a := c.auth
	a.mu.Lock()
	if t, ok := a.tokens[k]; ok && c.cfg.Now().Before(t.expires) {
		a.mu.Unlock()
		return t.header, nil
	}
	if f, ok := a.flights[k]; ok {
		a.mu.Unlock()
		select {
		case <-f.done:
			return f.header, f.err
		case <-ctx.Done():
			return "", rq.t.err("token", transportKind(ctx.Err()), ctx.Err())
		}
	}
	f := &authFlight{done: make(chan struct{})}
	a.flights[k] = f
	a.mu.Unlock()

	header, expires, err := c.fetchToken(ctx, rq, ch)
	if err == nil {
		a.store(k, header, expires, c.cfg.Now())
	}
	f.header, f.err = header, err
	a.mu.Lock()
	delete(a.flights, k)
	a.mu.Unlock()
	close(f.done)
	return header, err
}

// tokenResponse is the token endpoint's answer (distribution token spec and
// its OAuth2 variant).
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// fetchToken asks the realm of ch for a token for rq's scope.
func (c *registryClient) fetchToken(ctx context.Context, rq *regRequest, ch challenge) (string, time.Time, error) {
	t := rq.t
	realm := ch.Params["realm"]
	if realm == "" {
		return "", time.Time{}, t.err("token", ErrUnauthorized, errors.New("Bearer challenge has no realm"))
	}
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" || u.User != nil {
		return "", time.Time{}, t.err("token", ErrUnauthorized, fmt.Errorf("token realm %q is not an absolute URL", realm))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.insecure(t.host):
	case u.Scheme == "http":
		return "", time.Time{}, t.err("token", ErrUnauthorized,
			fmt.Errorf("token realm %s is plain http and registry %s is not marked insecure: refusing to fetch a token over it", u.Redacted(), t.host))
	default:
		return "", time.Time{}, t.err("token", ErrUnauthorized, fmt.Errorf("token realm %q: scheme must be https", realm))
	}
	if internalIP(u.Hostname()) && !strings.EqualFold(u.Host, t.host) && !internalIP(hostOnly(t.host)) {
		// A registry on a public name must not point its clients at
		// loopback, private or link-local addresses (metadata services,
		// admin ports): the token request would be made from inside.
		return "", time.Time{}, t.err("token", ErrUnauthorized,
			fmt.Errorf("token realm %s is an internal address and registry %s is not: refusing it", u.Redacted(), t.host))
	}
	scopes := []string{t.scope}
	for _, s := range strings.Fields(ch.Params["scope"]) {
		if s != t.scope {
			scopes = append(scopes, s)
		}
	}
	service := ch.Params["service"]

	creds, hasCreds, err := c.cfg.Creds.lookup(t.host)
	if err != nil {
		return "", time.Time{}, t.err("token", ErrUnauthorized, err)
	}
	var req *http.Request
	var query, how string
	if hasCreds && creds.IdentityToken != "" {
		// OAuth2 refresh-token grant, as Docker does for identity tokens.
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {creds.IdentityToken},
			"client_id": {"ocidns"}, "scope": {strings.Join(scopes, " ")}}
		if service != "" {
			form.Set("service", service)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		query = "POST " + u.Redacted()
		how = "identity token for " + normalizeRegistryHost(t.host) + " from " + c.cfg.Creds.where()
	} else {
		q := u.Query()
		if service != "" {
			q.Set("service", service)
		}
		q["scope"] = scopes
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		query = "GET " + u.Redacted()
		how = "anonymous"
		if hasCreds && req != nil {
			req.SetBasicAuth(creds.Username, creds.Password)
			how = "credentials for " + normalizeRegistryHost(t.host) + " from " + c.cfg.Creds.where()
		}
	}
	if err != nil {
		return "", time.Time{}, t.err("token", ErrUnauthorized, err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")

	start := c.cfg.Now()
	resp, err := c.client.Do(req)
	ev := trace.Event{Source: "registry", Query: query, Server: u.Host, Duration: c.cfg.Now().Sub(start)}
	if err != nil {
		ev.Outcome, ev.Decision = "error", "token request failed: "+err.Error()
		rq.tr.Add(ev)
		return "", time.Time{}, t.err("token", transportKind(err), fmt.Errorf("token realm %s: %w", u.Host, err))
	}
	defer closeBody(resp)
	ev.Outcome = strconv.Itoa(resp.StatusCode)
	if resp.StatusCode != http.StatusOK {
		msg := registryErrorMessage(resp)
		kind := ErrUpstream
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			kind = ErrUnauthorized
		}
		ev.Decision = "token refused (" + how + ")"
		rq.tr.Add(ev)
		cause := fmt.Errorf("token realm %s answered HTTP %d to a request with %s%s", u.Host, resp.StatusCode, how, msg)
		if !hasCreds && kind == ErrUnauthorized {
			cause = fmt.Errorf("%w; %s", cause, c.cfg.Creds.missing(t.host))
		}
		return "", time.Time{}, t.err("token", kind, cause)
	}
	body, err := readBounded(resp.Body, maxTokenBytes, resp.ContentLength, "token response")
	if err != nil {
		var tl *errTooLarge
		kind := transportKind(err)
		if errors.As(err, &tl) {
			kind = ErrTooLarge
		}
		ev.Decision = "token response unreadable"
		rq.tr.Add(ev)
		return "", time.Time{}, t.err("token", kind, fmt.Errorf("token realm %s: %w", u.Host, err))
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		ev.Decision = "token response is not JSON"
		rq.tr.Add(ev)
		return "", time.Time{}, t.err("token", ErrUpstream, fmt.Errorf("token realm %s: response is not a token: %v", u.Host, err))
	}
	tok := tr.Token
	if tok == "" {
		tok = tr.AccessToken
	}
	if tok == "" {
		ev.Decision = "token response has no token"
		rq.tr.Add(ev)
		return "", time.Time{}, t.err("token", ErrUpstream, fmt.Errorf("token realm %s: response has neither token nor access_token", u.Host))
	}
	life := defaultTokenLifetime
	if tr.ExpiresIn > 0 {
		life = time.Duration(min(tr.ExpiresIn, int64(maxTokenLifetime/time.Second))) * time.Second
	}
	// Stop using a token a little before the server does: a request in
	// flight should not carry a token that expires under it.
	reuse := life - min(life/10, 10*time.Second)
	ev.Decision = fmt.Sprintf("%s token for %s, reused for %v", how, strings.Join(scopes, " "), reuse)
	rq.tr.Add(ev)
	return "Bearer " + tok, c.cfg.Now().Add(reuse), nil
}
