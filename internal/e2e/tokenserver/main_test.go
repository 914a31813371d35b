package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// The lab's docker-registry is the real judge of these tokens; these tests
// pin the format it was verified with (RFC 7515 ES256, x5c, string aud) so a
// regression shows here, not as a puzzling 401 in the e2e run.

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newTestServer(t *testing.T) *server {
	t.Helper()
	// A seeded stream keeps key and jti generation reproducible.
	rnd := rand.NewChaCha8([32]byte{1, 2, 3})
	s, err := newServer(rnd, func() time.Time { return testNow }, "iss-x", "svc-y", "pusher", "secret")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func getToken(t *testing.T, s *server, query string, user, pass string) (int, *claims) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/token?"+query, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return rec.Code, nil
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("token response %q: %v", rec.Body.String(), err)
	}
	if body.Token == "" || body.Token != body.AccessToken || body.ExpiresIn <= 0 {
		t.Fatalf("token response %q: want token == access_token and expires_in > 0", rec.Body.String())
	}
	c, err := verify(body.Token, s.certDER, "iss-x", "svc-y", testNow)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	return rec.Code, c
}

func TestAnonymousCallerGetsPullOnly(t *testing.T) {
	s := newTestServer(t)
	code, c := getToken(t, s, "service=svc-y&scope=repository:secure/app:pull,push", "", "")
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	want := []access{{Type: "repository", Name: "secure/app", Actions: []string{"pull"}}}
	if fmt.Sprint(c.Access) != fmt.Sprint(want) || c.Subject != "" {
		t.Fatalf("anonymous grant = %+v (sub %q), want %+v", c.Access, c.Subject, want)
	}
}

func TestPusherGetsRequestedActions(t *testing.T) {
	s := newTestServer(t)
	code, c := getToken(t, s, "service=svc-y&scope=repository:secure/app:push,pull&scope=repository:other:pull", "pusher", "secret")
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	if len(c.Access) != 2 || !slices.Equal(c.Access[0].Actions, []string{"push", "pull"}) || c.Access[1].Name != "other" {
		t.Fatalf("pusher grant = %+v", c.Access)
	}
	if c.Subject != "pusher" || c.Expiration-c.IssuedAt != int64(tokenTTL/time.Second) {
		t.Fatalf("claims = %+v", c)
	}
}

func TestWrongCredentialsAreRefusedNotDowngraded(t *testing.T) {
	s := newTestServer(t)
	if code, _ := getToken(t, s, "service=svc-y&scope=repository:a:pull", "pusher", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", code)
	}
}

func TestMalformedRequestsAreRejected(t *testing.T) {
	s := newTestServer(t)
	for _, q := range []string{
		"service=other&scope=repository:a:pull",
		"scope=repository:a",
		"scope=:a:pull",
		"scope=repository:a:",
		"scope=" + strings.Repeat("x", maxScopeLen+1),
		strings.Repeat("scope=repository:a:pull&", maxScopes+1),
	} {
		t.Run(q, func(t *testing.T) {
			if code, _ := getToken(t, s, q, "", ""); code != http.StatusBadRequest {
				t.Errorf("GET /token?%.60s: status %d, want 400", q, code)
			}
		})
	}
}

func TestTokenWithoutScopeHasEmptyAccess(t *testing.T) {
	s := newTestServer(t)
	_, c := getToken(t, s, "service=svc-y", "", "")
	if c.Access == nil || len(c.Access) != 0 {
		t.Fatalf("access = %#v, want empty list", c.Access)
	}
}

func TestTamperedTokenFailsVerification(t *testing.T) {
	s := newTestServer(t)
	tok, err := s.issue("", []access{{Type: "repository", Name: "a", Actions: []string{"pull"}}})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	cl, _ := base64.RawURLEncoding.DecodeString(parts[1])
	cl = bytes.Replace(cl, []byte(`"pull"`), []byte(`"push"`), 1)
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(cl) + "." + parts[2]
	if _, err := verify(forged, s.certDER, "iss-x", "svc-y", testNow); !errors.Is(err, errBadToken) {
		t.Fatalf("forged token: err = %v, want errBadToken", err)
	}
}

// errBadToken is what verify wraps for every rejection.
var errBadToken = errors.New("bad token")

// verify checks a token the way distribution 2.8 does: x5c chain to the
// configured certificate, ES256 signature, issuer, audience and validity.
func verify(tok string, root []byte, issuer, service string, now time.Time) (*claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %d parts", errBadToken, len(parts))
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", errBadToken, err)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil || h.Algorithm != "ES256" || len(h.X5C) == 0 {
		return nil, fmt.Errorf("%w: header %s", errBadToken, hb)
	}
	leafDER, err := base64.StdEncoding.DecodeString(h.X5C[0])
	if err != nil || !bytes.Equal(leafDER, root) {
		return nil, fmt.Errorf("%w: x5c is not the configured certificate", errBadToken)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadToken, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("%w: chain: %v", errBadToken, err)
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, fmt.Errorf("%w: signature encoding", errBadToken)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, fmt.Errorf("%w: signature does not verify", errBadToken)
	}
	cb, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %v", errBadToken, err)
	}
	var c claims
	if err := json.Unmarshal(cb, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", errBadToken, err)
	}
	if c.Issuer != issuer || c.Audience != service {
		return nil, fmt.Errorf("%w: iss %q aud %q", errBadToken, c.Issuer, c.Audience)
	}
	if n := now.Unix(); n < c.NotBefore || n > c.Expiration {
		return nil, fmt.Errorf("%w: not valid at %d (nbf %d, exp %d)", errBadToken, n, c.NotBefore, c.Expiration)
	}
	return &c, nil
}
