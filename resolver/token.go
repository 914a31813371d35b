package resolver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
)

// This file asks a token realm for a Bearer token (the distribution token
// spec and its OAuth2 variant): which realms may be asked, the request with
// the credentials for the registry, and the answer.

// tokenResponse is the token endpoint's answer (distribution token spec and
// its OAuth2 variant).
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// tokenRequest is a request to a token realm, with how the trace names it.
type tokenRequest struct {
	req   *http.Request
	query string // "GET https://auth.example/token?..."
	how   string // the credentials sent: "anonymous", "credentials for ... from ..."
}

// fetchToken asks the realm of ch for a token for t's scope, recording the
// request in tr.
func (c *registryClient) fetchToken(ctx context.Context, t *target, ch challenge, tr *trace.Trace) (string, time.Time, error) {
	u, err := c.tokenRealm(t, ch)
	if err != nil {
		return "", time.Time{}, t.err("token", ErrUnauthorized, err)
	}
	scopes := tokenScopes(t, ch)
	creds, hasCreds, err := c.cfg.Creds.lookup(ctx, t.host, t.repo)
	if err != nil {
		return "", time.Time{}, t.err("token", ErrUnauthorized, err)
	}
	tq, err := newTokenRequest(ctx, t, u, ch.Params["service"], scopes, creds, hasCreds)
	if err != nil {
		return "", time.Time{}, t.err("token", ErrUnauthorized, err)
	}

	start := c.cfg.Now()
	resp, err := c.client.Do(tq.req)
	ev := trace.Event{Source: "registry", Query: tq.query, Server: u.Host, Duration: c.cfg.Now().Sub(start), Request: trace.HTTP, Status: trace.NoResponse}
	if err != nil {
		ev.Outcome, ev.Decision = "error", "token request failed: "+err.Error()
		tr.Add(ev)
		return "", time.Time{}, t.err("token", transportKind(err), fmt.Errorf("token realm %s: %w", u.Host, err))
	}
	defer closeBody(resp)
	ev.Outcome, ev.Status = strconv.Itoa(resp.StatusCode), resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		ev.Decision = "token refused (" + tq.how + ")"
		tr.Add(ev)
		return "", time.Time{}, c.tokenRefused(t, u, resp, tq.how, hasCreds)
	}
	token, life, why, err := readToken(resp, t, u)
	if err != nil {
		ev.Decision = why
		tr.Add(ev)
		return "", time.Time{}, err
	}
	// Stop using a token a little before the server does: a request in
	// flight should not carry a token that expires under it.
	reuse := life - min(life/10, 10*time.Second)
	ev.Decision = fmt.Sprintf("%s token for %s, reused for %v", tq.how, strings.Join(scopes, " "), reuse)
	tr.Add(ev)
	return "Bearer " + token, c.cfg.Now().Add(reuse), nil
}

// tokenRealm returns the realm of ch if a token may be asked there for
// the registry of t: an absolute https URL (http only for a registry marked
// insecure), and an internal address only for a registry that is one.
func (c *registryClient) tokenRealm(t *target, ch challenge) (*url.URL, error) {
	realm := ch.Params["realm"]
	if realm == "" {
		return nil, errors.New("Bearer challenge has no realm")
	}
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("token realm %q is not an absolute URL", realm)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.insecure(t.host):
	case u.Scheme == "http":
		return nil, fmt.Errorf("token realm %s is plain http and registry %s is not marked insecure: refusing to fetch a token over it", u.Redacted(), t.host)
	default:
		return nil, fmt.Errorf("token realm %q: scheme must be https", realm)
	}
	if internalIP(u.Hostname()) && !strings.EqualFold(u.Host, t.host) && !internalIP(hostOnly(t.host)) {
		// A registry on a public name must not point its clients at
		// loopback, private or link-local addresses (metadata services,
		// admin ports): the token request would be made from inside.
		return nil, fmt.Errorf("token realm %s is an internal address and registry %s is not: refusing it", u.Redacted(), t.host)
	}
	return u, nil
}

// tokenScopes returns the scopes to ask for: t's, then the others the
// challenge names.
func tokenScopes(t *target, ch challenge) []string {
	scopes := []string{t.scope}
	for _, s := range strings.Fields(ch.Params["scope"]) {
		if s != t.scope {
			scopes = append(scopes, s)
		}
	}
	return scopes
}

// newTokenRequest builds the request to the realm u: the OAuth2
// refresh-token grant for an identity token (as Docker does), else a GET
// with the registry's credentials, if any, as Basic authentication.
func newTokenRequest(ctx context.Context, t *target, u *url.URL, service string, scopes []string, creds dockerAuth, hasCreds bool) (tokenRequest, error) {
	var tq tokenRequest
	var err error
	if hasCreds && creds.IdentityToken != "" {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {creds.IdentityToken},
			"client_id": {"ocidns"}, "scope": {strings.Join(scopes, " ")}}
		if service != "" {
			form.Set("service", service)
		}
		tq.req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return tq, err
		}
		tq.req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		tq.query = "POST " + u.Redacted()
		tq.how = "identity token for " + normalizeRegistryHost(t.host) + " from " + creds.Source
	} else {
		q := u.Query()
		if service != "" {
			q.Set("service", service)
		}
		q["scope"] = scopes
		u.RawQuery = q.Encode()
		tq.req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return tq, err
		}
		tq.query = "GET " + u.Redacted()
		tq.how = "anonymous"
		if hasCreds {
			tq.req.SetBasicAuth(creds.Username, creds.Password)
			tq.how = "credentials for " + normalizeRegistryHost(t.host) + " from " + creds.Source
		}
	}
	tq.req.Header.Set("User-Agent", userAgent)
	tq.req.Header.Set("Accept", "application/json")
	return tq, nil
}

// tokenRefused is the error for a realm's answer other than 200 to a
// request made with how.
func (c *registryClient) tokenRefused(t *target, u *url.URL, resp *http.Response, how string, hasCreds bool) error {
	kind := ErrUpstream
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		kind = ErrUnauthorized
	}
	cause := fmt.Errorf("token realm %s answered HTTP %d to a request with %s%s", u.Host, resp.StatusCode, how, registryErrorMessage(resp))
	if !hasCreds && kind == ErrUnauthorized {
		cause = fmt.Errorf("%w; %s", cause, c.cfg.Creds.missing(t.host))
	}
	return t.err("token", kind, cause)
}

// readToken reads the token and its lifetime (the server's, at most
// maxTokenLifetime) from the realm's 200 answer. On failure, why words it
// for the trace.
func readToken(resp *http.Response, t *target, u *url.URL) (token string, life time.Duration, why string, err error) {
	body, err := readBounded(resp.Body, maxTokenBytes, resp.ContentLength, "token response")
	if err != nil {
		var tl *errTooLarge
		kind := transportKind(err)
		if errors.As(err, &tl) {
			kind = ErrTooLarge
		}
		return "", 0, "token response unreadable", t.err("token", kind, fmt.Errorf("token realm %s: %w", u.Host, err))
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", 0, "token response is not JSON", t.err("token", ErrUpstream, fmt.Errorf("token realm %s: response is not a token: %v", u.Host, err))
	}
	token = tok.Token
	if token == "" {
		token = tok.AccessToken
	}
	if token == "" {
		return "", 0, "token response has no token", t.err("token", ErrUpstream, fmt.Errorf("token realm %s: response has neither token nor access_token", u.Host))
	}
	life = defaultTokenLifetime
	if tok.ExpiresIn > 0 {
		life = time.Duration(min(tok.ExpiresIn, int64(maxTokenLifetime/time.Second))) * time.Second
	}
	return token, life, "", nil
}
