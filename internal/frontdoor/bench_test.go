package frontdoor

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/resolver"
)

// Benchmarks of the front door beside what an engine would otherwise talk
// to, in the same run:
//
//	go test -run '^$' -bench 'BlobThroughput' -benchtime 10x ./internal/frontdoor/
//	go test -run '^$' -bench 'BlobStreamPeakRSS' -benchtime 1x ./internal/frontdoor/
//	go test -run '^$' -bench 'ManifestByTag' -benchmem ./internal/frontdoor/
//
// BlobThroughput pulls one 128 MiB blob with the same client (GET, sha256
// of every byte, compared with the digest) from the TLS registry directly,
// through the front door (which checks the digest too), through a bare
// httputil.ReverseProxy (no checking: the floor of what any proxy costs),
// and through Debian's docker-registry as a pull-through cache of the same
// registry (when it is installed; its copy on disk warmed first), in turn,
// round after round, and reports each one's MB/s and its ratio to direct.

const benchBlobSize = 128 << 20

// throughputFixture is the registry holding the benchmark blob and the
// ways to reach it; built once for every -count round.
type throughputFixture struct {
	reg    *registrytest.Registry
	dgst   digest.Digest
	lab    *lab
	proxy  string // base URL of the reverse proxy
	cache  string // base URL of docker-registry as a pull-through cache, "" when not installed
	client *http.Client
	err    error
}

var (
	tpOnce sync.Once
	tp     throughputFixture

	exitMu    sync.Mutex
	exitFuncs []func()
)

// atExit runs f when the package's tests and benchmarks are done: the
// benchmark fixture outlives each benchmark function.
func atExit(f func()) {
	exitMu.Lock()
	exitFuncs = append(exitFuncs, f)
	exitMu.Unlock()
}

func TestMain(m *testing.M) {
	code := m.Run()
	exitMu.Lock()
	for _, f := range exitFuncs {
		f()
	}
	exitMu.Unlock()
	os.Exit(code)
}

// benchTB adapts a benchmark for helpers that register cleanups: the
// fixture outlives each benchmark function, so its cleanups run at the
// process's end.
type benchTB struct{ testing.TB }

func (benchTB) Cleanup(f func()) { atExit(f) }

func (f *throughputFixture) setup(b *testing.B) {
	tb := benchTB{b}
	f.reg = registrytest.StartT(tb, registrytest.Options{TLS: true})
	blob := make([]byte, benchBlobSize)
	rand.Read(blob)
	if f.dgst, f.err = f.reg.PushBlob("bench/blob", blob); f.err != nil {
		return
	}
	f.lab = startLab(tb, labConfig{extra: []string{f.reg.Host()}, opts: rootsOf(f.reg),
		zones: []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true)}})

	u, _ := url.Parse(f.reg.URL())
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = f.reg.Transport()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.err = err
		return
	}
	go http.Serve(ln, rp)
	f.proxy = "http://" + ln.Addr().String()
	f.cache, f.err = startPullThroughCache(f.reg)
	f.client = &http.Client{Transport: f.reg.Transport()}
}

// startPullThroughCache runs Debian's docker-registry as a pull-through
// cache of reg, when installed, and returns its base URL.
func startPullThroughCache(reg *registrytest.Registry) (string, error) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return "", nil
	}
	dir, err := os.MkdirTemp("", "ocidns-bench-cache-")
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	cert := filepath.Join(dir, "ca.pem")
	cfg := fmt.Sprintf("version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: %s/data } }\n"+
		"http: { addr: %s, secret: bench }\nproxy: { remoteurl: %s }\n", dir, addr, reg.URL())
	if err := os.WriteFile(cert, reg.CertificatePEM(), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+cert)
	// Should this process die without running TestMain's cleanups, the
	// kernel stops the cache too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	atExit(func() {
		cmd.Process.Kill()
		<-exited
		os.RemoveAll(dir)
	})
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return "http://" + addr, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill()
	return "", fmt.Errorf("docker-registry did not start on %s", addr)
}

// pullBlob GETs u with c, hashing every byte, and checks the digest.
func pullBlob(b *testing.B, c *http.Client, u string, want digest.Digest, buf []byte) {
	resp, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, resp.Body, buf)
	if err != nil || n != benchBlobSize || digest.NewDigest(digest.SHA256, h) != want {
		b.Fatalf("GET %s: %d bytes, %v, digest %x", u, n, err, h.Sum(nil))
	}
}

func BenchmarkBlobThroughput(b *testing.B) {
	tpOnce.Do(func() { tp.setup(b) })
	if tp.err != nil {
		b.Fatal(tp.err)
	}
	buf := make([]byte, 64<<10)
	path := "/v2/bench/blob/blobs/" + tp.dgst.String()
	targets := []struct{ name, url string }{
		{"direct", tp.reg.URL() + path},
		{"frontdoor", tp.lab.srv.URL + "/v2/example.test/bench/blob/blobs/" + tp.dgst.String()},
		{"reverseproxy", tp.proxy + path},
	}
	if tp.cache != "" {
		targets = append(targets, struct{ name, url string }{"dockerregistrycache", tp.cache + path})
	} else {
		b.Log("docker-registry is not installed: no pull-through cache in this run")
	}
	for _, tg := range targets {
		pullBlob(b, tp.client, tg.url, tp.dgst, buf) // warm: connections, and the cache's copy
	}
	elapsed := make([]time.Duration, len(targets))
	b.SetBytes(int64(benchBlobSize * len(targets)))
	b.ResetTimer()
	for i := range b.N {
		// Each round pulls from every target, starting with another one
		// each time: the machine's drift is shared alike.
		for k := range targets {
			j := (i + k) % len(targets)
			start := time.Now()
			pullBlob(b, tp.client, targets[j].url, tp.dgst, buf)
			elapsed[j] += time.Since(start)
		}
	}
	b.StopTimer()
	direct := float64(benchBlobSize*b.N) / elapsed[0].Seconds() / 1e6
	for j, tg := range targets {
		mbps := float64(benchBlobSize*b.N) / elapsed[j].Seconds() / 1e6
		b.ReportMetric(mbps, tg.name+"-MB/s")
		if j > 0 {
			b.ReportMetric(mbps/direct, tg.name+"/direct")
		}
	}
}

// generated serves one blob of size bytes, a 1 MiB random block repeated,
// under its digest, without holding more than the block.
type generated struct {
	block []byte
	size  int64
	dgst  digest.Digest
}

func newGenerated(size int64) *generated {
	g := &generated{block: make([]byte, 1<<20), size: size}
	rand.Read(g.block)
	h := sha256.New()
	for n := int64(0); n < size; n += int64(len(g.block)) {
		h.Write(g.block[:min(int64(len(g.block)), size-n)])
	}
	g.dgst = digest.NewDigest(digest.SHA256, h)
	return g
}

func (g *generated) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/blobs/"+g.dgst.String()) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(g.size, 10))
	w.Header().Set("Content-Type", "application/octet-stream")
	for n := int64(0); n < g.size; n += int64(len(g.block)) {
		if _, err := w.Write(g.block[:min(int64(len(g.block)), g.size-n)]); err != nil {
			return
		}
	}
}

// procStatus reads a kB field of /proc/self/status.
func procStatus(b *testing.B, field string) int64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkBlobStreamPeakRSS streams a 1 GiB blob through the front door
// (from a registry that generates it, to a client that hashes it, all in
// this process) and reports how far the process's peak RSS rose above its
// RSS before the transfer: the front door must not hold a blob.
func BenchmarkBlobStreamPeakRSS(b *testing.B) {
	const size = 1 << 30
	g := newGenerated(size)
	host := startTLS(b, g)
	l := startLab(b, labConfig{regs: 1, extra: []string{host},
		zones: []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{EXTRA0}}"`+"\n", true)}})
	u := l.srv.URL + "/v2/example.test/gen/blob/blobs/" + g.dgst.String()
	buf := make([]byte, 64<<10)
	var growth int64
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		// Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS.
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Skipf("cannot reset the peak RSS: %v", err)
		}
		before := procStatus(b, "VmRSS")
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, resp.Body, buf)
		resp.Body.Close()
		if err != nil || n != size || digest.NewDigest(digest.SHA256, h) != g.dgst {
			b.Fatalf("%d bytes, %v", n, err)
		}
		growth = max(growth, procStatus(b, "VmHWM")-before)
	}
	b.ReportMetric(float64(growth)/(1<<20), "peakRSS-MiB")
}

// BenchmarkManifestByTag asks for a manifest by tag, the front door with
// its caches warm (the tag's resolution, the manifest) against the
// registry answering directly; both plain HTTP on loopback, same client.
func BenchmarkManifestByTag(b *testing.B) {
	reg := registrytest.StartT(b, registrytest.Options{})
	reg.MustPushImage(b, "org/app", "v1", registrytest.WithSeed("bench"))
	l := startLab(b, labConfig{extra: []string{reg.Host()}, opts: []resolver.Option{resolver.WithInsecureRegistries(reg.Host())},
		zones: []dnstest.Zone{zone("example.test.", `_oci-discovery TXT "v=oci1; registry=http://{{EXTRA0}}"`+"\n", true)}})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(b *testing.B, u string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("{")) {
			b.Fatalf("%s: %d", u, resp.StatusCode)
		}
	}
	for _, tg := range []struct{ name, url string }{
		{"registry", reg.URL() + "/v2/org/app/manifests/v1"},
		{"frontdoor", l.srv.URL + "/v2/example.test/org/app/manifests/v1"},
	} {
		b.Run(tg.name, func(b *testing.B) {
			get(b, tg.url)
			b.ResetTimer()
			for range b.N {
				get(b, tg.url)
			}
		})
	}
}
