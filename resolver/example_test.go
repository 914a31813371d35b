package resolver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/daemon"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/resolver"
)

// exampleLab is what the examples stand on, all in process on 127.0.0.1:
// an authoritative DNS server for example.test, signed with keys made at
// start, whose TXT record maps the whole namespace to a registry under the
// repository prefix "mirror"; and that registry (HTTPS), holding
// mirror/team/app:v1. Outside examples these are the real Internet's.
type exampleLab struct {
	dns *dnstest.Server
	reg *registrytest.Registry
}

func startExampleLab() *exampleLab {
	reg, err := registrytest.Start(registrytest.Options{TLS: true})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := reg.PushImage("mirror/team/app", "v1", registrytest.WithSeed("example")); err != nil {
		log.Fatal(err)
	}
	zone := `$ORIGIN example.test.
@              300 IN SOA ns hostmaster 1 3600 600 86400 60
@              300 IN NS  ns
ns             300 IN A   127.0.0.1
_oci-discovery 300 IN TXT "v=oci1; registry=` + reg.URL() + `/mirror"
`
	srv, err := dnstest.Start(dnstest.Config{Zones: []dnstest.Zone{{Origin: "example.test.", Text: zone, Sign: true}}})
	if err != nil {
		log.Fatal(err)
	}
	return &exampleLab{dns: srv, reg: reg}
}

func (l *exampleLab) Close() {
	l.dns.Close()
	l.reg.Close()
}

// options points a Resolver at the lab. An engine on the Internet needs
// none of them: the system's resolv.conf, the root trust anchor and the
// system's CAs are the defaults.
func (l *exampleLab) options() []resolver.Option {
	return []resolver.Option{
		resolver.WithDNSServers(l.dns.Addr()),              // every lookup through the lab's DNS
		resolver.WithTrustAnchors(l.dns.TrustAnchors()...), // the lab's zone is signed by keys made at start
		resolver.WithHTTPClient(l.reg.Client()),            // trusts the lab registry's certificate
		resolver.WithWellKnown(false),                      // example.test has no web server
	}
}

// Resolve a tag to the digest of its manifest. The TXT record of
// example.test sends the name to a registry on another host; the record is
// DNSSEC-signed, so the default policy (--dnssec on) follows it.
func Example() {
	lab := startExampleLab()
	defer lab.Close()

	r, err := resolver.New(lab.options()...)
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Resolve(context.Background(), "example.test/team/app:v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Digest)
	fmt.Println("repository:", res.Repository)
	fmt.Println("authenticated:", res.Authenticated)
	// Output:
	// sha256:e1787ac61984b130585682cbb596b8bba94e0e6d8da51bafeaa990407f4dfc27
	// repository: mirror/team/app
	// authenticated: dnssec
}

// Errors carry a sentinel for errors.Is and an *Error with the reference,
// host, step and a stable code for errors.As.
func ExampleResolver_Resolve_errors() {
	lab := startExampleLab()
	defer lab.Close()
	r, err := resolver.New(lab.options()...)
	if err != nil {
		log.Fatal(err)
	}

	_, err = r.Resolve(context.Background(), "example.test/team/app:v2")
	fmt.Println("not found:", errors.Is(err, resolver.ErrNotFound))
	var e *resolver.Error
	if errors.As(err, &e) {
		fmt.Println("code:", e.Code(), "ref:", e.Ref)
	}

	_, err = r.Resolve(context.Background(), "app:v1") // a short name, and no search domain
	fmt.Println(resolver.CodeOf(err), errors.Is(err, resolver.ErrInvalidReference))
	// Output:
	// not found: true
	// code: NOT_FOUND ref: example.test/team/app:v2
	// INVALID_REFERENCE true
}

// A Resolver caches: the second resolution of a tag within its TTL costs no
// network round trip, and says it came from the cache.
func ExampleResolver_Resolve_cache() {
	lab := startExampleLab()
	defer lab.Close()
	r, err := resolver.New(append(lab.options(), resolver.WithTagTTL(resolver.DefaultTagTTL))...)
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		res, err := r.Resolve(context.Background(), "example.test/team/app:v1")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("cached:", res.Cached, "ttl:", res.TTLSeconds)
	}
	results, _ := r.Stats()
	fmt.Println("hits:", results.Hits)
	// Output:
	// cached: false ttl: 60
	// cached: true ttl: 60
	// hits: 1
}

// Discover shows who serves a name, and how the mapping was authenticated,
// without asking the registry anything.
func ExampleResolver_Discover() {
	lab := startExampleLab()
	defer lab.Close()
	r, err := resolver.New(lab.options()...)
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Discover(context.Background(), "example.test", "team/app")
	if err != nil {
		log.Fatal(err)
	}
	for _, step := range res.Chain {
		fmt.Println(step.Host, step.Source, step.Authenticated)
	}
	for _, ep := range res.Endpoints {
		fmt.Println(ep.Repository, ep.Caps)
	}
	// Output:
	// example.test dns-txt dnssec
	// mirror/team/app resolve,pull
}

// Collect the trace of one resolution by putting a trace.Trace in the
// context: every DNS query, fetch and decision, on failure too.
func ExampleResolver_Resolve_trace() {
	lab := startExampleLab()
	defer lab.Close()
	r, err := resolver.New(lab.options()...)
	if err != nil {
		log.Fatal(err)
	}
	tr := trace.New(nil)
	if _, err := r.Resolve(trace.NewContext(context.Background(), tr), "example.test/team/app:v1"); err != nil {
		log.Fatal(err)
	}
	for _, e := range tr.Events() {
		if e.Source == "dns" && strings.HasPrefix(e.Query, "TXT _oci-discovery") && e.DNSSEC != "" {
			fmt.Println(e.Query, e.DNSSEC)
			break
		}
	}
	// Output:
	// TXT _oci-discovery.example.test. secure
}

// An engine that does not embed the library asks the daemon (`ocidns
// serve`) over HTTP: GET /v1/resolve?ref= answers the JSON of `ocidns
// resolve -o json`, errors a JSON object with a stable code and an HTTP
// status engines can act on.
func Example_daemon() {
	lab := startExampleLab()
	defer lab.Close()
	r, err := resolver.New(lab.options()...)
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(daemon.New(daemon.Config{Resolver: r, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer api.Close()

	for _, ref := range []string{"example.test/team/app:v1", "example.test/team/app:v2"} {
		resp, err := http.Get(api.URL + "/v1/resolve?ref=" + url.QueryEscape(ref))
		if err != nil {
			log.Fatal(err)
		}
		var body struct {
			Digest string `json:"digest"`
			Code   string `json:"code"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, body.Digest+body.Code)
	}
	// Output:
	// 200 sha256:e1787ac61984b130585682cbb596b8bba94e0e6d8da51bafeaa990407f4dfc27
	// 404 NOT_FOUND
}
