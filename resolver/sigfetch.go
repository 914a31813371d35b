package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/resolver/signature"
)

// This file reads what cosign stores beside an image — the .sig manifest,
// its payload blobs, referrers and bundles — for signature.Verify, with
// the registry client of the repository the image was resolved at: the
// same credentials, address policy, retries and trace as the resolution.

// signatureFetcher implements signature.Fetcher for one repository.
type signatureFetcher struct {
	c  *registryClient
	t  *target
	tr *trace.Trace
}

// Manifest implements signature.Fetcher: GET /v2/<repo>/manifests/<ref>,
// at most limit bytes.
func (f signatureFetcher) Manifest(ctx context.Context, ref string, limit int64) ([]byte, string, error) {
	body, ct, status, err := f.get(ctx, "/manifests/"+ref, acceptManifests, "GET signature manifest", "manifest "+ref, limit)
	if err != nil {
		return nil, "", err
	}
	if status == http.StatusNotFound {
		return nil, "", fmt.Errorf("HTTP 404: %w", signature.ErrNotFound)
	}
	return body, contentMediaType(ct), nil
}

// Blob implements signature.Fetcher: GET /v2/<repo>/blobs/<d>, at most
// limit bytes. Verify checks the digest.
func (f signatureFetcher) Blob(ctx context.Context, d digest.Digest, limit int64) ([]byte, error) {
	body, _, status, err := f.get(ctx, "/blobs/"+d.String(), "application/json, */*", "GET signature blob", "blob "+d.String(), limit)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, fmt.Errorf("HTTP 404: %w", signature.ErrNotFound)
	}
	return body, nil
}

// Referrers implements signature.Fetcher: GET
// /v2/<repo>/referrers/<d>?artifactType=<t> (distribution spec v1.1). A 404,
// or a 200 that is not an image index (a registry whose router answers
// unknown paths with a page), means the registry has no referrers API.
func (f signatureFetcher) Referrers(ctx context.Context, d digest.Digest, artifactType string, limit int64) ([]byte, error) {
	path := "/referrers/" + d.String()
	if artifactType != "" {
		path += "?" + url.Values{"artifactType": {artifactType}}.Encode()
	}
	body, ct, status, err := f.get(ctx, path, mediaTypeOCIIndex, "GET referrers", "referrers of "+d.String(), limit)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound || contentMediaType(ct) != mediaTypeOCIIndex {
		return nil, fmt.Errorf("HTTP %d, %q: %w", status, contentMediaType(ct), signature.ErrReferrersUnsupported)
	}
	return body, nil
}

// get sends one GET for the repository and reads the body within limit.
// It returns the status for 200 and 404 (the body of a 404 is dropped);
// every other answer, and a body over limit, is an error (wrapping
// signature.ErrTooLarge for the latter).
func (f signatureFetcher) get(ctx context.Context, path, accept, step, what string, limit int64) ([]byte, string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, f.c.cfg.Timeout)
	defer cancel()
	rq := &regRequest{t: f.t, method: http.MethodGet, url: f.t.base + "/v2/" + f.t.repo + path, accept: accept, step: step, tr: f.tr}
	resp, ev, err := f.c.do(ctx, rq)
	if err != nil {
		return nil, "", 0, err
	}
	defer closeBody(resp)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		ev.Decision += "none here"
		f.tr.Add(ev)
		return nil, resp.Header.Get("Content-Type"), http.StatusNotFound, nil
	default:
		return nil, "", resp.StatusCode, traceFailure(f.tr, ev, f.c.statusError(rq, resp, what))
	}
	body, err := readBounded(resp.Body, limit, resp.ContentLength, what)
	if err != nil {
		var tl *errTooLarge
		if errors.As(err, &tl) {
			err = fmt.Errorf("%w: %v", signature.ErrTooLarge, err)
		} else {
			err = fmt.Errorf("reading %s: %w", what, err)
		}
		return nil, "", resp.StatusCode, traceFailure(f.tr, ev, err)
	}
	ev.Decision += fmt.Sprintf("%d bytes", len(body))
	f.tr.Add(ev)
	return body, resp.Header.Get("Content-Type"), resp.StatusCode, nil
}
