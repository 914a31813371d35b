package signtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/resolver/signature"
)

// RegistryFetcher implements signature.Fetcher over the distribution API
// of a registry that needs no authentication, for one repository.
type RegistryFetcher struct {
	// URL is http(s)://host[:port] of the registry.
	URL        string
	Repository string
	// Client makes the requests; nil uses http.DefaultClient.
	Client *http.Client
}

const acceptManifests = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " +
	"application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

func (f RegistryFetcher) get(ctx context.Context, path, accept string, limit int64) (body []byte, ct string, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL+"/v2/"+f.Repository+path, nil)
	if err != nil {
		return nil, "", 0, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, "", resp.StatusCode, nil
	}
	if resp.ContentLength > limit {
		return nil, "", resp.StatusCode, fmt.Errorf("%w: %s is %d bytes, over %d", signature.ErrTooLarge, req.URL.Path, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1)); err != nil {
		return nil, "", resp.StatusCode, err
	}
	if int64(buf.Len()) > limit {
		return nil, "", resp.StatusCode, fmt.Errorf("%w: %s is over %d bytes", signature.ErrTooLarge, req.URL.Path, limit)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return buf.Bytes(), mt, resp.StatusCode, nil
}

func statusErr(what string, status int) error {
	if status == http.StatusNotFound {
		return fmt.Errorf("%s: %w", what, signature.ErrNotFound)
	}
	return fmt.Errorf("%s: status %d", what, status)
}

// Manifest implements signature.Fetcher.
func (f RegistryFetcher) Manifest(ctx context.Context, ref string, limit int64) ([]byte, string, error) {
	body, mt, status, err := f.get(ctx, "/manifests/"+ref, acceptManifests, limit)
	if err != nil {
		return nil, "", err
	}
	if status != http.StatusOK {
		return nil, "", statusErr("manifest "+ref, status)
	}
	return body, mt, nil
}

// Blob implements signature.Fetcher.
func (f RegistryFetcher) Blob(ctx context.Context, d digest.Digest, limit int64) ([]byte, error) {
	body, _, status, err := f.get(ctx, "/blobs/"+d.String(), "", limit)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, statusErr("blob "+d.String(), status)
	}
	return body, nil
}

// Referrers implements signature.Fetcher: a 404, or an answer that is not
// an image index, means the registry has no referrers API.
func (f RegistryFetcher) Referrers(ctx context.Context, d digest.Digest, artifactType string, limit int64) ([]byte, error) {
	body, mt, status, err := f.get(ctx, "/referrers/"+d.String()+"?artifactType="+url.QueryEscape(artifactType),
		"application/vnd.oci.image.index.v1+json", limit)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound || (status == http.StatusOK && mt != "application/vnd.oci.image.index.v1+json") {
		return nil, fmt.Errorf("referrers of %s: %w", d, signature.ErrReferrersUnsupported)
	}
	if status != http.StatusOK {
		return nil, statusErr("referrers of "+d.String(), status)
	}
	return body, nil
}

// Memo is a signature.Fetcher that asks its inner Fetcher once per object
// and answers from memory afterwards (errors included): a warm cache, for
// benchmarks of verification without the network. Safe for concurrent use.
type Memo struct {
	Inner signature.Fetcher

	mu sync.Mutex
	m  map[string]memoEntry
	// Misses counts the requests that reached Inner.
	Misses int
}

type memoEntry struct {
	body []byte
	mt   string
	err  error
}

func (m *Memo) do(key string, fetch func() ([]byte, string, error)) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.m[key]; ok {
		return e.body, e.mt, e.err
	}
	m.Misses++
	b, mt, err := fetch()
	if m.m == nil {
		m.m = map[string]memoEntry{}
	}
	m.m[key] = memoEntry{b, mt, err}
	return b, mt, err
}

// Manifest implements signature.Fetcher.
func (m *Memo) Manifest(ctx context.Context, ref string, limit int64) ([]byte, string, error) {
	return m.do(fmt.Sprint("m ", ref, " ", limit), func() ([]byte, string, error) { return m.Inner.Manifest(ctx, ref, limit) })
}

// Blob implements signature.Fetcher.
func (m *Memo) Blob(ctx context.Context, d digest.Digest, limit int64) ([]byte, error) {
	b, _, err := m.do(fmt.Sprint("b ", d, " ", limit), func() ([]byte, string, error) {
		b, err := m.Inner.Blob(ctx, d, limit)
		return b, "", err
	})
	return b, err
}

// Referrers implements signature.Fetcher.
func (m *Memo) Referrers(ctx context.Context, d digest.Digest, artifactType string, limit int64) ([]byte, error) {
	b, _, err := m.do(fmt.Sprint("r ", d, " ", artifactType, " ", limit), func() ([]byte, string, error) {
		b, err := m.Inner.Referrers(ctx, d, artifactType, limit)
		return b, "", err
	})
	return b, err
}
