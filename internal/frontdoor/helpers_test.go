package frontdoor

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/testkit"
	"github.com/ocidns/ocidns/resolver"
)

// lab is one test's world: a DNS server for signed zones, registries, a
// resolver that trusts them, and the front door on 127.0.0.1.
type lab struct {
	dns  *dnstest.Server
	regs []*registrytest.Registry
	r    *resolver.Resolver
	h    *Handler
	srv  *httptest.Server
	logs *testkit.SyncBuffer
}

// labConfig adjusts a lab.
type labConfig struct {
	regs   int                  // registries to start (TLS)
	zones  []dnstest.Zone       // {{REG0}}... replaced by the registries' host:port
	extra  []string             // more hosts the address policy allows
	deny   bool                 // allow none of the registries: the address policy refuses them
	opts   []resolver.Option    // more resolver options
	cfg    Config               // front door configuration (Resolver and Logger set here)
	server func(s *http.Server) // adjust the front door's server before it starts
	auth   *registrytest.Auth   // authentication of every registry
}

func zone(origin, body string, sign bool) dnstest.Zone {
	head := "$ORIGIN " + origin + "\n$TTL 300\n@ SOA ns." + origin + " hostmaster." + origin + " 1 3600 600 86400 60\n@ NS ns." + origin + "\nns A 127.0.0.1\n"
	return dnstest.Zone{Origin: origin, Text: head + body, Sign: sign}
}

func startLab(t testing.TB, c labConfig) *lab {
	t.Helper()
	l := &lab{logs: &testkit.SyncBuffer{}}
	for i := 0; i < c.regs; i++ {
		opts := registrytest.Options{TLS: true}
		if c.auth != nil {
			opts.Auth = *c.auth
		}
		l.regs = append(l.regs, registrytest.StartT(t, opts))
	}
	for i := range c.zones {
		for j, reg := range l.regs {
			c.zones[i].Text = strings.ReplaceAll(c.zones[i].Text, "{{REG"+string(rune('0'+j))+"}}", reg.Host())
		}
		for j, h := range c.extra {
			c.zones[i].Text = strings.ReplaceAll(c.zones[i].Text, "{{EXTRA"+string(rune('0'+j))+"}}", h)
		}
	}
	l.dns = dnstest.StartT(t, dnstest.Config{Zones: c.zones})
	cfgPath := t.TempDir() + "/config.json"
	if err := os.WriteFile(cfgPath, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	allow := append([]string(nil), c.extra...)
	if !c.deny {
		for _, reg := range l.regs {
			allow = append(allow, reg.Host())
		}
	}
	opts := []resolver.Option{
		resolver.WithDNSServers(l.dns.Addr()),
		resolver.WithTrustAnchors(l.dns.TrustAnchors()...),
		resolver.WithDockerConfig(cfgPath),
		resolver.WithTimeout(10 * time.Second),
		resolver.WithWellKnown(false),
		resolver.WithAddressPolicy(resolver.AddressPolicy{Allow: allow}),
	}
	if len(l.regs) > 0 {
		opts = append(opts, resolver.WithRootCAs(l.regs[0].Transport().TLSClientConfig.RootCAs))
	}
	r, err := resolver.New(append(opts, c.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	l.r = r
	cfg := c.cfg
	cfg.Resolver = r
	cfg.Logger = slog.New(slog.NewTextHandler(l.logs, nil))
	l.h = New(cfg)
	l.srv = httptest.NewUnstartedServer(l.h)
	if c.server != nil {
		c.server(l.srv.Config)
	}
	l.srv.Start()
	t.Cleanup(l.srv.Close)
	return l
}

// host is the front door's host:port.
func (l *lab) host() string { return strings.TrimPrefix(l.srv.URL, "http://") }

// get sends method url to the front door and returns the response with its
// body read.
func (l *lab) do(t testing.TB, method, path string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, l.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, body
}

// ociError decodes a distribution-spec error body and returns its first
// code and message.
func ociError(t testing.TB, body []byte) (string, string) {
	t.Helper()
	var e struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("body %q is not an OCI error: %v", body, err)
	}
	return e.Errors[0].Code, e.Errors[0].Message
}

// pathRef names repo:tag-or-@digest through the front door in the path
// form: FRONTDOOR/HOST/REPO.
func (l *lab) pathRef(t testing.TB, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(l.host()+"/"+ref, name.Insecure, name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// nsTransport sends every request for any registry to the front door with
// ?ns=HOST, the path unchanged: what containerd does with a _default
// mirror in hosts.toml.
type nsTransport struct {
	door *url.URL
	base http.RoundTripper
	mu   sync.Mutex
	seen []string // "METHOD path?query" of each request sent
}

func (n *nsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *req.URL
	q := u.Query()
	q.Set("ns", req.URL.Host)
	u.RawQuery = q.Encode()
	u.Scheme, u.Host = n.door.Scheme, n.door.Host
	out.URL, out.Host = &u, n.door.Host
	n.mu.Lock()
	n.seen = append(n.seen, req.Method+" "+u.RequestURI())
	n.mu.Unlock()
	return n.base.RoundTrip(out)
}

// nsOptions are ggcr options that pull any name through the front door's
// ns form.
func (l *lab) nsOptions() ([]remote.Option, *nsTransport) {
	u, _ := url.Parse(l.srv.URL)
	tr := &nsTransport{door: u, base: http.DefaultTransport}
	return []remote.Option{remote.WithTransport(tr), remote.WithAuth(authn.Anonymous)}, tr
}
