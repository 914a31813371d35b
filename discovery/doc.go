// Package discovery implements discovery protocol v1 (docs/protocol.md):
// the v=oci1 TXT grammar, SRV records of a host's own registry, the HTTPS
// well-known document, matching a path against mappings, and the
// delegation algorithm with its authentication policy (Discoverer).
//
// It keeps the protocol only. DNS questions go through package dnsclient,
// DNSSEC validation through package dnssec, trace events to package trace,
// and repository paths are checked with package reference's grammar; none
// of those imports discovery:
//
//	trace ← dnsclient ← dnssec ← discovery ← resolver ← cmd/ocidns
//
// docs/architecture.md draws the whole graph; internal/importgraph's test
// fails on an import that runs against it.
package discovery
