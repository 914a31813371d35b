package testkit

import (
	"crypto/x509"
	"testing"
)

// TestSelfSignedCertIsTrustedForItsNamesOnly: the pool verifies the
// certificate for each name it was made for (a host, a wildcard's
// children, an IP address), and for no other name.
func TestSelfSignedCertIsTrustedForItsNamesOnly(t *testing.T) {
	cert, pool := SelfSignedCert(t, "registry.lab.test", "*.names.test", "127.0.0.1")
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"registry.lab.test", true},
		{"a.names.test", true},
		{"127.0.0.1", true},
		{"names.test", false},
		{"other.lab.test", false},
		{"127.0.0.2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: tc.name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if (err == nil) != tc.ok {
				t.Errorf("verify for %s: %v, want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: "registry.lab.test"}); err == nil {
		t.Error("verified without the pool: the certificate must be trusted only through it")
	}
}
