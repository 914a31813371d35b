package resolver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
)

// This file passes listings through: a repository's tags and a manifest's
// referrers, as the registry that resolves the name has them.

// maxListingBytes bounds a tag list or referrers index read from a
// registry, like a manifest.
const maxListingBytes = defaultMaxManifestBytes

// Listing is a JSON document a registry listed: a tag list
// (GET /v2/<name>/tags/list) or a referrers index
// (GET /v2/<name>/referrers/<digest>).
type Listing struct {
	// Body is the document as the registry sent it.
	Body []byte
	// ContentType is the registry's Content-Type header.
	ContentType string
	// Next is the query string of the next page when the registry's Link
	// header names one (only its n, last and artifactType parameters are
	// kept), "" otherwise.
	Next string
	// FiltersApplied is the registry's OCI-Filters-Applied header
	// (referrers).
	FiltersApplied string
	// Endpoint is the registry that answered.
	Endpoint Endpoint
}

// ListTags lists the tags of the repository at eps, asking the endpoints
// with the resolve capability in order (a pull-only mirror is never asked
// what names exist), passing n and last on for pagination. Errors as for
// FetchManifest.
func (r *Resolver) ListTags(ctx context.Context, eps []Endpoint, n, last string) (Listing, error) {
	q := url.Values{}
	if n != "" {
		q.Set("n", n)
	}
	if last != "" {
		q.Set("last", last)
	}
	return r.listing(ctx, eps, "", "GET tags", func(t *target) string {
		u := t.base + "/v2/" + t.repo + "/tags/list"
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		return u
	}, "application/json")
}

// Referrers lists the manifests that refer to dgst in the repository at
// eps (the OCI referrers API), asking the endpoints with the resolve
// capability in order, with an artifactType filter when one is given. A
// registry without the API answers 404, as the distribution spec has it:
// the caller falls back to the referrers tag schema. Errors as for
// FetchManifest.
func (r *Resolver) Referrers(ctx context.Context, eps []Endpoint, dgst digest.Digest, artifactType string) (Listing, error) {
	return r.listing(ctx, eps, dgst, "GET referrers", func(t *target) string {
		u := t.base + "/v2/" + t.repo + "/referrers/" + dgst.String()
		if artifactType != "" {
			u += "?" + url.Values{"artifactType": {artifactType}}.Encode()
		}
		return u
	}, "application/vnd.oci.image.index.v1+json")
}

func (r *Resolver) listing(ctx context.Context, eps []Endpoint, dgst digest.Digest, step string, urlOf func(*target) string, accept string) (Listing, error) {
	var out Listing
	err := r.cur.Load().eachEndpoint(ctx, eps, dgst, discovery.CapResolve, step, func(ctx context.Context, c *registryClient, t *target, tr *trace.Trace) error {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		rq := &regRequest{t: t, method: http.MethodGet, url: urlOf(t), accept: accept, step: step, tr: tr}
		resp, ev, err := c.do(ctx, rq)
		if err != nil {
			return err
		}
		defer closeBody(resp)
		what := strings.TrimPrefix(step, "GET ") + " of " + t.repo
		if resp.StatusCode != http.StatusOK {
			return traceFailure(tr, ev, c.statusError(rq, resp, what))
		}
		body, err := readBounded(resp.Body, maxListingBytes, resp.ContentLength, what)
		if err != nil {
			return traceFailure(tr, ev, t.readError(step, what, err))
		}
		ev.Decision += fmt.Sprintf("%d bytes", len(body))
		tr.Add(ev)
		out = Listing{Body: body, ContentType: resp.Header.Get("Content-Type"), Next: nextPage(resp.Header.Get("Link")),
			FiltersApplied: resp.Header.Get("OCI-Filters-Applied"),
			Endpoint:       endpointOf(t.ep)}
		return nil
	})
	return out, err
}

// linkNext finds the URL of a Link header's rel="next" (RFC 8288), as the
// distribution spec paginates.
var linkNext = lazyRegexp(`<([^>]*)>\s*;\s*rel="?next"?`)

// nextPage returns the pagination parameters of the next page named by a
// Link header: n, last and artifactType, re-encoded. Anything else in the
// registry's URL (its host, path, other parameters) is dropped: the caller
// rebuilds the link to itself.
func nextPage(link string) string {
	m := linkNext().FindStringSubmatch(link)
	if m == nil {
		return ""
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return ""
	}
	in, out := u.Query(), url.Values{}
	for _, k := range []string{"n", "last", "artifactType"} {
		if v := in.Get(k); v != "" && len(v) <= 256 {
			out.Set(k, v)
		}
	}
	return out.Encode()
}
