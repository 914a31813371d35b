package frontdoor

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver"
)

// This file passes the registry's listings through: tags (GET
// /v2/<name>/tags/list) and referrers (GET /v2/<name>/referrers/<digest>).
// A page link is rebuilt to point back at the front door, under the name
// the engine used.

func (h *Handler) serveTags(w http.ResponseWriter, r *http.Request, req request) outcome {
	var o outcome
	n, last := req.query.Get("n"), req.query.Get("last")
	if n != "" {
		if v, err := strconv.Atoi(n); err != nil || v < 0 || len(n) > 9 {
			o.fail(w, newAPIError(http.StatusBadRequest, codeUnsupported, "n=%q: want a count", truncate(n)))
			return o
		}
	}
	if last != "" && reference.ValidateTag(last) != nil {
		o.fail(w, newAPIError(http.StatusBadRequest, codeUnsupported, "last=%q: want a tag", truncate(last)))
		return o
	}
	loc, aerr := h.locate(r.Context(), req, codeNameUnknown)
	if aerr != nil {
		o.fail(w, aerr)
		return o
	}
	l, err := h.cfg.Resolver.ListTags(r.Context(), loc.Endpoints, n, last)
	if err != nil {
		o.fail(w, upstreamError(req.name, err, codeNameUnknown))
		return o
	}
	// The registry names its own repository; the engine asked under
	// another name.
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(l.Body, &list); err != nil {
		o.fail(w, upstreamError(req.name, &resolver.Error{Ref: req.name, Host: l.Endpoint.Host(), Step: "GET tags",
			Kind: resolver.ErrUpstream, Err: err}, codeNameUnknown))
		return o
	}
	list.Name = req.clientName
	if list.Tags == nil {
		list.Tags = []string{}
	}
	body, _ := json.Marshal(list)
	return h.writeListing(w, r, req, "application/json", body, l, "/tags/list")
}

func (h *Handler) serveReferrers(w http.ResponseWriter, r *http.Request, req request) outcome {
	var o outcome
	loc, aerr := h.locate(r.Context(), req, codeManifestUnknown)
	if aerr != nil {
		o.fail(w, aerr)
		return o
	}
	at := req.query.Get("artifactType")
	if len(at) > 255 {
		o.fail(w, newAPIError(http.StatusBadRequest, codeUnsupported, "artifactType longer than 255 bytes"))
		return o
	}
	l, err := h.cfg.Resolver.Referrers(r.Context(), loc.Endpoints, req.dgst, at)
	if err != nil {
		o.fail(w, upstreamError(req.name+"@"+req.dgst.String(), err, codeManifestUnknown))
		return o
	}
	if l.FiltersApplied != "" {
		w.Header().Set("OCI-Filters-Applied", l.FiltersApplied)
	}
	ct := l.ContentType
	if ct == "" {
		ct = "application/vnd.oci.image.index.v1+json"
	}
	return h.writeListing(w, r, req, ct, l.Body, l, "/referrers/"+req.dgst.String())
}

// writeListing sends a listing, with a Link to the next page rebuilt on
// the front door's own path.
func (h *Handler) writeListing(w http.ResponseWriter, r *http.Request, req request, ct string, body []byte, l resolver.Listing, suffix string) outcome {
	if l.Next != "" {
		q, _ := url.ParseQuery(l.Next)
		if req.ns {
			q.Set("ns", req.host)
		}
		w.Header().Set("Link", "</v2/"+req.clientName+suffix+"?"+q.Encode()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", ct)
	contentLength(w, int64(len(body)))
	w.WriteHeader(http.StatusOK)
	n, _ := w.Write(body)
	return outcome{status: http.StatusOK, bytes: int64(n)}
}
