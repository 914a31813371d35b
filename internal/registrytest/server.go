package registrytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// AuthMode selects how the registry authenticates requests.
type AuthMode int

// Authentication modes.
const (
	// AuthNone serves everyone.
	AuthNone AuthMode = iota
	// AuthToken answers 401 with a Bearer challenge; tokens come from the
	// token endpoint (anonymously unless Username or RefreshToken is set).
	AuthToken
	// AuthBasic answers 401 with a Basic challenge and accepts
	// Username/Password directly.
	AuthBasic
)

// RealmMode selects where the Bearer challenge's realm points.
type RealmMode int

// Token realm locations.
const (
	// RealmSameHost is https://<registry>/token (http:// for a plain registry).
	RealmSameHost RealmMode = iota
	// RealmOtherHost is the "other" server's /token: another host:port.
	RealmOtherHost
	// RealmPlainHTTP is the plain-HTTP server's /token, always http://.
	RealmPlainHTTP
)

// Auth configures authentication.
type Auth struct {
	Mode AuthMode
	// Username and Password: for AuthBasic the credentials the registry
	// accepts; for AuthToken those the token endpoint requires (HTTP Basic on
	// GET, or grant_type=password on POST). Empty means anonymous tokens.
	Username, Password string
	// RefreshToken, when set, is accepted by the token endpoint on an OAuth2
	// POST with grant_type=refresh_token (Docker's identity tokens); the
	// endpoint then refuses anonymous GETs.
	RefreshToken string
	// Service is the challenge's service parameter; default "registrytest".
	Service string
	// ExpiresIn is the expires_in the token endpoint reports, in seconds;
	// 0 omits the field.
	ExpiresIn int
	// Realm is where the token endpoint is advertised to the client under
	// test. The push helpers are always sent to the registry's own /token,
	// because go-containerregistry refuses realms on another loopback
	// host:port.
	Realm RealmMode
}

func (a Auth) service() string {
	if a.Service == "" {
		return "registrytest"
	}
	return a.Service
}

// Faults are misbehaviours applied to the client under test's manifest
// requests (never to the push helpers' requests). Zero value: none.
type Faults struct {
	// StripDigest removes Docker-Content-Digest from manifest responses.
	StripDigest bool
	// WrongDigest replaces Docker-Content-Digest with the digest of other
	// content.
	WrongDigest bool
	// HeadNotAllowed answers HEAD on manifests with 405.
	HeadNotAllowed bool
	// Chunked removes Content-Length from manifest responses and streams the
	// body chunked.
	Chunked bool
	// Throttle answers the next Throttle manifest requests with
	// ThrottleStatus (default 429) and the RetryAfter header (omitted when
	// empty).
	Throttle       int
	ThrottleStatus int
	RetryAfter     string
	// NotFound answers every manifest request 404 MANIFEST_UNKNOWN.
	NotFound bool
	// SlowBody sends the first half of a manifest body, then waits this long
	// (or until the client goes away) before the rest.
	SlowBody time.Duration
	// Redirect answers authorized manifest requests with 307 to the same
	// path on the "other" host, which serves them without authentication
	// and records what arrived.
	Redirect bool
	// Delay holds every request to the registry (the push helpers' aside)
	// back this long before it is served, as a network round trip would:
	// requests in flight together wait one Delay, so a benchmark counts
	// serial round trips as (wall with Delay - wall without) / Delay.
	// Connection set-up (TCP, TLS) is not delayed.
	Delay time.Duration
}

// wrongDigest is what WrongDigest puts in Docker-Content-Digest.
var wrongDigest = func() string {
	sum := sha256.Sum256([]byte("registrytest: not the manifest you asked for"))
	return "sha256:" + hex.EncodeToString(sum[:])
}()

type routeKind int

const (
	routeOther routeKind = iota
	routeManifest
	routeBlob
)

// route classifies a /v2/ path and returns the repository name it is about
// ("" for /v2/ itself), as the scope a token must grant.
func route(path string) (routeKind, string) {
	elem := strings.Split(strings.TrimPrefix(path, "/"), "/")
	n := len(elem)
	if n < 4 || elem[0] != "v2" {
		return routeOther, ""
	}
	switch {
	case elem[n-2] == "manifests":
		return routeManifest, strings.Join(elem[1:n-2], "/")
	case elem[n-2] == "blobs":
		return routeBlob, strings.Join(elem[1:n-2], "/")
	case n >= 5 && elem[n-2] == "uploads" && elem[n-3] == "blobs":
		return routeOther, strings.Join(elem[1:n-3], "/")
	case elem[n-2] == "tags" || elem[n-2] == "referrers":
		return routeOther, strings.Join(elem[1:n-2], "/")
	}
	return routeOther, ""
}

func isPush(req *http.Request) bool {
	return strings.Contains(req.Header.Get("User-Agent"), pushUserAgent)
}

// serveMain is the registry: authentication, then faults, then the real
// registry handler.
func (r *Registry) serveMain(w http.ResponseWriter, req *http.Request) {
	push := isPush(req)
	rw := &faultWriter{ResponseWriter: w, req: req}
	if !push {
		defer func() {
			r.record(Request{Server: "registry", Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
				Authorization: req.Header.Get("Authorization"), Status: rw.status()})
		}()
	}
	if req.URL.Path == "/token" {
		r.serveToken(rw, req)
		return
	}
	kind, name := route(req.URL.Path)
	r.mu.Lock()
	a, f := r.auth, r.faults
	r.mu.Unlock()
	if !push && !hold(req, f.Delay) {
		return
	}
	r.count(req, kind, push)
	if !r.authorize(rw, req, a, name) {
		if !push {
			r.mu.Lock()
			r.counts.Unauthorized++
			r.mu.Unlock()
		}
		return
	}
	if push || kind != routeManifest || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
		r.inner.ServeHTTP(rw, req)
		return
	}
	if r.manifestFault(rw, req, f) {
		return
	}
	rw.faults = f
	r.inner.ServeHTTP(rw, req)
}

// count counts a pull request of kind.
func (r *Registry) count(req *http.Request, kind routeKind, push bool) {
	if push {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case kind == routeManifest && req.Method == http.MethodHead:
		r.counts.ManifestHEAD++
	case kind == routeManifest && req.Method == http.MethodGet:
		r.counts.ManifestGET++
	case kind == routeBlob && req.Method == http.MethodGet:
		r.counts.BlobGET++
	}
}

// hold holds req back for d (the Delay fault); false when its client left
// meanwhile.
func hold(req *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-req.Context().Done():
		return false
	}
}

// manifestFault answers a manifest request as fault f has the registry
// answer in place of the manifest, and reports whether it did.
func (r *Registry) manifestFault(rw *faultWriter, req *http.Request, f Faults) bool {
	if f.NotFound {
		writeError(rw, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown (registrytest NotFound fault)")
		return true
	}
	r.mu.Lock()
	throttled := r.throttle > 0
	if throttled {
		r.throttle--
		r.counts.Throttled++
	}
	r.mu.Unlock()
	switch {
	case throttled:
		status := f.ThrottleStatus
		if status == 0 {
			status = http.StatusTooManyRequests
		}
		if f.RetryAfter != "" {
			rw.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(rw, status, "TOOMANYREQUESTS", "slow down (registrytest Throttle fault)")
	case f.HeadNotAllowed && req.Method == http.MethodHead:
		rw.Header().Set("Allow", "GET")
		rw.WriteHeader(http.StatusMethodNotAllowed)
	case f.Redirect:
		target := r.other.URL + req.URL.Path
		if req.URL.RawQuery != "" {
			target += "?" + req.URL.RawQuery
		}
		http.Redirect(rw, req, target, http.StatusTemporaryRedirect)
	default:
		return false
	}
	return true
}

// serveOther is the "other" host: a token endpoint when the realm is there,
// otherwise the unauthenticated target of redirects (like a pre-signed
// storage URL).
func (r *Registry) serveOther(w http.ResponseWriter, req *http.Request) {
	rw := &faultWriter{ResponseWriter: w, req: req}
	push := isPush(req)
	if !push {
		defer func() {
			r.record(Request{Server: "other", Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
				Authorization: req.Header.Get("Authorization"), Status: rw.status()})
		}()
	}
	if req.URL.Path == "/token" {
		r.serveToken(rw, req)
		return
	}
	if !push {
		r.mu.Lock()
		r.counts.Redirected++
		r.mu.Unlock()
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		writeError(rw, http.StatusMethodNotAllowed, "UNSUPPORTED", "the other host serves reads only")
		return
	}
	r.inner.ServeHTTP(rw, req)
}

// servePlain is the plain-HTTP companion: only the token endpoint.
func (r *Registry) servePlain(w http.ResponseWriter, req *http.Request) {
	rw := &faultWriter{ResponseWriter: w, req: req}
	if !isPush(req) {
		defer func() {
			r.record(Request{Server: "plain", Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
				Authorization: req.Header.Get("Authorization"), Status: rw.status()})
		}()
	}
	if req.URL.Path == "/token" {
		r.serveToken(rw, req)
		return
	}
	writeError(rw, http.StatusNotFound, "NOT_FOUND", "the plain server serves /token only")
}

// authorize checks req against a and writes the 401 challenge when it fails.
// name is the repository the request is about ("" for /v2/ itself).
func (r *Registry) authorize(w http.ResponseWriter, req *http.Request, a Auth, name string) bool {
	switch a.Mode {
	case AuthBasic:
		u, p, ok := req.BasicAuth()
		if ok && u == a.Username && p == a.Password {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	case AuthToken:
		action := "pull"
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			action = "push"
		}
		tok, hasBearer := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if hasBearer {
			r.mu.Lock()
			g, ok := r.tokens[tok]
			r.mu.Unlock()
			if ok && g.service == a.service() && (name == "" || g.allows(name, action)) {
				return true
			}
		}
		realm := r.realm(a)
		if isPush(req) {
			// go-containerregistry refuses a realm on another loopback
			// host:port (SSRF protection); the push helpers always get the
			// registry's own endpoint so filling a registry never depends
			// on the realm under test.
			realm = r.main.URL + "/token"
		}
		challenge := `Bearer realm="` + quote(realm) + `",service="` + quote(a.service()) + `"`
		if name != "" {
			actions := "pull"
			if action == "push" {
				actions = "pull,push"
			}
			challenge += `,scope="` + quote("repository:"+name+":"+actions) + `"`
		}
		if hasBearer {
			challenge += `,error="insufficient_scope"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	}
	return true
}

// realm returns the token endpoint URL advertised for a.
func (r *Registry) realm(a Auth) string {
	switch a.Realm {
	case RealmOtherHost:
		return r.other.URL + "/token"
	case RealmPlainHTTP:
		return r.plain.URL + "/token"
	}
	return r.main.URL + "/token"
}

// quote escapes s for an RFC 7230 quoted-string.
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// writeError writes an OCI distribution error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// faultWriter applies header and body faults to a successful response and
// remembers the status for the request log.
type faultWriter struct {
	http.ResponseWriter
	req      *http.Request
	faults   Faults
	code     int
	slowDone bool
}

func (w *faultWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *faultWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code = code
	h := w.Header()
	if code == http.StatusOK {
		if w.faults.StripDigest {
			h.Del("Docker-Content-Digest")
		}
		if w.faults.WrongDigest {
			h.Set("Docker-Content-Digest", wrongDigest)
		}
		if w.faults.Chunked {
			h.Del("Content-Length")
		}
	}
	w.ResponseWriter.WriteHeader(code)
	if code == http.StatusOK && w.faults.Chunked {
		// Flushing the header now makes the server stream the body
		// chunked instead of computing a Content-Length.
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *faultWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.faults.SlowBody <= 0 || w.slowDone || w.code != http.StatusOK || len(p) == 0 {
		return w.ResponseWriter.Write(p)
	}
	w.slowDone = true
	half := (len(p) + 1) / 2
	n, err := w.ResponseWriter.Write(p[:half])
	if err != nil {
		return n, err
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
	t := time.NewTimer(w.faults.SlowBody)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.req.Context().Done():
		return n, w.req.Context().Err()
	}
	m, err := w.ResponseWriter.Write(p[half:])
	return n + m, err
}

// Flush lets handlers below flush through the wrapper.
func (w *faultWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
