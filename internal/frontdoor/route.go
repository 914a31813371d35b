package frontdoor

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/reference"
)

// This file reads a request's URL into what it asks for (protocol.md §14):
//
//	/v2/                                       the API version check
//	/v2/<name>/manifests/<tag or digest>       ?ns=<host> names the host,
//	/v2/<name>/blobs/<digest>                  else <name> starts with it
//	/v2/<name>/tags/list[?n=&last=]
//	/v2/<name>/referrers/<digest>[?artifactType=]
//
// Every part is checked before anything is looked up: the namespace host
// is a name to discover, never an address to connect to.

// Bounds of a request's URL.
const (
	maxURILength  = 2048 // the request target, as sent
	maxNameLength = 255  // host/repository, as distribution's reference grammar bounds it
)

type kind int

const (
	kindPing kind = iota
	kindManifest
	kindBlob
	kindTags
	kindReferrers
)

// request is a parsed front-door request.
type request struct {
	kind kind
	// host is the namespace: the ns parameter or the path's first segment,
	// lower-cased.
	host string
	// repo is the repository under host; name is host/repo, what is
	// discovered.
	repo, name string
	// clientName is the repository as the engine named it in the path
	// (with the host segment in the path form), for links back to us.
	clientName string
	// ns is set when the host came from ?ns=.
	ns bool
	// tag or dgst is what a manifest request names; dgst for blobs and
	// referrers.
	tag  string
	dgst digest.Digest
	// query is the decoded query string.
	query url.Values
}

// parseRequest reads r's URL. On failure it returns the OCI error to send.
func parseRequest(r *http.Request) (request, *apiError) {
	q, segs, aerr := splitRequest(r)
	if aerr != nil {
		return request{}, aerr
	}
	if segs == nil {
		return request{kind: kindPing, query: q}, nil
	}
	req := request{query: q}
	nameSegs, aerr := req.route(segs)
	if aerr != nil {
		return request{}, aerr
	}
	req.clientName = strings.Join(nameSegs, "/")
	if aerr := req.nameFrom(nameSegs); aerr != nil {
		return request{}, aerr
	}
	if aerr := checkHost(req.host); aerr != nil {
		return request{}, aerr
	}
	req.host = strings.ToLower(req.host)
	req.name = req.host + "/" + req.repo
	if len(req.name) > maxNameLength {
		return request{}, newAPIError(http.StatusBadRequest, codeNameInvalid, "name %s... longer than %d bytes", req.name[:64], maxNameLength)
	}
	return req, nil
}

// splitRequest checks r's URL and returns its query and the segments of
// its path below /v2/; no segments for the ping (/v2/).
func splitRequest(r *http.Request) (url.Values, []string, *apiError) {
	if len(r.RequestURI) > maxURILength {
		return nil, nil, newAPIError(http.StatusRequestURITooLong, codeNameInvalid, "request URL longer than %d bytes", maxURILength)
	}
	if esc := strings.ToLower(r.URL.EscapedPath()); strings.Contains(esc, "%2f") || strings.Contains(esc, "%5c") {
		return nil, nil, newAPIError(http.StatusBadRequest, codeNameInvalid, "encoded slash in the path: a repository name is written with plain slashes")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, newAPIError(http.StatusBadRequest, codeNameInvalid, "query string: %v", err)
	}
	p := r.URL.Path
	if p == "/v2" || p == "/v2/" {
		return q, nil, nil
	}
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return nil, nil, newAPIError(http.StatusNotFound, codeNameUnknown, "not a distribution API path")
	}
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		switch s {
		case "", ".", "..":
			return nil, nil, newAPIError(http.StatusBadRequest, codeNameInvalid, "path segment %q: a repository name has no empty, . or .. components", s)
		}
	}
	return q, segs, nil
}

// route sets req's kind, and its tag or digest, from the end of the path
// segs, and returns the segments of the name before it.
func (req *request) route(segs []string) ([]string, *apiError) {
	n := len(segs)
	var err error
	switch {
	case n >= 3 && segs[n-2] == "manifests":
		req.kind = kindManifest
		ref := segs[n-1]
		if strings.Contains(ref, ":") {
			if req.dgst, err = digest.Parse(ref); err != nil {
				return nil, newAPIError(http.StatusBadRequest, codeDigestInvalid, "digest %q: %v", ref, err)
			}
		} else if reference.ValidateTag(ref) != nil {
			return nil, newAPIError(http.StatusBadRequest, codeNameInvalid, "tag %q: want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", ref)
		} else {
			req.tag = ref
		}
	case n >= 3 && segs[n-2] == "blobs" && segs[n-1] == "uploads", n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		return nil, newAPIError(http.StatusMethodNotAllowed, codeUnsupported, "the front door is read-only: push to the registry itself")
	case n >= 3 && segs[n-2] == "blobs":
		req.kind = kindBlob
		if req.dgst, err = digest.Parse(segs[n-1]); err != nil {
			return nil, newAPIError(http.StatusBadRequest, codeDigestInvalid, "digest %q: %v", segs[n-1], err)
		}
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		req.kind = kindTags
	case n >= 3 && segs[n-2] == "referrers":
		req.kind = kindReferrers
		if req.dgst, err = digest.Parse(segs[n-1]); err != nil {
			return nil, newAPIError(http.StatusBadRequest, codeDigestInvalid, "digest %q: %v", segs[n-1], err)
		}
	default:
		return nil, newAPIError(http.StatusNotFound, codeNameUnknown, "not a distribution API path the front door serves")
	}
	return segs[:n-2], nil
}

// nameFrom sets req's host and repository: from ?ns= (the distribution
// spec's proxying form: ns names the host and the path is the repository
// there, unstripped), or from the name's first segment.
func (req *request) nameFrom(nameSegs []string) *apiError {
	if vs := req.query["ns"]; len(vs) > 1 {
		return newAPIError(http.StatusBadRequest, codeNameInvalid, "more than one ns parameter")
	} else if len(vs) == 1 && vs[0] != "" {
		req.ns, req.host, req.repo = true, vs[0], req.clientName
		return nil
	}
	first := nameSegs[0]
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		return newAPIError(http.StatusNotFound, codeNameUnknown,
			"%q does not start with a host (a first component with . or :, or localhost): name the image as /v2/HOST/REPOSITORY/... or pass ?ns=HOST", req.clientName)
	}
	if len(nameSegs) < 2 {
		return newAPIError(http.StatusBadRequest, codeNameInvalid, "no repository under host %q", first)
	}
	req.host, req.repo = first, strings.Join(nameSegs[1:], "/")
	return nil
}

// checkHost accepts a DNS name with an optional port. An IP address names
// no delegation and is never connected to on a caller's say-so: 404, so
// the engine goes to it itself.
func checkHost(host string) *apiError {
	if len(host) > 255 {
		return newAPIError(http.StatusBadRequest, codeNameInvalid, "namespace host longer than 255 bytes")
	}
	if _, _, err := discovery.ParseHost(host); err != nil {
		return newAPIError(http.StatusBadRequest, codeNameInvalid, "namespace host %q: %v", host, err)
	}
	bare := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		bare = h
	}
	if _, err := netip.ParseAddr(strings.Trim(bare, "[]")); err == nil {
		return newAPIError(http.StatusNotFound, codeNameUnknown,
			"namespace %q is an IP address: ocidns serves names that publish a delegation, and connects to no address a caller names", host)
	}
	return nil
}
