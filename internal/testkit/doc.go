// Package testkit holds the small helpers that the tests of several
// packages share, so that each exists once: a self-signed TLS certificate
// for test servers (SelfSignedCert), an HTTPS test server presenting one
// (StartTLSServer), and a buffer that concurrent writers such as a logger
// may share with the test reading it (SyncBuffer). It is test support:
// only tests import it (docs/architecture.md).
package testkit
