// Package registrytest runs a real OCI distribution registry in process, on
// 127.0.0.1, for tests, the demo and end-to-end scripts.
//
// The registry itself is go-containerregistry's pkg/registry (a complete
// implementation of the distribution API, in memory). In front of it sits a
// small middleware that implements what that package does not: bearer-token
// and basic authentication, and the misbehaviours a registry client must
// survive (a missing or wrong Docker-Content-Digest, HEAD answered 405,
// throttling with Retry-After, 404s, slow bodies, chunked bodies, redirects to
// another host). Behaviours can be switched at run time with SetAuth and
// SetFaults, so one registry can be filled first and misbehave afterwards.
//
// Three servers are started, all on 127.0.0.1 with distinct ports, which a
// client sees as distinct hosts:
//
//   - the registry (TLS or plain, per Options.TLS);
//   - "other", of the same kind, which serves the token endpoint when the
//     realm is on another host and is the target of redirects; every request
//     it receives is recorded, so tests can assert that no Authorization
//     header was forwarded to it;
//   - "plain", always plain HTTP, serving the token endpoint when the realm
//     must be http:// (to test that clients refuse it).
//
// Push helpers (Target.PushImage, Target.PushIndex, Target.PushRaw) work
// against any registry URL — this one, or a real registry in end-to-end runs —
// and build images deterministically: the same options give the same digests
// in every run.
package registrytest

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
)

// pushUserAgent marks requests made by this package's push helpers, so that
// counters and faults apply only to the client under test.
const pushUserAgent = "ocidns-registrytest-push"

// Options configures Start.
type Options struct {
	// TLS serves the registry (and the "other" server) over HTTPS with
	// httptest's built-in certificate for 127.0.0.1; Client trusts it.
	TLS bool
	// Auth is the initial authentication mode; see SetAuth.
	Auth Auth
	// Faults are the initial misbehaviours; see SetFaults.
	Faults Faults
	// Log receives the registry's request log; nil discards it.
	Log io.Writer
	// Referrers turns the OCI referrers API on
	// (GET /v2/<name>/referrers/<digest>).
	Referrers bool
}

// Registry is a running in-process registry. Its methods are safe for
// concurrent use.
type Registry struct {
	inner http.Handler
	main  *httptest.Server
	other *httptest.Server
	plain *httptest.Server
	tls   bool

	mu       sync.Mutex
	auth     Auth
	faults   Faults
	throttle int // throttled responses left
	counts   Counts
	log      []Request
	tokens   map[string]grant // issued bearer tokens
	tokenSeq int
}

// Start starts a registry and its companion servers on 127.0.0.1. Close it
// when done.
func Start(opts Options) (*Registry, error) {
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	r := &Registry{
		inner:  registry.New(registry.Logger(log.New(logw, "registrytest: ", 0)), registry.WithReferrersSupport(opts.Referrers)),
		tls:    opts.TLS,
		tokens: map[string]grant{},
	}
	r.auth = opts.Auth
	r.setFaultsLocked(opts.Faults)

	var err error
	if r.main, err = r.listen(opts.TLS, http.HandlerFunc(r.serveMain)); err != nil {
		return nil, err
	}
	if r.other, err = r.listen(opts.TLS, http.HandlerFunc(r.serveOther)); err != nil {
		r.Close()
		return nil, err
	}
	if r.plain, err = r.listen(false, http.HandlerFunc(r.servePlain)); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// listen starts an httptest server on 127.0.0.1:0 without panicking when the
// port cannot be bound (httptest.NewServer would).
func (r *Registry) listen(useTLS bool, h http.Handler) (*httptest.Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("registrytest: listen on 127.0.0.1: %w", err)
	}
	s := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	return s, nil
}

// Close stops every server; outstanding slow responses are cut.
func (r *Registry) Close() {
	for _, s := range []*httptest.Server{r.main, r.other, r.plain} {
		if s != nil {
			s.CloseClientConnections()
			s.Close()
		}
	}
}

// URL returns the registry's base URL, scheme://127.0.0.1:port.
func (r *Registry) URL() string { return r.main.URL }

// Host returns the registry's host:port.
func (r *Registry) Host() string { return hostOf(r.main.URL) }

// OtherURL returns the base URL of the "other" host (redirect target, token
// realm on another host).
func (r *Registry) OtherURL() string { return r.other.URL }

// OtherHost returns the "other" server's host:port.
func (r *Registry) OtherHost() string { return hostOf(r.other.URL) }

// PlainURL returns the base URL of the plain-HTTP companion server.
func (r *Registry) PlainURL() string { return r.plain.URL }

// Client returns a new HTTP client that trusts the registry's certificate
// (and the companion servers'); each call returns an independent client.
func (r *Registry) Client() *http.Client {
	return &http.Client{Transport: r.Transport()}
}

// CertificatePEM returns the registry's certificate (httptest's, shared by
// every TLS server this package starts) in PEM, for programs outside the
// process that must trust it; nil for a plain registry.
func (r *Registry) CertificatePEM() []byte {
	if !r.tls {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.main.Certificate().Raw})
}

// Transport returns a new transport trusting the test certificate.
func (r *Registry) Transport() *http.Transport {
	var t *http.Transport
	if r.tls {
		t = r.main.Client().Transport.(*http.Transport).Clone()
	} else {
		t = http.DefaultTransport.(*http.Transport).Clone()
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	return t
}

// Target returns a push target for this registry, authenticating with the
// current Auth's credentials.
func (r *Registry) Target() Target {
	r.mu.Lock()
	a := r.auth
	r.mu.Unlock()
	t := Target{URL: r.URL(), Transport: r.Transport()}
	switch a.Mode {
	case AuthBasic, AuthToken:
		t.Username, t.Password = a.Username, a.Password
	}
	return t
}

// SetAuth changes how the registry authenticates clients from now on.
// Issued tokens stay valid.
func (r *Registry) SetAuth(a Auth) {
	r.mu.Lock()
	r.auth = a
	r.mu.Unlock()
}

// SetFaults replaces the active misbehaviours and restarts the throttle
// count.
func (r *Registry) SetFaults(f Faults) {
	r.mu.Lock()
	r.setFaultsLocked(f)
	r.mu.Unlock()
}

func (r *Registry) setFaultsLocked(f Faults) {
	r.faults = f
	r.throttle = f.Throttle
}

// Counts are request counters, excluding the push helpers' own requests.
type Counts struct {
	ManifestHEAD int // HEAD /v2/<name>/manifests/<ref> at the registry
	ManifestGET  int // GET of the same
	BlobGET      int // GET /v2/<name>/blobs/<digest>
	Token        int // token endpoint requests, on any of the servers
	// TokenByScope counts token requests by their scope parameter(s),
	// space-joined.
	TokenByScope map[string]int
	Unauthorized int // 401 responses from the registry
	Throttled    int // throttling responses served
	Redirected   int // requests the "other" host received, token endpoint excluded
}

// Manifests returns ManifestHEAD + ManifestGET.
func (c Counts) Manifests() int { return c.ManifestHEAD + c.ManifestGET }

// Requests returns a snapshot of the counters.
func (r *Registry) Requests() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	c.TokenByScope = make(map[string]int, len(r.counts.TokenByScope))
	for k, v := range r.counts.TokenByScope {
		c.TokenByScope[k] = v
	}
	return c
}

// ResetRequests zeroes the counters and the request log.
func (r *Registry) ResetRequests() {
	r.mu.Lock()
	r.counts = Counts{}
	r.log = nil
	r.mu.Unlock()
}

// Request is one recorded request (push helpers' requests excluded).
type Request struct {
	Server        string // "registry", "other" or "plain"
	Method        string
	Path          string
	RawQuery      string
	Authorization string // the header as received; test secrets only
	Status        int
}

// maxLog bounds the request log so a long benchmark cannot grow it forever.
const maxLog = 10000

// Log returns the recorded requests in arrival order.
func (r *Registry) Log() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.log...)
}

// RequestsTo returns the recorded requests that reached the named server
// ("registry", "other" or "plain").
func (r *Registry) RequestsTo(server string) []Request {
	var out []Request
	for _, q := range r.Log() {
		if q.Server == server {
			out = append(out, q)
		}
	}
	return out
}

func (r *Registry) record(q Request) {
	r.mu.Lock()
	if len(r.log) < maxLog {
		r.log = append(r.log, q)
	}
	r.mu.Unlock()
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// errNoRegistry is returned by push helpers given an unusable URL.
var errNoRegistry = errors.New("registrytest: registry URL must be http(s)://host[:port]")
