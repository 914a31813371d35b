// Command tokenserver is the Docker registry token service of the
// end-to-end lab (.ci/e2e-up.sh). It issues ES256 JSON Web Tokens of the
// shape Debian's docker-registry (distribution 2.8) accepts with
// `auth: token`: claims iss, sub, aud, exp, nbf, iat, jti and access, and the
// signing certificate in the `x5c` header, chained to the bundle the registry
// is configured with.
//
// Anonymous callers get "pull" on any repository, which is what ocidns needs
// to turn a tag into a digest without credentials. The lab's pusher (-user,
// -password) gets what it asks for, so images can be pushed; wrong
// credentials get 401 rather than a silent anonymous token, as real token
// services do.
//
// The signing key and its self-signed certificate are generated at start and
// live only as long as the process: nothing secret is written to disk but the
// certificate (-cert), which the registry needs as its rootcertbundle.
//
// Usage:
//
//	tokenserver -listen 127.0.0.1:15002 -listen [::1]:15002 -cert DIR/token.pem \
//	    -issuer ocidns-e2e-issuer -service ocidns-e2e-registry -user pusher -password secret
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Bounds on what a request may carry; the lab's clients ask for one or two
// scopes, so these are generous and only stop runaway input.
const (
	maxScopes    = 16
	maxScopeLen  = 512
	tokenTTL     = 5 * time.Minute
	certLifetime = 48 * time.Hour
)

type listenFlags []string

func (l *listenFlags) String() string     { return strings.Join(*l, ",") }
func (l *listenFlags) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var listen listenFlags
	flag.Var(&listen, "listen", "address to listen on (repeatable); a [::1] address that cannot be bound is skipped")
	certFile := flag.String("cert", "", "write the signing certificate (PEM) here: the registry's rootcertbundle")
	issuer := flag.String("issuer", "ocidns-e2e-issuer", "iss claim; must equal the registry's auth.token.issuer")
	service := flag.String("service", "ocidns-e2e-registry", "aud claim; must equal the registry's auth.token.service")
	user := flag.String("user", "", "user granted every requested action (empty: nobody)")
	password := flag.String("password", "", "password of -user")
	flag.Parse()
	if len(listen) == 0 || *certFile == "" {
		fmt.Fprintln(os.Stderr, "tokenserver: -listen and -cert are required")
		os.Exit(2)
	}

	s, err := newServer(rand.Reader, time.Now, *issuer, *service, *user, *password)
	if err != nil {
		log.Fatalf("tokenserver: %v", err)
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.certDER})
	if err := os.WriteFile(*certFile, pemCert, 0o644); err != nil {
		log.Fatalf("tokenserver: writing certificate: %v", err)
	}

	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := serveAll(srv, listen)
	log.Printf("tokenserver: listening on %s", listen.String())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-sig:
		_ = srv.Close()
	case err := <-errc:
		log.Fatalf("tokenserver: %v", err)
	}
}

// serveAll serves srv on every address of listen, skipping a [::1] one
// that cannot be bound, and returns where the servers' errors arrive.
func serveAll(srv *http.Server, listen listenFlags) <-chan error {
	errc := make(chan error, len(listen))
	bound := 0
	for _, addr := range listen {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			// The lab's realm is "localhost", which some clients dial as ::1
			// first; a machine without IPv6 loopback simply has no such listener.
			if strings.HasPrefix(addr, "[::1]") {
				log.Printf("tokenserver: skipping %s: %v", addr, err)
				continue
			}
			log.Fatalf("tokenserver: %v", err)
		}
		bound++
		go func() { errc <- srv.Serve(ln) }()
	}
	if bound == 0 {
		log.Fatalf("tokenserver: no listener could be bound")
	}
	return errc
}

// server issues tokens; every input that varies between runs (entropy,
// clock) is a field so the tests can pin them.
type server struct {
	key      *ecdsa.PrivateKey
	certDER  []byte
	issuer   string
	service  string
	user     string
	password string
	now      func() time.Time
	rand     io.Reader
}

func newServer(rnd io.Reader, now func() time.Time, issuer, service, user, password string) (*server, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, fmt.Errorf("generating signing key: %w", err)
	}
	serial, err := rand.Int(rnd, big.NewInt(1<<62))
	if err != nil {
		return nil, fmt.Errorf("generating serial: %w", err)
	}
	t := now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ocidns e2e token signer"},
		NotBefore:             t.Add(-time.Hour),
		NotAfter:              t.Add(certLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating certificate: %w", err)
	}
	return &server{key: key, certDER: der, issuer: issuer, service: service,
		user: user, password: password, now: now, rand: rnd}, nil
}

// access is one entry of the token's "access" claim.
type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

type claims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   string   `json:"aud"` // distribution 2.8 wants a string, not a list
	Expiration int64    `json:"exp"`
	NotBefore  int64    `json:"nbf"`
	IssuedAt   int64    `json:"iat"`
	ID         string   `json:"jti"`
	Access     []access `json:"access"`
}

type header struct {
	Type      string   `json:"typ"`
	Algorithm string   `json:"alg"`
	X5C       []string `json:"x5c"`
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		w.WriteHeader(http.StatusOK)
		return
	case "/token":
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if svc := q.Get("service"); svc != "" && svc != s.service {
		http.Error(w, fmt.Sprintf("unknown service %q (this server issues tokens for %q)", svc, s.service), http.StatusBadRequest)
		return
	}

	subject := ""
	if u, p, ok := r.BasicAuth(); ok {
		if s.user == "" || !equal(u, s.user) || !equal(p, s.password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="ocidns e2e token service"`)
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		subject = u
	}

	grants, err := grantsFor(q["scope"], subject != "")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tok, err := s.issue(subject, grants)
	if err != nil {
		http.Error(w, "issuing token: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token":        tok,
		"access_token": tok,
		"expires_in":   int(tokenTTL / time.Second),
		"issued_at":    s.now().UTC().Format(time.RFC3339),
	})
}

// grantsFor returns the repository access the scope parameters ask for
// that the client may have (pull alone unless authenticated).
func grantsFor(scopes []string, authenticated bool) ([]access, error) {
	if len(scopes) > maxScopes {
		return nil, fmt.Errorf("too many scopes: %d > %d", len(scopes), maxScopes)
	}
	var grants []access
	for _, raw := range scopes {
		// One scope parameter may hold several space-separated scopes.
		for _, sc := range strings.Fields(raw) {
			a, err := parseScope(sc)
			if err != nil {
				return nil, err
			}
			if a.Type != "repository" {
				continue
			}
			a.Actions = allowed(a.Actions, authenticated)
			if len(a.Actions) > 0 {
				grants = append(grants, a)
			}
		}
	}
	return grants, nil
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// parseScope splits "repository:name:pull,push". The name sits between the
// first and the last colon so that a future name with a colon still parses.
func parseScope(sc string) (access, error) {
	if len(sc) > maxScopeLen {
		return access{}, fmt.Errorf("scope longer than %d bytes", maxScopeLen)
	}
	first := strings.IndexByte(sc, ':')
	last := strings.LastIndexByte(sc, ':')
	if first <= 0 || last == first || last == len(sc)-1 {
		return access{}, fmt.Errorf("malformed scope %q: want type:name:actions", sc)
	}
	return access{Type: sc[:first], Name: sc[first+1 : last], Actions: strings.Split(sc[last+1:], ",")}, nil
}

// allowed keeps the actions the caller may have: everything for the pusher,
// "pull" alone for anonymous callers.
func allowed(actions []string, authenticated bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range actions {
		if seen[a] {
			continue
		}
		seen[a] = true
		switch {
		case a == "pull":
			out = append(out, a)
		case authenticated && (a == "push" || a == "delete" || a == "*"):
			out = append(out, a)
		}
	}
	return out
}

func (s *server) issue(subject string, grants []access) (string, error) {
	jti := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, jti); err != nil {
		return "", err
	}
	t := s.now().Unix()
	if grants == nil {
		grants = []access{} // "access": [] rather than null
	}
	hdr, err := json.Marshal(header{Type: "JWT", Algorithm: "ES256",
		X5C: []string{base64.StdEncoding.EncodeToString(s.certDER)}})
	if err != nil {
		return "", err
	}
	cl, err := json.Marshal(claims{Issuer: s.issuer, Subject: subject, Audience: s.service,
		Expiration: t + int64(tokenTTL/time.Second), NotBefore: t - 1, IssuedAt: t,
		ID: hex.EncodeToString(jti), Access: grants})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(hdr) + "." + enc.EncodeToString(cl)
	sum := sha256.Sum256([]byte(signingInput))
	r, sv, err := ecdsa.Sign(s.rand, s.key, sum[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 wants R and S as fixed 32-byte big-endian halves, not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signingInput + "." + enc.EncodeToString(sig), nil
}
