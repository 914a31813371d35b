package testkit

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"testing"
)

// TestTLSServerIsTrustedThroughItsPool: a client trusting the pool reaches
// the server at a name of its certificate; one without the pool, or at a
// name the certificate lacks, is refused.
func TestTLSServerIsTrustedThroughItsPool(t *testing.T) {
	srv, pool := StartTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}), "127.0.0.1")
	get := func(cfg *tls.Config) (string, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(srv.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := get(&tls.Config{RootCAs: pool}); err != nil || body != "hello" {
		t.Errorf("with the pool: %q, %v", body, err)
	}
	if !srv.Certificate().Equal(srv.TLS.Certificates[0].Leaf) {
		t.Error("srv.Certificate() is not the certificate served")
	}
	for name, cfg := range map[string]*tls.Config{
		"without the pool": {},
		"another name":     {RootCAs: pool, ServerName: "other.test"},
	} {
		var cve *tls.CertificateVerificationError
		if _, err := get(cfg); !errors.As(err, &cve) {
			t.Errorf("%s: %v, want a certificate verification error", name, err)
		}
	}
}
