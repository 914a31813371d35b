package registrytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// grant is what one issued token allows.
type grant struct {
	service string
	repos   map[string]map[string]bool // repository → actions
}

func (g grant) allows(repo, action string) bool {
	acts := g.repos[repo]
	return acts[action] || acts["*"]
}

// parseScopes reads Docker token scopes ("repository:name:pull,push"),
// space-separated and possibly repeated; other resource types are ignored.
func parseScopes(values []string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, v := range values {
		for _, s := range strings.Fields(v) {
			typ, rest, ok := strings.Cut(s, ":")
			if !ok || typ != "repository" {
				continue
			}
			i := strings.LastIndexByte(rest, ':')
			if i <= 0 {
				continue
			}
			name, actions := rest[:i], rest[i+1:]
			if out[name] == nil {
				out[name] = map[string]bool{}
			}
			for _, a := range strings.Split(actions, ",") {
				if a != "" {
					out[name][a] = true
				}
			}
		}
	}
	return out
}

// serveToken is a Docker token endpoint: GET with optional HTTP Basic, or the
// OAuth2 POST (grant_type=refresh_token or password). Tokens are opaque
// strings remembered in memory with the scopes they grant; every requested
// scope is granted once the caller is authenticated.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	a := r.auth
	r.mu.Unlock()
	if a.Mode != AuthToken {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no token endpoint: registry does not use token auth")
		return
	}
	tr, ok := readTokenRequest(w, req, a)
	if !ok {
		return
	}
	if !isPush(req) {
		r.mu.Lock()
		r.counts.Token++
		if r.counts.TokenByScope == nil {
			r.counts.TokenByScope = map[string]int{}
		}
		r.counts.TokenByScope[strings.Join(tr.scopes, " ")]++
		r.mu.Unlock()
	}
	if tr.service != a.service() {
		writeError(w, http.StatusBadRequest, "INVALID_SERVICE", fmt.Sprintf("service %q is not %q", tr.service, a.service()))
		return
	}
	if !tr.authenticated {
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest token"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "bad credentials")
		return
	}

	r.mu.Lock()
	r.tokenSeq++
	tok := fmt.Sprintf("registrytest-token-%d", r.tokenSeq)
	r.tokens[tok] = grant{service: tr.service, repos: parseScopes(tr.scopes)}
	r.mu.Unlock()

	resp := map[string]any{"token": tok, "access_token": tok}
	if a.ExpiresIn > 0 {
		resp["expires_in"] = a.ExpiresIn
	}
	body, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// tokenRequest is what a token request asks for, and whether its
// credentials are a's.
type tokenRequest struct {
	service       string
	scopes        []string
	authenticated bool
}

// readTokenRequest reads a GET (Basic credentials, or none) or a POST (an
// OAuth2 refresh-token or password grant); on a malformed request it
// answers it and returns false.
func readTokenRequest(w http.ResponseWriter, req *http.Request, a Auth) (tokenRequest, bool) {
	tr := tokenRequest{authenticated: a.Username == "" && a.RefreshToken == ""}
	switch req.Method {
	case http.MethodGet:
		q := req.URL.Query()
		tr.service, tr.scopes = q.Get("service"), q["scope"]
		if u, p, ok := req.BasicAuth(); ok {
			tr.authenticated = a.Username != "" && u == a.Username && p == a.Password
		}
	case http.MethodPost:
		req.Body = http.MaxBytesReader(w, req.Body, 64<<10)
		if err := req.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "form: "+err.Error())
			return tr, false
		}
		tr.service, tr.scopes = req.PostForm.Get("service"), req.PostForm["scope"]
		switch req.PostForm.Get("grant_type") {
		case "refresh_token":
			tr.authenticated = a.RefreshToken != "" && req.PostForm.Get("refresh_token") == a.RefreshToken
		case "password":
			tr.authenticated = a.Username != "" && req.PostForm.Get("username") == a.Username &&
				req.PostForm.Get("password") == a.Password
		default:
			writeError(w, http.StatusBadRequest, "UNSUPPORTED_GRANT_TYPE", "grant_type must be refresh_token or password")
			return tr, false
		}
	default:
		writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "token endpoint takes GET or POST")
		return tr, false
	}
	return tr, true
}
