package resolver

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
)

// Loading the system roots is the largest cost of a one-shot `ocidns
// resolve`: on Linux crypto/x509 reads and parses every certificate file
// under /etc/ssl/certs, which takes longer than the whole resolution of a
// name on loopback. So the system roots are loaded once per process, and
// only when a connection needs them:
//
//   - no --ca-file: tls.Config.RootCAs stays nil, and crypto/x509 loads
//     the system roots at the first handshake, once per process;
//   - --ca-file: a server's chain is verified against the given
//     certificates first, and against the system roots only when it does
//     not chain to them, so a private registry named by --ca-file never
//     needs the system roots. The result is that of one pool holding both:
//     a chain ends at one root, which is in one pool or the other;
//   - WithRootCAs: the caller's pool, plus the --ca-file certificates.

// systemRootsLoads counts the loads of the system roots by this package,
// for the test that they happen once, and only when needed.
var systemRootsLoads atomic.Int32

// systemRoots returns the system roots, loaded at the first call.
var systemRoots = sync.OnceValue(func() *x509.CertPool {
	systemRootsLoads.Add(1)
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		return x509.NewCertPool()
	}
	return pool
})

// tlsTrust is what a Resolver's TLS connections (well-known documents,
// registries, token realms) are verified against.
type tlsTrust struct {
	base       *x509.CertPool // WithRootCAs; nil: the system roots
	extra      *x509.CertPool // the --ca-file certificates; nil: none
	extraCerts []*x509.Certificate
}

// newTLSTrust reads the PEM files; each must hold a certificate.
func newTLSTrust(base *x509.CertPool, files []string) (*tlsTrust, error) {
	t := &tlsTrust{base: base}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		certs := parsePEMCertificates(data)
		if len(certs) == 0 {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate found", f)
		}
		t.extraCerts = append(t.extraCerts, certs...)
	}
	if len(t.extraCerts) > 0 {
		t.extra = x509.NewCertPool()
		for _, c := range t.extraCerts {
			t.extra.AddCert(c)
		}
	}
	return t, nil
}

// parsePEMCertificates returns the certificates of data's CERTIFICATE
// blocks, skipping those that do not parse, as
// x509.CertPool.AppendCertsFromPEM does.
func parsePEMCertificates(data []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for len(data) > 0 {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			certs = append(certs, c)
		}
	}
	return certs
}

// split reports whether connections to IP-address hosts need a transport
// of their own (ipConfig): with extra certificates beside the system
// roots, verification happens in VerifyConnection, which is not told the
// address of a host named by one (crypto/tls sends no server name for an
// address).
func (t *tlsTrust) split() bool { return t.base == nil && t.extra != nil }

// config returns the TLS configuration of the Resolver's transport.
func (t *tlsTrust) config() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case t.extra == nil:
		c.RootCAs = t.base // nil: the system roots, loaded by crypto/x509 when first needed
	case t.base != nil:
		c.RootCAs = t.base.Clone() // the caller's pool stays as it was
		for _, cert := range t.extraCerts {
			c.RootCAs.AddCert(cert)
		}
	default:
		// Verified in full by verifyConnection, never skipped.
		c.InsecureSkipVerify = true
		c.VerifyConnection = t.verifyConnection
	}
	return c
}

// ipConfig returns the TLS configuration for hosts named by an IP
// address when split: the system roots and the extra certificates in one
// pool, verified by crypto/tls. It loads the system roots.
func (t *tlsTrust) ipConfig() *tls.Config {
	pool := systemRoots().Clone()
	for _, cert := range t.extraCerts {
		pool.AddCert(cert)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
}

// verifyConnection verifies the server's chain and name as crypto/tls
// would against one pool of the extra certificates and the system roots:
// against the extra certificates first, the system roots only when the
// chain does not end at one of them.
func (t *tlsTrust) verifyConnection(cs tls.ConnectionState) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	if cs.ServerName == "" {
		// Hosts named by an address go through ipConfig's transport.
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs,
			Err: errors.New("no server name to verify the certificate for")}
	}
	opts := x509.VerifyOptions{Roots: t.extra, DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := certs[0].Verify(opts)
	if err == nil {
		return nil
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		// A name that does not match or an expired certificate: no root
		// changes that, and this error says more than "unknown authority".
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	opts.Roots = systemRoots()
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// splitIP is the RoundTripper of a Resolver whose trust is split (see
// tlsTrust.split): requests over HTTPS to an IP-address host go through a
// transport of its own, built when first needed.
type splitIP struct {
	names *http.Transport
	ips   *lazyTransport
}

// RoundTrip sends req through the transport for its host.
func (s splitIP) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "https" && isIPHost(req.URL.Hostname()) {
		return s.ips.get().RoundTrip(req)
	}
	return s.names.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both transports.
func (s splitIP) CloseIdleConnections() {
	s.names.CloseIdleConnections()
	s.ips.closeIdle()
}

// isIPHost reports whether host (without port or brackets) is an address.
func isIPHost(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// lazyTransport is a transport built at its first use.
type lazyTransport struct {
	once sync.Once
	make func() *http.Transport
	t    atomic.Pointer[http.Transport]
}

func (l *lazyTransport) get() *http.Transport {
	l.once.Do(func() { l.t.Store(l.make()) })
	return l.t.Load()
}

// closeIdle closes the idle connections of the transport, if built.
func (l *lazyTransport) closeIdle() {
	if t := l.t.Load(); t != nil {
		t.CloseIdleConnections()
	}
}
