package frontdoor

import "net/http"

// serveManifest answers HEAD and GET of a manifest by tag or digest: a tag
// is resolved by the resolver (discovery, the resolve-capable endpoints,
// the cache), then the manifest is fetched by digest from the pull-capable
// endpoints and checked before a byte is sent. HEAD answers exactly as GET,
// without the body, so it fetches (or finds in the cache) the manifest too.
func (h *Handler) serveManifest(w http.ResponseWriter, r *http.Request, req request) outcome {
	var o outcome
	loc, aerr := h.locate(r.Context(), req, codeManifestUnknown)
	if aerr != nil {
		o.fail(w, aerr)
		return o
	}
	dgst, eps := req.dgst, loc.Endpoints
	// A tag is resolved, and a digest under a required signature too: the
	// resolver checks the owner's signing policy (protocol.md §15) and
	// caches what it verified. Without a platform: the engine chooses from
	// an index itself, and cosign signs the index.
	ref := ""
	switch {
	case req.tag != "":
		ref = req.name + ":" + req.tag
	case h.cfg.Resolver.SignatureRequired(loc):
		ref = req.name + "@" + req.dgst.String()
	}
	if ref != "" {
		res, err := h.cfg.Resolver.ResolvePlatform(r.Context(), ref, nil)
		if err != nil {
			o.fail(w, upstreamError(ref, err, codeManifestUnknown))
			return o
		}
		dgst = res.Digest
		if len(res.Endpoints) > 0 {
			eps = res.Endpoints
		}
	}
	key := req.name + "@" + dgst.String()
	m, ok := h.manifests.get(key)
	if !ok {
		var err error
		if m, err = h.cfg.Resolver.FetchManifest(r.Context(), eps, dgst); err != nil {
			o.fail(w, upstreamError(req.name+"@"+dgst.String(), err, codeManifestUnknown))
			return o
		}
		h.manifests.add(key, m)
	}
	hdr := w.Header()
	ct := m.ContentType
	if ct == "" {
		ct = m.Descriptor.MediaType
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("Docker-Content-Digest", dgst.String())
	hdr.Set("Etag", `"`+dgst.String()+`"`)
	contentLength(w, int64(len(m.Body)))
	w.WriteHeader(http.StatusOK)
	o.status, o.cached = http.StatusOK, ok
	if r.Method == http.MethodGet {
		n, _ := w.Write(m.Body)
		o.bytes = int64(n)
	}
	return o
}
