// Package check lints what a host publishes for discovery protocol v1 —
// TXT records at _oci-discovery.<host>, SRV records at
// _oci-registry._tcp.<host>, the HTTPS well-known document — and what those
// records lead to: delegations followed with the discovery algorithm itself,
// and the registries at the end, asked GET /v2/. It is the engine of
// `ocidns check`.
//
// Every verdict comes from the code clients run: records are parsed by
// discovery.ParseTXT and discovery.FetchWellKnown, conflicts found by
// discovery.Select, chains followed by a discovery.Discoverer, DNSSEC judged
// by the same Validator and AD policy. A finding therefore says what clients
// will do, not what a second reading of the specification suggests.
package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
)

// DefaultTimeout bounds each network step of a check (one DNS lookup with
// its validation, one fetch, one probe, one discovery) when Config.Timeout
// is zero.
const DefaultTimeout = 10 * time.Second

// probeComponent is the path component appended to each published prefix to
// make a name to discover: any valid component would do, this one tells a
// registry operator reading logs who asked.
const probeComponent = "ocidns-check"

// Config is how the checked host is looked at: the clients and the policy
// of the resolver whose point of view the check takes (usually built from
// the same flags as `ocidns resolve`).
type Config struct {
	// DNS answers every DNS question; nil skips the TXT and SRV checks.
	DNS *dnsclient.Client
	// HTTP fetches the well-known document and probes registries; nil
	// means http.DefaultClient.
	HTTP *http.Client
	// Validator validates TXT and SRV answers in-process; nil skips it.
	Validator *dnssec.Validator
	// TrustAD trusts the AD bit of the DNS servers.
	TrustAD bool
	// DNSSECOff checks as a --dnssec off client: cross-host mappings are
	// followed whether authenticated or not, and authentication is not
	// assessed.
	DNSSECOff bool
	// NoWellKnown skips the well-known document, as --no-well-known clients do.
	NoWellKnown bool
	// Insecure reports whether plain HTTP is allowed for a host or
	// host:port (--insecure-registry).
	Insecure func(hostport string) bool
	// MaxHops bounds delegation chains (default discovery.DefaultMaxHops).
	MaxHops int
	// Timeout bounds each network step (default DefaultTimeout).
	Timeout time.Duration
	// NoRegistryProbe skips the GET /v2/ probes.
	NoRegistryProbe bool
	// Names are image references under the host to check against its
	// signing policy with CheckName (the resolver's, with its flags):
	// required but unsigned images are errors (docs/protocol.md §15).
	Names     []string
	CheckName func(ctx context.Context, name string) NameResult
}

// ErrInvalidHost is returned by Run for a host that is not a DNS name or
// IP address with an optional port.
var ErrInvalidHost = errors.New("invalid host")

// Run checks what host (a DNS name, or host:port, or an IP address)
// publishes and returns the findings in a stable order: the host's own
// records (TXT, SRV, well-known), then how they agree, then the delegation
// chains, then the registries. Problems of the host are findings, never
// errors; the error is ErrInvalidHost (wrapped, naming the host) or the
// context's.
func Run(ctx context.Context, host string, cfg Config) ([]Finding, error) {
	c, err := newChecker(host, cfg)
	if err != nil {
		return nil, err
	}
	c.lookup(ctx)
	c.checkTXT(ctx)
	c.checkSRV(ctx)
	c.checkWellKnown()
	c.checkAuthentication(ctx)
	c.checkAgreement()
	c.checkNothingPublished()
	c.checkDelegations(ctx)
	c.checkRegistries(ctx)
	c.checkNames(ctx)
	if err := ctx.Err(); err != nil {
		return c.findings, err
	}
	return c.findings, nil
}

// checker is the state of one Run.
type checker struct {
	cfg   Config
	host  string // as checked, lowercase, host[:port]
	name  string // the host name without port (or the IP literal)
	dns   bool   // DNS discovery applies (a name without port)
	popts discovery.ParseOptions

	findings []Finding

	// Raw lookups, done concurrently by lookup.
	txtAnswer *dnsclient.Answer
	txtErr    error
	srvAnswer *dnsclient.Answer
	srvErr    error
	wk        *discovery.WellKnown
	wkErr     error

	// What the analysis made of them.
	txt       []discovery.Mapping // valid v=oci1 mappings, published order
	txtAuth   discovery.Auth
	txtBroken bool // unknown or bogus: clients fail at this host
	// txtSigners are the valid v=ocisig1 records of the TXT RRset.
	txtSigners []discovery.PublishedKey
	srvEPs     []discovery.Endpoint
	srvAuth    discovery.Auth
	srvBroken  bool
	srvNone    bool
	wkMaps     []discovery.Mapping
	wkAuth     discovery.Auth

	probes []probe // registries to ask GET /v2/, deduplicated

	// on discovers as the configured client: the check follows the paths
	// it takes, and no other.
	on *discovery.Discoverer
}

func newChecker(host string, cfg Config) (*checker, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Insecure == nil {
		cfg.Insecure = func(string) bool { return false }
	}
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	name, usesDNS, err := discovery.ParseHost(h)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidHost, host, err)
	}
	c := &checker{
		cfg:   cfg,
		host:  h,
		name:  name,
		dns:   cfg.DNS != nil && usesDNS,
		popts: discovery.ParseOptions{Insecure: cfg.Insecure},
	}
	opts := discovery.Options{
		DNS:         cfg.DNS,
		HTTP:        cfg.HTTP,
		Validator:   cfg.Validator,
		TrustAD:     cfg.TrustAD,
		DNSSECOff:   cfg.DNSSECOff,
		NoWellKnown: cfg.NoWellKnown,
		Insecure:    cfg.Insecure,
		MaxHops:     cfg.MaxHops,
		Timeout:     cfg.Timeout,
		Cache:       &discovery.Memo{}, // each source of each host asked once a check
	}
	c.on = discovery.New(opts)
	if !c.dns && cfg.DNS != nil {
		c.add(Info, CodePortNoDNS, "", fmt.Sprintf("%s has a port or is an IP address: clients look up no TXT or SRV records for it, only the well-known document, else https://%s itself", h, h), "")
	}
	return c, nil
}

// add appends a finding about the checked host.
func (c *checker) add(sev Severity, code, record, msg, fix string) {
	c.addFor(c.host, sev, code, record, msg, fix)
}

// addOnce appends a finding about host unless one with the same code,
// host and record is there: a record found wanting by two routes (two
// prefixes delegated to one host) is one finding, worded by the first.
func (c *checker) addOnce(host string, sev Severity, code, record, msg, fix string) {
	for _, g := range c.findings {
		if g.Code == code && g.Host == host && g.Record == record {
			return
		}
	}
	c.addFor(host, sev, code, record, msg, fix)
}

// addFor appends a finding about host, once: the same code, host, record
// and message found by two routes (two prefixes reaching one broken
// delegate) are one finding.
func (c *checker) addFor(host string, sev Severity, code, record, msg, fix string) {
	f := Finding{Severity: sev, Code: code, Host: host, Record: record, Message: msg, Fix: fix}
	for _, g := range c.findings {
		if g.Code == f.Code && g.Host == f.Host && g.Record == f.Record && g.Message == f.Message {
			return
		}
	}
	c.findings = append(c.findings, f)
}

// lookup asks the three sources concurrently, as clients do.
func (c *checker) lookup(ctx context.Context) {
	var wg sync.WaitGroup
	if c.dns {
		wg.Add(2)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			defer cancel()
			c.txtAnswer, c.txtErr = c.cfg.DNS.Query(qctx, c.txtName(), dns.TypeTXT)
		}()
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			defer cancel()
			c.srvAnswer, c.srvErr = c.cfg.DNS.Query(qctx, c.srvName(), dns.TypeSRV)
		}()
	}
	if !c.cfg.NoWellKnown {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			defer cancel()
			c.wk, c.wkErr = discovery.FetchWellKnown(wctx, c.cfg.HTTP, c.host, c.popts)
		}()
	}
	wg.Wait()
}

func (c *checker) txtName() string { return discovery.TXTLabel + "." + c.name + "." }
func (c *checker) srvName() string { return discovery.SRVLabel + "." + c.name + "." }

// authenticate says how a positive answer is authenticated under the
// configured policy, by the discovery code itself (in-process validation,
// then a trusted AD bit). how describes it for a person; err is the
// validator's *BogusError.
func (c *checker) authenticate(ctx context.Context, a *dnsclient.Answer) (auth discovery.Auth, how string, err error) {
	if c.cfg.DNSSECOff {
		return discovery.AuthNone, "not assessed (--dnssec off)", nil
	}
	vctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	au, err := c.on.Authenticate(vctx, a)
	switch {
	case err != nil:
		return discovery.AuthNone, "bogus", err
	case au.Validated && au.Security == dnssec.Secure:
		return au.Auth, "secure (validated in-process up to a trust anchor)", nil
	case au.AD:
		return au.Auth, "secure (AD bit of a trusted resolver)", nil
	case !au.Validated:
		return au.Auth, "not validated: no validator, and the resolver's AD bit is not trusted (--trust-ad)", nil
	case au.Security == dnssec.Indeterminate:
		return au.Auth, "indeterminate, so not authenticated: chain of trust could not be fetched, answer not authenticated in-process: " + au.Cause.Error(), nil
	}
	return au.Auth, "insecure: unsigned, or no chain of DS records up to a trust anchor", nil
}

// usable reports whether a client under the configured policy follows m
// when it comes from a source authenticated as auth.
func (c *checker) usable(m discovery.Mapping, auth discovery.Auth) bool {
	return discovery.Follows(m, c.host, auth, c.cfg.DNSSECOff)
}

// decidedBefore reports whether a source that clients consult before src
// (discovery.SourceOrder) decides every path at the host, so that src
// matters for no name.
func (c *checker) decidedBefore(src discovery.Source) bool {
	for _, s := range discovery.SourceOrder() {
		if !discovery.Precedes(s, src) {
			return false
		}
		switch {
		case s == discovery.SourceTXT && c.txtCoversAll(), s == discovery.SourceSRV && len(c.srvEPs) > 0:
			return true
		}
	}
	return false
}

// probePath is the name under prefix that the check discovers.
func probePath(prefix string) string {
	if prefix == "" {
		return probeComponent
	}
	return prefix + "/" + probeComponent
}

// describe is a mapping in the words of a finding.
func describe(m discovery.Mapping) string {
	var b strings.Builder
	if m.Prefix == "" {
		b.WriteString("every path")
	} else {
		fmt.Fprintf(&b, "prefix %q", m.Prefix)
	}
	if m.Delegate != "" {
		fmt.Fprintf(&b, " → delegate %s", m.Delegate)
	} else {
		fmt.Fprintf(&b, " → registry %s", m.Registry)
		if m.Priority != 0 || m.Weight != 0 {
			fmt.Fprintf(&b, " (priority %d, weight %d)", m.Priority, m.Weight)
		}
		if m.Caps != discovery.CapAll && m.Caps != 0 {
			fmt.Fprintf(&b, " caps %s", m.Caps)
		}
	}
	return b.String()
}
