package dnstest

import "testing"

// StartT starts a server for a test or benchmark, failing it when the
// server cannot start, and closes the server when the test ends.
func StartT(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
