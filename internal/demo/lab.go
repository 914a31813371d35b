// Package demo runs the whole ocidns path on embedded servers: an
// authoritative DNS server for the zones in testdata (signed at start), an
// HTTPS server for a well-known document, and an OCI registry holding small
// images — all on loopback, with a CA and DNSSEC keys generated at start.
package demo

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

//go:embed testdata
var files embed.FS

// Lab is the set of running demo servers.
type Lab struct {
	// DNS is the authoritative server; its address goes to --dns.
	DNS *dnstest.Server
	// Dir holds ca.pem and anchors.zone, for --ca-file and --trust-anchor.
	Dir string
	// CAFile and AnchorFile are the paths inside Dir.
	CAFile, AnchorFile string
	// RegistryHost and WellKnownHost are host:port of the HTTPS servers;
	// MirrorHost is the registry under a second name, a mirror.
	RegistryHost, MirrorHost, WellKnownHost string
	// Digests are the digests the registry holds, by repository:tag
	// ("example/org/app:v1.0.0", and "…@linux/arm64" for index children).
	Digests map[string]digest.Digest
	// SigningKey is the key example.test publishes for its signed/ prefix
	// (sign=required), with which example/signed/app:1.0 is signed as
	// cosign signs.
	SigningKey *signtest.Key

	servers []*http.Server
	ownDir  bool
}

// Start brings the lab up. The caller must Close it.
func Start(ctx context.Context) (lab *Lab, err error) {
	now := time.Now()
	lab = &Lab{Digests: make(map[string]digest.Digest)}
	if lab.SigningKey, err = signtest.NewKey(signature.ECDSAP256, "demo-owner"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lab.Close()
		}
	}()
	ca, err := newAuthority(now)
	if err != nil {
		return nil, err
	}
	regPort, err := lab.startRegistry(ca, now)
	if err != nil {
		return nil, err
	}
	if err := lab.startWellKnown(ca, now, regPort); err != nil {
		return nil, err
	}
	if err := lab.startDNS(regPort); err != nil {
		return nil, fmt.Errorf("demo DNS server: %w", err)
	}
	if err := lab.writeFiles(ca); err != nil {
		return nil, err
	}
	if err := lab.push(ctx, ca, regPort); err != nil {
		return nil, fmt.Errorf("demo registry: %w", err)
	}
	return lab, nil
}

// startRegistry serves the registry, under its own name and its mirror's,
// over TLS with a certificate of ca, and returns its port.
func (lab *Lab) startRegistry(ca *authority, now time.Time) (int, error) {
	cert, err := ca.leaf(now, "registry.example.test", "mirror.example.test", "insecure.test", "vendor.test", "127.0.0.1")
	if err != nil {
		return 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lab.RegistryHost = "registry.example.test:" + strconv.Itoa(port)
	lab.MirrorHost = "mirror.example.test:" + strconv.Itoa(port)
	lab.serveTLS(ln, cert, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return port, nil
}

// startWellKnown serves the well-known document, naming the registry at
// regPort, over TLS with a certificate of ca.
func (lab *Lab) startWellKnown(ca *authority, now time.Time, regPort int) error {
	cert, err := ca.leaf(now, "wellknown.example.test", "127.0.0.1")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	lab.WellKnownHost = "wellknown.example.test:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	doc, err := lab.render("testdata/wellknown.json", regPort)
	if err != nil {
		ln.Close()
		return err
	}
	wk := http.NewServeMux()
	wk.HandleFunc("GET /.well-known/oci-discovery", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write([]byte(doc))
	})
	lab.serveTLS(ln, cert, wk)
	return nil
}

// startDNS serves the demo zones, naming the registry at regPort.
func (lab *Lab) startDNS(regPort int) error {
	var zones []dnstest.Zone
	for _, z := range []struct {
		origin string
		sign   bool
	}{
		{"example.test.", true},
		{"acme.test.", true},
		{"tools.acme.test.", true},
		{"insecure.test.", false},
		{"vendor.test.", false},
	} {
		text, err := lab.render("testdata/"+strings.TrimSuffix(z.origin, ".")+".zone", regPort)
		if err != nil {
			return err
		}
		zones = append(zones, dnstest.Zone{Origin: z.origin, Text: text, Sign: z.sign})
	}
	var err error
	lab.DNS, err = dnstest.Start(dnstest.Config{Zones: zones})
	return err
}

// writeFiles writes ca's certificate and the zones' trust anchors into a
// new Dir, for --ca-file and --trust-anchor.
func (lab *Lab) writeFiles(ca *authority) error {
	var err error
	if lab.Dir, err = os.MkdirTemp("", "ocidns-demo-"); err != nil {
		return err
	}
	lab.ownDir = true
	lab.CAFile = filepath.Join(lab.Dir, "ca.pem")
	lab.AnchorFile = filepath.Join(lab.Dir, "anchors.zone")
	var anchors strings.Builder
	anchors.WriteString("; DNSSEC trust anchors of the demo zones, generated at start\n")
	for _, rr := range lab.DNS.TrustAnchors() {
		anchors.WriteString(rr.String() + "\n")
	}
	if err := os.WriteFile(lab.CAFile, ca.pem, 0o644); err != nil {
		return err
	}
	return os.WriteFile(lab.AnchorFile, []byte(anchors.String()), 0o644)
}

// push fills the registry with the demo's images.
func (lab *Lab) push(ctx context.Context, ca *authority, port int) error {
	pool := tlsPool(ca)
	target := registrytest.Target{
		URL:       "https://127.0.0.1:" + strconv.Itoa(port),
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	idx, children, err := target.PushIndex(ctx, "example/org/app", "v1.0.0", []string{"linux/amd64", "linux/arm64"}, registrytest.WithSeed("demo-app"))
	if err != nil {
		return err
	}
	lab.Digests["example/org/app:v1.0.0"] = idx
	for p, d := range children {
		lab.Digests["example/org/app:v1.0.0@"+p] = d
	}
	for _, img := range []struct{ repo, tag string }{
		{"acme-tools/tool", "1.0"},
		{"web/site", "1.0"},
		{"db/postgres", "16"},
		{"app", "1.0"},
		{"example/signed/app", "1.0"},
		{"example/signed/unsigned", "1.0"},
		{"scanner", "1.0"},
	} {
		d, err := target.PushImage(ctx, img.repo, img.tag, registrytest.WithSeed("demo-"+img.repo))
		if err != nil {
			return err
		}
		lab.Digests[img.repo+":"+img.tag] = d
	}
	// The owner signs one of its images under signed/, in cosign's tag
	// format, with the key its zone publishes, naming it by its federated
	// name (cosign sign --sign-container-identity example.test/signed/app).
	s := signtest.Signer{Target: target}
	_, err = s.SignTag(ctx, "example/signed/app", lab.Digests["example/signed/app:1.0"], lab.SigningKey,
		signtest.Options{Identity: "example.test/signed/app"})
	return err
}

// render reads an embedded template and fills in the registry's address.
func (lab *Lab) render(name string, regPort int) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", err
	}
	return strings.NewReplacer("{{REGISTRY}}", "registry.example.test:"+strconv.Itoa(regPort), "{{REGISTRY_PORT}}", strconv.Itoa(regPort),
		"{{SIGNING_KEY}}", lab.SigningKey.PublicBase64()).Replace(string(b)), nil
}

func (lab *Lab) serveTLS(ln net.Listener, cert tls.Certificate, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	lab.servers = append(lab.servers, srv)
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("demo server %s: %v", ln.Addr(), err)
		}
	}()
}

// Close stops every server and removes the lab's files. Close of a nil
// Lab does nothing.
func (lab *Lab) Close() {
	if lab == nil {
		return
	}
	for _, s := range lab.servers {
		s.Close()
	}
	if lab.DNS != nil {
		lab.DNS.Close()
	}
	if lab.ownDir && lab.Dir != "" {
		os.RemoveAll(lab.Dir)
	}
}
