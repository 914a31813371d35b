package frontdoor

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ocidns/ocidns/resolver"
)

// This file relays blobs: streamed, never buffered whole, checked against
// their digest on the way by the resolver's Blob, and aborted — the
// connection cut, never a clean end — when the check fails, so the engine
// sees a broken transfer rather than a complete wrong blob.

// copyBufferSize is the relay's buffer: one per stream.
const copyBufferSize = 64 << 10

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// statBlob answers HEAD of a blob from the registry's own HEAD.
func (h *Handler) statBlob(w http.ResponseWriter, r *http.Request, req request) outcome {
	var o outcome
	loc, aerr := h.locate(r.Context(), req, codeBlobUnknown)
	if aerr != nil {
		o.fail(w, aerr)
		return o
	}
	info, err := h.cfg.Resolver.StatBlob(r.Context(), loc.Endpoints, req.dgst)
	if err != nil {
		o.fail(w, upstreamError(req.name+"@"+req.dgst.String(), err, codeBlobUnknown))
		return o
	}
	hdr := w.Header()
	hdr.Set("Content-Type", info.ContentType)
	hdr.Set("Docker-Content-Digest", req.dgst.String())
	hdr.Set("Accept-Ranges", "bytes")
	if info.Size >= 0 {
		contentLength(w, info.Size)
	}
	w.WriteHeader(http.StatusOK)
	o.status = http.StatusOK
	return o
}

// serveBlob streams a blob. It waits up to StreamWait for one of
// MaxStreams turns, opens the stream within RequestTimeout, then relays it
// with no bound in total but IdleTimeout between any two writes.
func (h *Handler) serveBlob(w http.ResponseWriter, r *http.Request, req request) outcome {
	var o outcome
	if aerr := h.takeStream(r, req); aerr != nil {
		o.fail(w, aerr)
		return o
	}
	defer func() { <-h.streams }()

	loc, aerr := h.locateWithin(r, req)
	if aerr != nil {
		o.fail(w, aerr)
		return o
	}
	// The stream lives as long as the request; OpenBlob bounds its own
	// opening and each wait for bytes.
	b, err := h.cfg.Resolver.OpenBlob(r.Context(), loc.Endpoints, req.dgst,
		resolver.BlobOptions{Range: r.Header.Get("Range"), IdleTimeout: h.cfg.IdleTimeout})
	if err != nil {
		o.fail(w, upstreamError(req.name+"@"+req.dgst.String(), err, codeBlobUnknown))
		return o
	}
	defer b.Close()

	hdr := w.Header()
	hdr.Set("Content-Type", b.ContentType)
	hdr.Set("Docker-Content-Digest", req.dgst.String())
	hdr.Set("Accept-Ranges", "bytes")
	if b.ContentRange != "" {
		hdr.Set("Content-Range", b.ContentRange)
	}
	if b.Size >= 0 {
		contentLength(w, b.Size)
	}
	rc := http.NewResponseController(w)
	// The server's WriteTimeout suits short answers; a layer takes as long
	// as it takes, so each write gets IdleTimeout of its own instead.
	_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.IdleTimeout))
	w.WriteHeader(b.Status)
	o.status = b.Status
	// The engine learns at once that the stream is open, and each piece
	// goes out as it arrives rather than when a buffer fills.
	_ = rc.Flush()
	if rerr := h.copyBlob(w, rc, b, &o); rerr != nil {
		o.code, o.err = string(resolver.CodeOf(rerr)), rerr
		h.log(r, req, o, 0)
		// Cut the connection: a clean end would pass a short or wrong blob
		// off as whole.
		panic(http.ErrAbortHandler)
	}
	return o
}

// takeStream waits up to StreamWait for one of the MaxStreams places of a
// blob stream; the caller gives it back.
func (h *Handler) takeStream(r *http.Request, req request) *apiError {
	wait := time.NewTimer(h.cfg.StreamWait)
	defer wait.Stop()
	select {
	case h.streams <- struct{}{}:
		return nil
	case <-wait.C:
		return newAPIError(http.StatusTooManyRequests, codeTooManyRequests, "too many blob streams in flight")
	case <-r.Context().Done():
		return upstreamError(req.name, r.Context().Err(), codeBlobUnknown)
	}
}

// copyBlob copies b to the engine, counting the bytes in o, each write
// with IdleTimeout of its own and flushed at once. It returns the error of
// reading b, if any: an engine that went away is recorded in o, not
// returned.
func (h *Handler) copyBlob(w http.ResponseWriter, rc *http.ResponseController, b io.Reader, o *outcome) error {
	bufp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bufp)
	buf := *bufp
	for {
		// A TLS upstream yields one 16 KiB record a read: gather a few
		// before writing, for fewer and larger writes to the engine.
		n, rerr := 0, error(nil)
		for n < len(buf)/2 && rerr == nil {
			var m int
			m, rerr = b.Read(buf[n:])
			n += m
		}
		if n > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.IdleTimeout))
			m, werr := w.Write(buf[:n])
			if werr == nil {
				werr = rc.Flush()
			}
			o.bytes += int64(m)
			if werr != nil {
				// The engine went away or stopped reading: nothing to tell it.
				o.code, o.err = "CLIENT_GONE", werr
				return nil
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// locateWithin is locate bounded by RequestTimeout.
func (h *Handler) locateWithin(r *http.Request, req request) (resolver.Location, *apiError) {
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
	defer cancel()
	return h.locate(ctx, req, codeBlobUnknown)
}
