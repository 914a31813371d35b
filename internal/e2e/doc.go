// Package e2e holds the end-to-end tests of ocidns against the software
// operators really run: BIND as the authoritative server of signed zones
// (NSEC, and NSEC3 in acme.lab.test), unbound as a validating resolver,
// dnsmasq as a forwarder that does no DNSSEC, and Debian's docker-registry
// (plain, and behind token auth). It has no code of its own outside its tests.
//
// The lab is started by .ci/e2e-up.sh (which .ci/run calls) on loopback
// high ports and described to the tests by environment variables; without
// OCIDNS_E2E=1 every test skips, saying how to run it:
//
//	OCIDNS_E2E=1
//	OCIDNS_E2E_BIND=127.0.0.1:15353      named, authoritative for every lab zone
//	OCIDNS_E2E_UNBOUND=127.0.0.1:15354   unbound, validating with the lab anchor
//	OCIDNS_E2E_DNSMASQ=127.0.0.1:15355   dnsmasq, forwarding to named without DNSSEC
//	OCIDNS_E2E_ANCHOR=FILE               DS set of lab.test (zone-file syntax)
//	OCIDNS_E2E_PLAIN_PORT=15000          docker-registry without auth
//	OCIDNS_E2E_TOKEN_PORT=15001          docker-registry with token auth
//	OCIDNS_E2E_TOKEN_REALM=http://localhost:15002/token
//	OCIDNS_E2E_DIGEST_<IMAGE>=sha256:... the registry's own digests (internal/e2e/pushimages)
//	OCIDNS_E2E_COSIGN_PUB=FILE           the owner's cosign.pub, published in acme.lab.test
//	OCIDNS_E2E_COSIGN_ROGUE_PUB=FILE     a cosign.pub published nowhere
//
// The zones (testdata/e2e/*.zone) publish:
//
//	lab.test/<p>            TXT  -> registry.lab.test:PLAIN/lab/<p>       (signed, the anchor)
//	lab.test/acme/<p>       TXT  -> delegate acme.lab.test                 (signed child, DS in parent)
//	acme.lab.test/<p>       TXT  -> registry.lab.test:PLAIN/acme/<p>       (denials by NSEC3: salt 5ca1ab1e, 5 iterations)
//	lab.test/secure/<p>     TXT  -> registry.lab.test:TOKEN/secure/<p>     (token auth)
//	lab.test/bogus/<p>      TXT  -> delegate bogus.lab.test
//	bogus.lab.test/<p>      TXT  tampered after signing (bogus); SRV -> bogus.lab.test:PLAIN
//	unsigned.lab.test/<p>   TXT  -> registry.lab.test:PLAIN/evil/<p>       (no DS: insecure)
//	                        SRV  -> unsigned.lab.test:PLAIN (its own host)
//	srv.lab.test/<p>        SRV  -> registry.lab.test:PLAIN                (signed)
//
// acme.lab.test also publishes the owner's cosign key for prefix signed
// with sign=required (v=ocisig1, in the mappings' RRset). e2e-up.sh signs,
// with the real cosign CLI: acme/signed/app and acme/signed/multi (tag
// format), acme/signed/bundle (--new-bundle-format; docker-registry has
// no referrers API, so through the fallback tag), acme/signed/rogue (with
// another key), acme/signed/replayed (the owner's signature of app,
// attached to it); acme/signed/unsigned is not signed.
//
// The engine tests (engines_test.go) start `ocidns serve` and, as root,
// containerd (root and state in a temporary directory), and run skopeo and
// podman (vfs storage), each configured by `ocidns engine-config`, to pull
// the lab's delegated names through the registry front door. Every process
// a test starts is also written to the lab's pids file, so that
// .ci/e2e-down.sh stops it even when the test binary dies first.
//
// Run them by hand with:
//
//	.ci/e2e-up.sh /tmp/lab && set -a && . /tmp/lab/env && set +a
//	go test -race ./internal/e2e/
//	.ci/e2e-down.sh /tmp/lab
package e2e
