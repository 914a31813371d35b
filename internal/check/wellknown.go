package check

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ocidns/ocidns/discovery"
)

// checkWellKnown judges the fetch of https://<host>/.well-known/oci-discovery
// as FetchWellKnown performs it for clients. A failed fetch is an error when
// some path at the host depends on the document (no TXT mapping or SRV
// record decides every path first), else information.
func (c *checker) checkWellKnown() {
	if c.cfg.NoWellKnown {
		c.add(Info, CodeWellKnownNotChecked, "", "the well-known document was not fetched (--no-well-known)", "")
		return
	}
	url := c.wellKnownURL()
	if c.wkErr != nil {
		sev := Error
		consequence := fmt.Sprintf("clients fail names under %s that no TXT mapping or SRV record decides, rather than fall through to https://%s", c.host, c.host)
		if c.decidedBefore(discovery.SourceWellKnown) {
			sev = Info
			consequence = "no name depends on it: TXT or SRV records decide every path first"
		}
		code, fix := classifyWellKnown(c.wkErr, c.host)
		if sev == Info {
			fix = ""
		}
		c.add(sev, code, url, fmt.Sprintf("%v: %s", c.wkErr, consequence), fix)
		return
	}
	if c.wk == nil {
		c.add(Info, CodeWellKnownAbsent, url, "GET "+url+": no well-known document (404 or 410, or no HTTPS server at the host)", "")
		return
	}
	c.wkMaps = c.wk.Mappings
	c.wkAuth = discovery.AuthHTTPS
	if !strings.HasPrefix(c.wk.URL, "https://") {
		c.wkAuth = discovery.AuthNone
	}
	c.add(Info, CodeWellKnownOK, url, fmt.Sprintf("GET %s: valid document with %d mapping(s), cached by clients for %s", url, len(c.wkMaps), c.wk.MaxAge), "")
	for _, m := range c.wkMaps {
		c.add(Info, CodeWellKnownMapping, m.Record, "well-known: "+describe(m), "")
	}
	c.checkMappingSet("well-known document "+url, c.wkMaps, CodeWellKnownConflict)
	c.checkSigners("GET "+url, c.wk.Signers, c.wkAuth)
}

func (c *checker) wellKnownURL() string {
	if c.cfg.Insecure(c.host) || c.cfg.Insecure(c.name) {
		return "http://" + c.host + discovery.WellKnownPath
	}
	return "https://" + c.host + discovery.WellKnownPath
}

// classifyWellKnown maps a FetchWellKnown error to a finding code and fix.
// Invalid documents, oversized bodies, refused redirects and TLS failures
// are told apart by their types and sentinels.
func classifyWellKnown(err error, host string) (code, fix string) {
	var (
		de *discovery.DocumentError
		we *discovery.WellKnownError
	)
	errors.As(err, &we)
	switch {
	case errors.Is(err, discovery.ErrWellKnownTooLarge):
		return CodeWellKnownTooLarge, fmt.Sprintf("keep the document under %d KiB: delegate large namespaces to other hosts instead of listing them", discovery.WellKnownMaxBytes>>10)
	case errors.As(err, &de):
		if de.Path == "version" {
			return CodeWellKnownInvalid, `serve {"version": 1, ...}: clients of protocol v1 read version 1 only`
		}
		return CodeWellKnownInvalid, "serve a valid document (docs/protocol.md); `ocidns records --format json` writes one"
	case errors.Is(err, discovery.ErrWellKnownRedirect):
		return CodeWellKnownRedirect, fmt.Sprintf("serve the document at the URL itself, or redirect at most %d times and only to https:// URLs", discovery.WellKnownMaxRedirects)
	case isTLSError(err):
		return CodeWellKnownTLS, "serve HTTPS with a certificate valid for " + strings.Split(host, ":")[0] + " from a CA clients trust (clients add private CAs with --ca-file)"
	case we != nil && we.Status != 0:
		return CodeWellKnownStatus, "answer 200 with the document, or 404 when there is none; any other status makes the answer unknown"
	case errors.Is(err, context.DeadlineExceeded):
		return CodeWellKnownUnreachable, "make https://" + host + " answer quickly, or answer 404 when there is no document"
	}
	return CodeWellKnownUnreachable, "serve https://" + host + discovery.WellKnownPath + " (404 when there is no document), or publish a TXT mapping for every path so that clients need not ask"
}
