package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/demo"
)

// BenchmarkResolveProcessBesideCrane runs `ocidns resolve` of a name
// published in the demo lab's signed zones (DNSSEC on: TXT, its chain of
// trust, the registry's address, then the registry) and `crane digest` of
// the same tag at the same registry by address (no discovery), as
// processes, in turn, and reports the wall of each and their ratio
// (ocidns/crane). Each trusts the lab's CA its own way: ocidns with
// --ca-file, crane with SSL_CERT_FILE and an empty SSL_CERT_DIR, so that
// neither loads the system's roots. Both run from copies made in the same
// way just before timing: how an executable's file came to be in the page
// cache (written by the linker, copied, or there for a while) moves its
// start-up by up to a tenth on the 2-core machine, and a just-linked ocidns
// beside a crane installed earlier measured that, not the programs. Needs
// go and crane on PATH:
//
//	go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
//	go test -run '^$' -bench ResolveProcessBesideCrane -benchtime 100x ./cmd/ocidns/
func BenchmarkResolveProcessBesideCrane(b *testing.B) {
	crane, err := exec.LookPath("crane")
	if err != nil {
		b.Skip("crane is not on PATH: go install github.com/google/go-containerregistry/cmd/crane@v0.22.1")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("go is not on PATH, to build ocidns")
	}
	dir := b.TempDir()
	built := filepath.Join(dir, "ocidns-built")
	if out, err := exec.Command(goTool, "build", "-o", built, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	bin := copyExecutable(b, built, filepath.Join(dir, "ocidns"))
	crane = copyExecutable(b, crane, filepath.Join(dir, "crane"))
	lab, err := demo.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer lab.Close()
	_, port, _ := net.SplitHostPort(lab.RegistryHost)
	want := lab.Digests["example/org/app:v1.0.0"].String() + "\n"
	certDir := filepath.Join(dir, "certs")
	if err := os.Mkdir(certDir, 0o755); err != nil {
		b.Fatal(err)
	}

	ocidns := func() *exec.Cmd {
		return exec.Command(bin, "resolve", "--dns", lab.DNS.Addr(), "--trust-anchor", lab.AnchorFile, "--ca-file", lab.CAFile,
			"example.test/org/app:v1.0.0")
	}
	craneDigest := func() *exec.Cmd {
		c := exec.Command(crane, "digest", "127.0.0.1:"+port+"/example/org/app:v1.0.0")
		c.Env = append(os.Environ(), "SSL_CERT_FILE="+lab.CAFile, "SSL_CERT_DIR="+certDir)
		return c
	}
	run := func(c *exec.Cmd) time.Duration {
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		start := time.Now()
		err := c.Run()
		d := time.Since(start)
		if err != nil || strings.TrimSpace(out.String()) != strings.TrimSpace(want) {
			b.Fatalf("%s: %v\n%s", strings.Join(c.Args, " "), err, out.String())
		}
		return d
	}
	run(ocidns()) // both once before timing: the page cache holds the binaries
	run(craneDigest())

	var tOcidns, tCrane time.Duration
	for b.Loop() {
		tOcidns += run(ocidns())
		tCrane += run(craneDigest())
	}
	n := float64(b.N)
	b.ReportMetric(float64(tOcidns.Microseconds())/n/1000, "ocidns-ms")
	b.ReportMetric(float64(tCrane.Microseconds())/n/1000, "crane-ms")
	b.ReportMetric(float64(tOcidns)/float64(tCrane), "ocidns/crane")
}

// copyExecutable writes a copy of the executable src at dst and returns dst.
func copyExecutable(b *testing.B, src, dst string) string {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return dst
}
