package resolver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
)

// This file streams blobs (layers, configs) from a registry to an engine:
// never buffered whole, hashed on the way, and the last byte held back
// until the hash is known, so that a reader of a wrong blob never sees a
// complete one (protocol.md §14).

// DefaultBlobIdleTimeout ends a blob stream when no byte has arrived from
// the registry for this long.
const DefaultBlobIdleTimeout = 30 * time.Second

// BlobOptions adjust OpenBlob.
type BlobOptions struct {
	// Range is an HTTP Range header value. A single range, "bytes=FIRST-"
	// or "bytes=FIRST-LAST", is passed to the registry as is; any other
	// value is ignored (RFC 9110 §14.2 lets a server ignore Range) and the
	// whole blob is opened.
	Range string
	// IdleTimeout ends the stream when no byte arrives for this long
	// (default DefaultBlobIdleTimeout).
	IdleTimeout time.Duration
}

// singleRange is the one Range form passed on: a single byte range.
var singleRange = lazyRegexp(`^bytes=[0-9]{1,19}-[0-9]{0,19}$`)

// Blob is an open blob stream. Read it to the end and Close it. Not safe
// for concurrent use.
type Blob struct {
	// Status is 200 for the whole blob, checked against Digest as it is
	// read; 206 for the range asked for, passed on unchecked (a part cannot
	// be hashed: the engine checks the whole); or 416 when the registry
	// cannot satisfy the range (no body).
	Status int
	// Size is the length of this response's body, -1 when the registry did
	// not say.
	Size int64
	// ContentRange is the registry's Content-Range (206 and 416).
	ContentRange string
	// ContentType is the registry's Content-Type, or
	// application/octet-stream when it sent none.
	ContentType string
	// Digest is the blob's digest.
	Digest digest.Digest
	// Endpoint is the registry that serves the stream.
	Endpoint Endpoint

	body    io.ReadCloser
	verify  digest.Digester // nil unless Status is 200
	held    byte
	hasHeld bool
	done    bool
	err     error
	n       int64

	idle     time.Duration
	timer    *time.Timer
	timedOut *atomic.Bool
	cancel   context.CancelFunc
	ref      string
	host     string
	close    sync.Once
}

// OpenBlob opens the blob dgst of the repository at eps, asking the
// endpoints with the pull capability in order, at most 16 of them, until
// one answers with content: 404, 5xx and unreachable registries are passed
// over; a refusal of ocidns's credentials ends the search. Authentication
// happens here, with the Resolver's credentials; none of it reaches the
// Blob's reader. Opening is bounded by the registry timeout (30 s); reading
// by opts.IdleTimeout between bytes, never in total.
//
// Read returns the blob's bytes as they arrive. For a whole blob the last
// byte is held back until the registry has sent everything and the bytes
// hash to dgst: a wrong blob ends in an *Error wrapping ErrDigestMismatch
// before its last byte, so whoever relays it can abort the transfer instead
// of ending it cleanly. Errors are *Error wrapping ErrNotFound,
// ErrUnauthorized, ErrTimeout, ErrUpstream, ErrDigestMismatch, or
// ErrInvalidReference (dgst is not a digest).
func (r *Resolver) OpenBlob(ctx context.Context, eps []Endpoint, dgst digest.Digest, opts BlobOptions) (*Blob, error) {
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = DefaultBlobIdleTimeout
	}
	rng := ""
	if singleRange().MatchString(opts.Range) {
		rng = opts.Range
	}
	var out *Blob
	err := r.cur.Load().eachEndpoint(ctx, eps, dgst, discovery.CapPull, "GET blob", func(ctx context.Context, c *registryClient, t *target, tr *trace.Trace) error {
		b, err := c.openBlob(ctx, t, dgst, rng, idle, tr)
		if err == nil {
			b.Endpoint = endpointOf(t.ep)
			out = b
		}
		return err
	})
	return out, err
}

// BlobInfo is what a registry says of a blob without sending it.
type BlobInfo struct {
	// Size is the blob's length, -1 when the registry did not say.
	Size int64
	// ContentType is the registry's Content-Type, or
	// application/octet-stream.
	ContentType string
	// Endpoint is the registry that has it.
	Endpoint Endpoint
}

// StatBlob asks the endpoints with the pull capability, in order as
// OpenBlob does, whether they have blob dgst (HEAD), and returns the first
// answer. Errors as for OpenBlob.
func (r *Resolver) StatBlob(ctx context.Context, eps []Endpoint, dgst digest.Digest) (BlobInfo, error) {
	var out BlobInfo
	err := r.cur.Load().eachEndpoint(ctx, eps, dgst, discovery.CapPull, "HEAD blob", func(ctx context.Context, c *registryClient, t *target, tr *trace.Trace) error {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		rq := &regRequest{t: t, method: http.MethodHead, url: t.blobURL(dgst), accept: "*/*", step: "HEAD blob", tr: tr}
		resp, ev, err := c.do(ctx, rq)
		if err != nil {
			return err
		}
		defer closeBody(resp)
		if resp.StatusCode != http.StatusOK {
			return traceFailure(tr, ev, c.statusError(rq, resp, "blob "+t.repo+"@"+dgst.String()))
		}
		ev.Decision += fmt.Sprintf("blob present, %d bytes", resp.ContentLength)
		tr.Add(ev)
		out = BlobInfo{Size: resp.ContentLength, ContentType: blobContentType(resp),
			Endpoint: endpointOf(t.ep)}
		return nil
	})
	return out, err
}

func (t *target) blobURL(d digest.Digest) string {
	return t.base + "/v2/" + t.repo + "/blobs/" + d.String()
}

func blobContentType(resp *http.Response) string {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// openBlob sends the GET and returns the stream once the registry has
// answered with content.
func (c *registryClient) openBlob(ctx context.Context, t *target, dgst digest.Digest, rng string, idle time.Duration, tr *trace.Trace) (*Blob, error) {
	ctx, cancel := context.WithCancel(ctx)
	timedOut := new(atomic.Bool)
	// One timer bounds the request, then each wait for bytes.
	timer := time.AfterFunc(c.cfg.Timeout, func() { timedOut.Store(true); cancel() })
	fail := func(err error) (*Blob, error) {
		timer.Stop()
		cancel()
		return nil, err
	}
	what := "blob " + t.repo + "@" + dgst.String()
	rq := &regRequest{t: t, method: http.MethodGet, url: t.blobURL(dgst), accept: "*/*", step: "GET blob", tr: tr, rangeHeader: rng}
	resp, ev, err := c.do(ctx, rq)
	if err != nil {
		if timedOut.Load() {
			err = t.err(rq.step, ErrTimeout, fmt.Errorf("%s: no answer within %v", what, c.cfg.Timeout))
		}
		return fail(err)
	}
	b := &Blob{Status: resp.StatusCode, Size: resp.ContentLength, ContentType: blobContentType(resp), Digest: dgst,
		body: resp.Body, idle: idle, timer: timer, timedOut: timedOut, cancel: cancel, ref: t.refName, host: t.host}
	switch {
	case resp.StatusCode == http.StatusOK:
		b.verify = dgst.Algorithm().Digester()
		ev.Decision += fmt.Sprintf("streaming %s, hashed on the way", sizeText(resp.ContentLength))
	case resp.StatusCode == http.StatusPartialContent && rng != "":
		b.ContentRange = resp.Header.Get("Content-Range")
		if b.ContentRange == "" {
			closeBody(resp)
			return fail(traceFailure(tr, ev, t.err(rq.step, ErrUpstream, fmt.Errorf("%s: HTTP 206 without Content-Range", what))))
		}
		ev.Decision += "streaming " + b.ContentRange + " (a range: the engine checks the whole)"
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && rng != "":
		b.ContentRange = resp.Header.Get("Content-Range")
		closeBody(resp)
		b.body, b.Size, b.done = http.NoBody, 0, true
		ev.Decision += "range " + rng + " not satisfiable"
	default:
		return fail(traceFailure(tr, ev, c.statusError(rq, resp, what)))
	}
	tr.Add(ev)
	timer.Reset(idle)
	return b, nil
}

func sizeText(n int64) string {
	if n < 0 {
		return "a blob of unknown size"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Read reads the next bytes of the blob; see OpenBlob for what it withholds
// and why.
func (b *Blob) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.verify == nil {
		n, err := b.upstream(p)
		if err == io.EOF {
			b.done = true
		} else if err != nil {
			b.err = err
		}
		return n, err
	}
	off := 0
	if b.hasHeld {
		p[0] = b.held
		off = 1
	}
	if off == len(p) {
		// Room for the held byte only: it may go when another follows.
		var one [1]byte
		n, err := b.upstream(one[:])
		switch {
		case n == 1:
			b.held = one[0]
			return 1, nil
		case err == io.EOF:
			return b.finish(1)
		case err != nil:
			b.err = err
			return 0, err
		}
		return 0, nil
	}
	n, err := b.upstream(p[off:])
	total := off + n
	switch {
	case err == io.EOF:
		return b.finish(total)
	case err != nil:
		b.err = err
		return 0, err
	case total == 0:
		return 0, nil
	}
	b.held, b.hasHeld = p[total-1], true
	return total - 1, nil
}

// finish ends a whole blob: the bytes in hand (total, the held byte
// included) go out only when the blob hashes to its digest.
func (b *Blob) finish(total int) (int, error) {
	b.hasHeld = false
	if got := b.verify.Digest(); got != b.Digest {
		b.err = newError(b.ref, b.host, "GET blob", ErrDigestMismatch,
			fmt.Errorf("blob %s: its %d bytes hash to %s", b.Digest, b.n, got))
		return 0, b.err
	}
	b.done = true
	return total, io.EOF
}

// upstream reads from the registry, hashing what it reads and restarting
// the idle timer on progress.
func (b *Blob) upstream(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if n > 0 {
		b.n += int64(n)
		if b.verify != nil {
			b.verify.Hash().Write(p[:n])
		}
		b.timer.Reset(b.idle)
	}
	switch {
	case err == nil, err == io.EOF:
		return n, err
	case b.timedOut.Load():
		return n, newError(b.ref, b.host, "GET blob", ErrTimeout,
			fmt.Errorf("blob %s: no data from the registry for %v after %d bytes", b.Digest, b.idle, b.n))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return n, newError(b.ref, b.host, "GET blob", transportKind(err), err)
	}
	return n, newError(b.ref, b.host, "GET blob", ErrUpstream,
		fmt.Errorf("blob %s: reading after %d bytes: %w", b.Digest, b.n, redactURLError(err)))
}

// Close ends the stream and releases the connection. It is safe to call
// more than once.
func (b *Blob) Close() error {
	b.close.Do(func() {
		if b.timer != nil {
			b.timer.Stop()
		}
		if b.cancel != nil {
			b.cancel()
		}
		if b.body != nil {
			b.body.Close()
		}
	})
	return nil
}
