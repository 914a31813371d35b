package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/ocidns/ocidns/discovery"
)

// Limits of one GET /v2/ probe.
const (
	// probeMaxBody is how much of a /v2/ body is read (and discarded):
	// registries answer "{}" or a short error document.
	probeMaxBody = 64 << 10
	// probeMaxRedirects bounds the redirects a probe follows.
	probeMaxRedirects = 3
	// probeParallel bounds concurrent probes.
	probeParallel = 4
)

// probe is a registry to ask GET /v2/.
type probe struct {
	url        string // scheme://host[:port]
	serverName string // name the TLS certificate must be valid for, when not the URL's host
	host       string // the host whose record leads here
	record     string // that record
	source     discovery.Source
}

// addProbe queues p unless the same URL with the same TLS name is queued.
func (c *checker) addProbe(p probe) {
	for _, q := range c.probes {
		if q.url == p.url && q.serverName == p.serverName {
			return
		}
	}
	c.probes = append(c.probes, p)
}

// checkRegistries asks every queued registry GET /v2/ (at most
// probeParallel at a time, each bounded by Config.Timeout and
// probeMaxBody) and reports, in queue order, whether it answers as an OCI
// registry: 200, or 401 with a Bearer or Basic challenge, or a
// Docker-Distribution-API-Version header.
func (c *checker) checkRegistries(ctx context.Context) {
	if c.cfg.NoRegistryProbe {
		if len(c.probes) > 0 {
			c.add(Info, CodeRegistryNotChecked, "", fmt.Sprintf("%d registr(y/ies) not probed", len(c.probes)), "")
		}
		return
	}
	type outcome struct {
		why string
		err error
		ok  bool
	}
	out := make([]outcome, len(c.probes))
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for i, p := range c.probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i].ok, out[i].why, out[i].err = c.probeRegistry(ctx, p)
		}()
	}
	wg.Wait()

	for i, p := range c.probes {
		o := out[i]
		target := p.url + "/v2/"
		if p.serverName != "" {
			target += " (certificate must be valid for " + p.serverName + ")"
		}
		switch {
		case o.ok:
			c.addFor(p.host, Info, CodeRegistryOK, p.record, fmt.Sprintf("GET %s: %s: an OCI registry", target, o.why), "")
		case p.source == discovery.SourceDirect:
			c.addFor(p.host, Warning, CodeDirectNotRegistry, "", fmt.Sprintf("names that no mapping decides go to https://%s itself, but GET %s: %s", p.host, target, problemWords(o.why, o.err)),
				"publish a mapping for every path (a TXT record without prefix=), or run a registry at https://"+p.host)
		case o.err != nil && p.serverName != "" && isTLSError(o.err):
			c.addFor(p.host, Error, CodeSRVTLSName, p.record,
				fmt.Sprintf("GET %s: %v: the SRV record is not authenticated, so clients with --dnssec on require the registry's certificate to be valid for %s", target, o.err, p.serverName),
				"sign the zone with DNSSEC (then the target's own name is verified), or give the registry a certificate that also names "+p.serverName)
		case o.err != nil && isTLSError(o.err):
			c.addFor(p.host, Error, CodeRegistryTLS, p.record, fmt.Sprintf("GET %s: %v", target, o.err),
				"give the registry a certificate valid for its name from a CA clients trust (clients add private CAs with --ca-file)")
		case o.err != nil:
			c.addFor(p.host, Error, CodeRegistryUnreachable, p.record, fmt.Sprintf("GET %s: %v", target, o.err),
				"check that the registry runs and that its name resolves to it; fix the record if it names the wrong host or port")
		default:
			c.addFor(p.host, Error, CodeRegistryNotOCI, p.record, fmt.Sprintf("GET %s: %s: not an OCI registry", target, o.why),
				"point the record at the registry's base URL (the one that answers /v2/), not at a web page")
		}
	}
}

func problemWords(why string, err error) string {
	if err != nil {
		return err.Error()
	}
	return why + ": not an OCI registry"
}

// probeRegistry asks GET <url>/v2/. ok reports an OCI registry; why says
// what the answer was; err is a failure to get one.
func (c *checker) probeRegistry(ctx context.Context, p probe) (ok bool, why string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	client, done := c.probeClient(p.serverName)
	defer done()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/v2/", nil)
	if err != nil {
		return false, "", err
	}
	req.Header.Set("User-Agent", "ocidns-check")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return false, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probeMaxBody))

	api := resp.Header.Get("Docker-Distribution-API-Version")
	status := resp.Status
	switch resp.StatusCode {
	case http.StatusOK:
		if api != "" {
			return true, status + " with Docker-Distribution-API-Version: " + api, nil
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
			return false, status + " with an HTML page", nil
		}
		return true, status, nil
	case http.StatusUnauthorized:
		for _, ch := range resp.Header.Values("WWW-Authenticate") {
			scheme, _, _ := strings.Cut(strings.TrimSpace(ch), " ")
			if strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic") {
				return true, status + " with a " + scheme + " challenge", nil
			}
		}
		if api != "" {
			return true, status + " with Docker-Distribution-API-Version: " + api, nil
		}
		return false, status + " without a Bearer or Basic challenge", nil
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no Content-Type"
	}
	return false, fmt.Sprintf("%s (%s)", status, ct), nil
}

// probeClient is the configured client, bounded to a few HTTPS-only
// redirects, and verifying serverName instead of the URL's host when set.
func (c *checker) probeClient(serverName string) (*http.Client, func()) {
	cl := *c.cfg.HTTP
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > probeMaxRedirects {
			return fmt.Errorf("more than %d redirects", probeMaxRedirects)
		}
		if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
			return fmt.Errorf("redirect from HTTPS to %s refused", req.URL.Redacted())
		}
		return nil
	}
	if serverName == "" {
		return &cl, func() {}
	}
	var t *http.Transport
	switch tr := cl.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = tr.Clone()
	default:
		return &cl, func() {} // a custom RoundTripper: its TLS is its own
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.ServerName = serverName
	cl.Transport = t
	return &cl, t.CloseIdleConnections
}

// isTLSError reports a certificate or TLS handshake failure.
func isTLSError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		hn  x509.HostnameError
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		rhe tls.RecordHeaderError
		ae  tls.AlertError
	)
	return errors.As(err, &cve) || errors.As(err, &hn) || errors.As(err, &ua) || errors.As(err, &ci) ||
		errors.As(err, &rhe) || errors.As(err, &ae)
}
