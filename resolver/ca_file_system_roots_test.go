package resolver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rootsChildEnv, set in the environment, holds the servers and files of
// TestCAFileAddsToTheSystemRoots for the child process that runs it.
const rootsChildEnv = "OCIDNS_TEST_ROOTS_CHILD"

// rootsSetup is what the parent hands the child.
type rootsSetup struct {
	ExtraCA, OtherCA string // PEM files
	// Servers by the CA that signed them: "system" (the child's
	// SSL_CERT_FILE), "extra", "other"; "wrongname" is signed by the
	// extra CA for another name.
	Ports map[string]string
}

// --ca-file adds to the system roots (README: "PEM file of extra CA
// certificates"): a server that chains to either is trusted, by name and
// by address, and one that chains to neither, or names another host, is
// not. The system roots are loaded once per process, and not at all while
// the --ca-file certificates suffice. The system roots are the process's:
// the test runs in a child process whose SSL_CERT_FILE is a CA of its own.
func TestCAFileAddsToTheSystemRoots(t *testing.T) {
	if env := os.Getenv(rootsChildEnv); env != "" {
		var s rootsSetup
		if err := json.Unmarshal([]byte(env), &s); err != nil {
			t.Fatal(err)
		}
		checkRootsInChild(t, s)
		return
	}
	dir := t.TempDir()
	cas := map[string]*testCA{}
	for _, name := range []string{"system", "extra", "other"} {
		cas[name] = newTestCA(t, name)
		cas[name].write(t, filepath.Join(dir, name+".pem"))
	}
	s := rootsSetup{ExtraCA: filepath.Join(dir, "extra.pem"), OtherCA: filepath.Join(dir, "other.pem"), Ports: map[string]string{}}
	for name, ca := range cas {
		s.Ports[name] = startTLSHello(t, ca.leaf(t, "localhost", "127.0.0.1"))
	}
	s.Ports["wrongname"] = startTLSHello(t, cas["extra"].leaf(t, "elsewhere.test"))
	setup, _ := json.Marshal(s)

	cmd := exec.Command(os.Args[0], "-test.run", "^TestCAFileAddsToTheSystemRoots$", "-test.v")
	certDir := filepath.Join(dir, "certs") // empty: no system roots but SSL_CERT_FILE's
	if err := os.Mkdir(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), rootsChildEnv+"="+string(setup),
		"SSL_CERT_FILE="+filepath.Join(dir, "system.pem"), "SSL_CERT_DIR="+certDir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestCAFileAddsToTheSystemRoots") {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

func checkRootsInChild(t *testing.T, s rootsSetup) {
	get := func(r *Resolver, host, port string) error {
		t.Helper()
		resp, err := r.HTTPClient().Get("https://" + net.JoinHostPort(host, port) + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if b, _ := io.ReadAll(resp.Body); string(b) != "hello" {
			t.Fatalf("%s:%s answered %q", host, port, b)
		}
		return nil
	}
	mustGet := func(r *Resolver, host, server string) {
		t.Helper()
		if err := get(r, host, s.Ports[server]); err != nil {
			t.Fatalf("%s server at %s: %v", server, host, err)
		}
	}
	mustRefuse := func(r *Resolver, host, server string, want any) {
		t.Helper()
		err := get(r, host, s.Ports[server])
		var cve *tls.CertificateVerificationError
		if !errors.As(err, &cve) || !errors.As(err, want) {
			t.Fatalf("%s server at %s: got %v, want a certificate verification error (%T)", server, host, err, want)
		}
	}
	loads := func(want int32) {
		t.Helper()
		if got := systemRootsLoads.Load(); got != want {
			t.Fatalf("system roots loaded %d times, want %d", got, want)
		}
	}

	r, err := New(WithCAFile(s.ExtraCA))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mustGet(r, "localhost", "extra")
	loads(0) // the --ca-file certificate sufficed
	mustRefuse(r, "localhost", "wrongname", &x509.HostnameError{})
	loads(0) // no root makes another name right
	mustGet(r, "localhost", "system")
	loads(1)
	mustRefuse(r, "localhost", "other", &x509.UnknownAuthorityError{})
	for _, server := range []string{"extra", "system"} {
		mustGet(r, "127.0.0.1", server)
	}
	mustRefuse(r, "127.0.0.1", "other", &x509.UnknownAuthorityError{})

	// Reload reads the files again: another --ca-file trusts another CA.
	if err := r.Reload(WithCAFile(s.OtherCA)); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		mustGet(r, host, "other")
		mustGet(r, host, "system")
		mustRefuse(r, host, "extra", &x509.UnknownAuthorityError{})
	}
	loads(1) // once per process

	// Without --ca-file, the system roots alone.
	plain, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	mustGet(plain, "localhost", "system")
	mustRefuse(plain, "localhost", "extra", &x509.UnknownAuthorityError{})
}

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) write(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// leaf issues a server certificate for names (DNS names or addresses).
func (ca *testCA) leaf(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// startTLSHello serves "hello" over TLS with cert on 127.0.0.1 until the
// test ends, and returns its port.
func startTLSHello(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return port
}
