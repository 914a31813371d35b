package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// writeKey writes k's public key as cosign.pub holds it.
func writeKey(t *testing.T, k *signtest.Key, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, k.PublicPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// signerRecords reads the v=ocisig1 records of zone output back as clients
// do, skipping the mappings.
func signerRecords(t *testing.T, zone string) []discovery.PublishedKey {
	t.Helper()
	var out []discovery.PublishedKey
	for _, rr := range zoneRecords(t, zone) {
		k, err := discovery.ParseSignerTXT(discovery.TXTString(rr))
		if errors.Is(err, discovery.ErrNotOCISig) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", rr, err)
		}
		if rr.Hdr.Name != "_oci-discovery.example.com." {
			t.Errorf("owner %s", rr.Hdr.Name)
		}
		out = append(out, k)
	}
	return out
}

// protocol.md §15.1: `records --signing-key cosign.pub --sign required
// --prefix org` writes the key as a v=ocisig1 record and as a "signers"
// entry of the well-known document, each read back by the clients' parsers
// as the key of the file.
func TestRecordsSigningKey(t *testing.T) {
	for _, alg := range []signature.Algorithm{signature.ECDSAP256, signature.Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			k := signtest.MustKey(t, alg, "owner")
			pub := writeKey(t, k, "cosign.pub")
			code, out, errOut := runCLI(t, "", "records", "--host", "example.com", "--signing-key", pub, "--sign", "required", "--prefix", "org")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			keys := signerRecords(t, out)
			if len(keys) != 1 || keys[0].Prefix != "org" || keys[0].Sign != discovery.SignRequired || keys[0].Alg != string(alg) || !bytes.Equal(keys[0].DER, k.PublicDER()) {
				t.Fatalf("records %q read back as %+v", out, keys)
			}

			code, out, errOut = runCLI(t, "", "records", "--format", "json", "--signing-key", pub, "--sign", "required", "--prefix", "org")
			if code != 0 {
				t.Fatalf("json: exit %d: %s", code, errOut)
			}
			ms, wk, err := discovery.ParseWellKnownWithSigners([]byte(out), discovery.ParseOptions{})
			if err != nil || len(ms) != 0 || len(wk) != 1 || wk[0].Prefix != "org" || wk[0].Sign != discovery.SignRequired || !bytes.Equal(wk[0].DER, k.PublicDER()) {
				t.Fatalf("document %s read back as %+v, %+v, %v", out, ms, wk, err)
			}
		})
	}
}

// Beside mappings, a key takes the --prefix and --sign in effect where it
// appears, and the keys join the mappings in one RRset and one document.
func TestRecordsSigningKeysBesideMappings(t *testing.T) {
	a := writeKey(t, signtest.MustKey(t, signature.ECDSAP256, "a"), "a.pub")
	b := writeKey(t, signtest.MustKey(t, signature.Ed25519, "b"), "b.pub")
	args := []string{"records", "--host", "example.com",
		"--prefix", "tools", "--registry", "https://ghcr.io/example-tools", "--sign", "required", "--signing-key", a,
		"--prefix", "", "--signing-key", b, "--registry", "https://registry.example.com"}
	code, out, errOut := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	keys := signerRecords(t, out)
	if len(keys) != 2 || keys[0].Prefix != "tools" || keys[1].Prefix != "" || keys[0].Sign != discovery.SignRequired || keys[1].Sign != discovery.SignRequired {
		t.Fatalf("keys %+v", keys)
	}
	if n := strings.Count(out, "v=oci1;"); n != 2 {
		t.Errorf("%d mappings in\n%s", n, out)
	}
	code, out, _ = runCLI(t, "", append(args, "--format", "json")...)
	ms, wk, err := discovery.ParseWellKnownWithSigners([]byte(out), discovery.ParseOptions{})
	if code != 0 || err != nil || len(ms) != 2 || len(wk) != 2 {
		t.Fatalf("exit %d: %d mappings, %d keys, %v\n%s", code, len(ms), len(wk), err, out)
	}
}

// What cannot be published is refused, naming the key flag and what is
// wrong; a misuse of the flags is a usage error.
func TestRecordsSigningKeyErrors(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "cosign.key")
	if err := os.WriteFile(priv, []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub := writeKey(t, signtest.MustKey(t, signature.ECDSAP256, "k"), "cosign.pub")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"private key", []string{"--signing-key", priv}, exitFailed, "is a private key: publish the public key"},
		{"missing file", []string{"--signing-key", filepath.Join(dir, "nope.pub")}, exitFailed, "no such file"},
		{"bad policy", []string{"--signing-key", pub, "--sign", "mandatory"}, exitUsage, "want required or optional"},
		{"two prefixes", []string{"--signing-key", pub, "--prefix", "a", "--prefix", "b"}, exitUsage, "--prefix given twice"},
		{"bad prefix", []string{"--signing-key", pub, "--prefix", "Org"}, exitFailed, "prefix"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", append([]string{"records", "--host", "example.com"}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}
