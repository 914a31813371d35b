package testkit

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
)

// StartTLSServer serves h over HTTPS on 127.0.0.1 with a SelfSignedCert
// for names, until the test ends, and returns the server and a pool that
// trusts it (its certificate is also srv.Certificate()). The server's
// error log is discarded: handshakes refused by clients that do not trust
// it, and clients that give up early, are what tests make happen.
func StartTLSServer(t testing.TB, h http.Handler, names ...string) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	cert, pool := SelfSignedCert(t, names...)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, pool
}
