package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/reference"
)

// The HTTPS well-known document (docs/protocol.md §5) and its limits (§11).
const (
	// WellKnownPath is where a host publishes its document.
	WellKnownPath = "/.well-known/oci-discovery"
	// WellKnownMaxBytes bounds the document: a larger body is an error.
	WellKnownMaxBytes = 64 << 10
	// WellKnownMaxRedirects bounds the redirects followed to the document.
	WellKnownMaxRedirects = 5
	// WellKnownMinMaxAge and WellKnownMaxMaxAge clamp Cache-Control max-age;
	// WellKnownDefaultMaxAge applies when the response sets none.
	WellKnownMinMaxAge     = 5 * time.Minute
	WellKnownMaxMaxAge     = 48 * time.Hour
	WellKnownDefaultMaxAge = 24 * time.Hour
	// wellKnownTimeout bounds a fetch whose context and client set no limit,
	// so that a stalled server cannot hold a caller forever.
	wellKnownTimeout = 30 * time.Second
)

// ErrWellKnownUnknown: the well-known document could not be read or is
// invalid, so whether the host maps the name is unknown. Discovery must not
// fall through to a lower source. Wrapped by *WellKnownError.
var ErrWellKnownUnknown = errors.New("well-known document unknown")

// Causes of an unknown well-known document that a linter tells apart; each
// is wrapped with the details (sizes, URLs) in the *WellKnownError.
var (
	// ErrWellKnownTooLarge: the body is over WellKnownMaxBytes.
	ErrWellKnownTooLarge = errors.New("well-known document too large")
	// ErrWellKnownRedirect: too many redirects, or one to plain HTTP.
	ErrWellKnownRedirect = errors.New("well-known redirect refused")
)

// WellKnown is a fetched, valid well-known document.
type WellKnown struct {
	// Mappings in document order; a namespace with several registries
	// gives one Mapping per registry (mirrors).
	Mappings []Mapping
	// Signers are the keys of the document's "signers" member
	// (ParseWellKnownSigners), Source set to SourceWellKnown; a client
	// uses them only when the document came over verified TLS (URL is
	// https://).
	Signers []PublishedKey
	// MaxAge is how long the document may be cached: Cache-Control max-age
	// (minus Age) clamped to [WellKnownMinMaxAge, WellKnownMaxMaxAge],
	// WellKnownMinMaxAge for no-store/no-cache, WellKnownDefaultMaxAge when
	// absent.
	MaxAge time.Duration
	// Status is the HTTP status of the final response (200).
	Status int
	// URL is the URL requested at the host, before any redirect: its scheme
	// says whether the document was authenticated by the host's TLS
	// certificate (redirects are in the trace).
	URL string
}

// WellKnownError is a failed fetch of a host's well-known document: the
// host, the URL requested, the HTTP status when there was one, and the cause.
// It wraps ErrWellKnownUnknown and the cause (a *DocumentError for an invalid
// document, a context error for a timeout).
type WellKnownError struct {
	Host   string
	URL    string
	Status int
	Err    error
}

// Error names the host, the URL and the cause (with the HTTP status).
func (e *WellKnownError) Error() string {
	return fmt.Sprintf("well-known document of %s (%s): %v", e.Host, e.URL, e.Err)
}

// Is reports ErrWellKnownUnknown.
func (e *WellKnownError) Is(target error) bool { return target == ErrWellKnownUnknown }

// Unwrap returns the cause.
func (e *WellKnownError) Unwrap() error { return e.Err }

// FetchWellKnown fetches and parses https://<host>/.well-known/oci-discovery,
// host being host[:port] (http:// when opt allows the host as insecure).
//
//   - 200 with a valid document: the document, its MaxAge and URL.
//   - 404 and 410: (nil, nil) — the host publishes no document.
//   - anything else — other statuses, 5xx, timeouts, TLS failures, a body
//     over WellKnownMaxBytes, invalid JSON or mappings, more than
//     WellKnownMaxRedirects redirects, a redirect from HTTPS to plain HTTP —
//     a *WellKnownError wrapping ErrWellKnownUnknown. When ctx ends during
//     the fetch, the error wraps ctx's error, whatever part of a body came.
//
// The Content-Type is not trusted (nor required). client nil means
// http.DefaultClient; it is not modified (its redirect policy applies after
// FetchWellKnown's own). Without a deadline on ctx or a client Timeout, the
// fetch is bounded by 30s. At most WellKnownMaxBytes+1 bytes are read.
// Each request, redirect and the decision are trace events in
// trace.FromContext(ctx).
func FetchWellKnown(ctx context.Context, client *http.Client, host string, opt ParseOptions) (*WellKnown, error) {
	if client == nil {
		client = http.DefaultClient
	}
	f, err := newWellKnownFetch(ctx, host, opt)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok && client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wellKnownTimeout)
		defer cancel()
	}
	resp, err := f.get(ctx, client)
	if err != nil {
		return f.unreachable(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusGone:
		return f.absent(resp)
	default:
		return f.fail(resp.StatusCode, f.statusError(resp))
	}
	body, err := f.readBody(resp)
	if err == nil {
		var (
			ms   []Mapping
			keys []PublishedKey
		)
		if ms, keys, err = ParseWellKnownWithSigners(body, opt); err == nil {
			return f.document(resp, ms, keys), nil
		}
	}
	if ctx.Err() != nil {
		// The deadline came while the body was read: the document is
		// unknown because it was cut short, not because it is invalid.
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return f.fail(resp.StatusCode, err)
}

// wellKnownFetch is one fetch of a host's document: where it goes, and
// the trace its requests and decision are told to.
type wellKnownFetch struct {
	tr    *trace.Trace
	host  string // as given
	auth  authority
	url   string
	opt   ParseOptions
	start time.Time
}

// newWellKnownFetch validates host and chooses the URL: https, or http
// for a host the operator marked insecure.
func newWellKnownFetch(ctx context.Context, host string, opt ParseOptions) (*wellKnownFetch, error) {
	a, err := parseAuthority(host)
	if err != nil {
		return nil, &WellKnownError{Host: host, URL: "https://" + host + WellKnownPath, Err: fmt.Errorf("invalid host: %w", err)}
	}
	scheme := "https"
	if insecureAllowed(opt, a) {
		scheme = "http"
	}
	return &wellKnownFetch{tr: trace.FromContext(ctx), host: host, auth: a, url: scheme + "://" + a.String() + WellKnownPath,
		opt: opt, start: time.Now()}, nil
}

// get sends the request with client's transport and FetchWellKnown's
// redirect policy (then client's own).
func (f *wellKnownFetch) get(ctx context.Context, client *http.Client) (*http.Response, error) {
	c := *client // shallow copy: the caller's client keeps its redirect policy
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := f.checkRedirect(req, via); err != nil {
			return err
		}
		if client.CheckRedirect != nil {
			return client.CheckRedirect(req, via)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil { // not sent: the URL is built from a validated host
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	return c.Do(req)
}

// checkRedirect refuses more than WellKnownMaxRedirects redirects and any
// to plain HTTP but between insecure hosts, and traces each one followed.
func (f *wellKnownFetch) checkRedirect(req *http.Request, via []*http.Request) error {
	from := via[len(via)-1].URL
	if len(via) > WellKnownMaxRedirects {
		return fmt.Errorf("%w: more than %d redirects (the next to %s)", ErrWellKnownRedirect, WellKnownMaxRedirects, req.URL.Redacted())
	}
	if req.URL.Scheme != "https" {
		for _, v := range via {
			if v.URL.Scheme == "https" {
				return fmt.Errorf("%w: from %s to %s: never from HTTPS to plain HTTP", ErrWellKnownRedirect, from.Redacted(), req.URL.Redacted())
			}
		}
		if ra, err := parseAuthority(req.URL.Host); err != nil || !insecureAllowed(f.opt, ra) {
			return fmt.Errorf("%w: to %s: plain HTTP only for hosts marked insecure", ErrWellKnownRedirect, req.URL.Redacted())
		}
	}
	outcome, code := "", trace.NoResponse
	if req.Response != nil {
		outcome, code = strconv.Itoa(req.Response.StatusCode), req.Response.StatusCode
	}
	f.tr.Add(trace.Event{Source: "https", Query: "GET " + from.Redacted(), Server: from.Host, Outcome: outcome,
		Decision: fmt.Sprintf("redirect %d of at most %d to %s", len(via), WellKnownMaxRedirects, req.URL.Redacted()),
		Request:  trace.HTTP, Status: code})
	return nil
}

// unreachable is the outcome of a request that got no response: absent
// when the host has no address or refuses the connection, else unknown.
func (f *wellKnownFetch) unreachable(err error) (*WellKnown, error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.URL == f.url && noServer(ue.Err) {
			// The host has no address or nothing listens for HTTPS: no
			// document can exist there, and falling through only leads to
			// the same host's own registry, never elsewhere.
			f.tr.Add(trace.Event{Source: "https", Query: "GET " + f.url, Server: f.auth.String(), Outcome: "no server",
				Duration: time.Since(f.start), Decision: "no well-known document (" + ue.Err.Error() + "): absent, fall through",
				Request: trace.HTTP, Status: trace.NoResponse})
			return nil, nil
		}
		err = ue.Err // the URL is in the message already
	}
	return f.fail(0, err)
}

// absent is the outcome of a 404 or 410.
func (f *wellKnownFetch) absent(resp *http.Response) (*WellKnown, error) {
	final := resp.Request.URL
	f.tr.Add(trace.Event{Source: "https", Query: "GET " + final.Redacted(), Server: final.Host, Outcome: strconv.Itoa(resp.StatusCode),
		Duration: time.Since(f.start), Decision: "no well-known document: absent, fall through", Request: trace.HTTP, Status: resp.StatusCode})
	return nil, nil
}

// statusError says why a status other than 200, 404 and 410 makes the
// document unknown.
func (f *wellKnownFetch) statusError(resp *http.Response) error {
	from := ""
	if final := resp.Request.URL; final.String() != f.url {
		from = " from " + final.Redacted() // after redirects
	}
	return fmt.Errorf("HTTP status %q%s: only 200 is a document, 404 and 410 mean absent", resp.Status, from)
}

// readBody reads at most WellKnownMaxBytes; more is an error.
func (f *wellKnownFetch) readBody(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > WellKnownMaxBytes {
		return nil, fmt.Errorf("%w: body of %d bytes is over the %d KiB limit", ErrWellKnownTooLarge, resp.ContentLength, WellKnownMaxBytes>>10)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, WellKnownMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if len(body) > WellKnownMaxBytes {
		return nil, fmt.Errorf("%w: body is over the %d KiB limit", ErrWellKnownTooLarge, WellKnownMaxBytes>>10)
	}
	return body, nil
}

// document is the outcome of a valid document.
func (f *wellKnownFetch) document(resp *http.Response, ms []Mapping, keys []PublishedKey) *WellKnown {
	final := resp.Request.URL
	maxAge := wellKnownMaxAge(resp.Header)
	what := fmt.Sprintf("well-known document with %d mapping(s)", len(ms))
	if len(keys) > 0 {
		what += fmt.Sprintf(" and %d signing key(s)", len(keys))
	}
	for i := range keys {
		keys[i].Source = SourceWellKnown
	}
	f.tr.Add(trace.Event{Source: "https", Query: "GET " + final.Redacted(), Server: final.Host, Outcome: strconv.Itoa(resp.StatusCode),
		TTL: maxAge, Duration: time.Since(f.start), Decision: what, Request: trace.HTTP, Status: resp.StatusCode})
	return &WellKnown{Mappings: ms, Signers: keys, MaxAge: maxAge, Status: resp.StatusCode, URL: f.url}
}

// fail is the outcome of an unknown document: status is the response's,
// 0 when there was none.
func (f *wellKnownFetch) fail(status int, err error) (*WellKnown, error) {
	outcome, code := "error", trace.NoResponse
	if status != 0 {
		outcome, code = strconv.Itoa(status), status
	}
	decision := "well-known document unknown (if discovery reaches this source it fails here, no fall-through): " + err.Error()
	if errors.Is(err, context.Canceled) {
		decision = "fetch abandoned: " + err.Error()
	}
	f.tr.Add(trace.Event{Source: "https", Query: "GET " + f.url, Server: f.auth.String(), Outcome: outcome, Duration: time.Since(f.start),
		Decision: decision, Request: trace.HTTP, Status: code})
	return nil, &WellKnownError{Host: f.host, URL: f.url, Status: status, Err: err}
}

// wellKnownMaxAge reads Cache-Control (every header line, directives
// case-insensitive) and Age: no-store or no-cache give the minimum; the
// smallest max-age wins, an invalid one counts as 0; the time already spent
// in caches (Age) is subtracted; the result is clamped. Expires is ignored.
func wellKnownMaxAge(h http.Header) time.Duration {
	const maxSeconds = 1 << 31 // RFC 9111 §1.2.2: the largest delta-seconds to keep
	seconds := int64(-1)
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.TrimSpace(name)
			switch {
			case strings.EqualFold(name, "no-store"), strings.EqualFold(name, "no-cache"):
				return WellKnownMinMaxAge
			case strings.EqualFold(name, "max-age"):
				n, ok := deltaSeconds(strings.Trim(strings.TrimSpace(value), `"`), maxSeconds)
				if !ok {
					n = 0
				}
				if seconds < 0 || n < seconds {
					seconds = n
				}
			}
		}
	}
	if seconds < 0 {
		return WellKnownDefaultMaxAge
	}
	if age, ok := deltaSeconds(strings.TrimSpace(h.Get("Age")), maxSeconds); ok {
		seconds = max(seconds-age, 0)
	}
	return min(max(time.Duration(seconds)*time.Second, WellKnownMinMaxAge), WellKnownMaxMaxAge)
}

// deltaSeconds parses 1*DIGIT, saturating at limit.
func deltaSeconds(s string, limit int64) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = min(n*10+int64(s[i]-'0'), limit)
	}
	return n, true
}

// DocumentError is an invalid well-known document: the JSON path of the
// value at fault ("namespaces[2].registries[0].url"; "" for the document
// itself), its byte offset in the body, and the cause. It wraps ErrMalformed
// and the cause.
type DocumentError struct {
	Path   string
	Offset int64
	Err    error
}

// Error names the JSON path, the byte offset and the cause.
func (e *DocumentError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("well-known document: at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("well-known document: %s at offset %d: %v", e.Path, e.Offset, e.Err)
}

// Is reports ErrMalformed, so that errors.Is(err, ErrMalformed) holds.
func (e *DocumentError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the cause.
func (e *DocumentError) Unwrap() error { return e.Err }

// ParseWellKnown parses a well-known document:
//
//	{"version": 1,
//	 "namespaces": [
//	   {"prefix": "acme", "delegate": "acme.example"},
//	   {"prefix": "tools", "registries": [{"url": "https://ghcr.io/example-tools",
//	     "priority": 10, "weight": 5, "caps": ["resolve"]}]},
//	   {"prefix": "", "registries": [{"url": "https://registry.example.com"}]}]}
//
// version must be the integer 1. Each namespace has an optional prefix (""
// or absent: the whole host) and exactly one target, delegate or a
// non-empty registries list; the values follow the TXT record's rules
// (see ParseTXT), and a namespace with several registries gives one Mapping
// per registry (mirrors). Unknown fields are ignored; null is the same as
// absent; a key twice in one object, trailing data or a body over
// WellKnownMaxBytes make the document invalid. Mapping.Record describes the
// entry: `well-known namespaces[1].registries[0] prefix="tools" registry=https://...`.
//
// The "signers" member (ParseWellKnownSigners, docs/protocol.md §15.1) is
// read too: its keys are not returned here (ParseWellKnownWithSigners and
// FetchWellKnown return them), but a malformed member makes the document
// invalid, as a malformed namespace does, since it may carry a
// sign=required.
//
// Errors are a *DocumentError (wrapping ErrMalformed) naming the JSON path
// and byte offset. A wrong version is reported before any other fault, since
// another version may mean another schema.
func ParseWellKnown(body []byte, opt ParseOptions) ([]Mapping, error) {
	ms, _, err := ParseWellKnownWithSigners(body, opt)
	return ms, err
}

// ParseWellKnownWithSigners is ParseWellKnown returning the keys of the
// document's "signers" member too, in one pass over the document.
func ParseWellKnownWithSigners(body []byte, opt ParseOptions) ([]Mapping, []PublishedKey, error) {
	if len(body) > WellKnownMaxBytes {
		return nil, nil, &DocumentError{Offset: WellKnownMaxBytes, Err: fmt.Errorf("%w: document is over the %d KiB limit", ErrWellKnownTooLarge, WellKnownMaxBytes>>10)}
	}
	p := &wkParser{body: body, dec: json.NewDecoder(bytes.NewReader(body)), opt: opt}
	p.dec.UseNumber()
	t, off, err := p.token("")
	if err != nil {
		return nil, nil, err
	}
	if t != json.Delim('{') {
		return nil, nil, &DocumentError{Offset: off, Err: fmt.Errorf("document is %s, want a JSON object", describeToken(t))}
	}
	var versionErr error
	versionSeen := false
	err = p.object("", func(key string, keyOff int64) error {
		switch key {
		case "version":
			versionSeen = true
			return p.version(&versionErr)
		case "namespaces":
			return p.namespaces()
		case "signers":
			keys, err := p.signers()
			p.keys = append(p.keys, keys...)
			return err
		default:
			return p.skip(key)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	off = p.dec.InputOffset()
	for off < int64(len(body)) && strings.IndexByte(" \t\r\n", body[off]) >= 0 {
		off++
	}
	if off < int64(len(body)) {
		return nil, nil, &DocumentError{Offset: off, Err: errors.New("data after the document's closing '}'")}
	}
	if !versionSeen && versionErr == nil {
		versionErr = &DocumentError{Path: "version", Offset: 0, Err: errors.New("no version: want \"version\": 1")}
	}
	if versionErr != nil {
		return nil, nil, versionErr
	}
	if p.err != nil {
		return nil, nil, p.err
	}
	return p.ms, p.keys, nil
}

// version reads the document's version: 1, or *bad says what is wrong
// with it (the error that wins over any other of the document).
func (p *wkParser) version(bad *error) error {
	t, off, err := p.token("version")
	if err != nil {
		return err
	}
	if n, ok := t.(json.Number); !ok {
		*bad = &DocumentError{Path: "version", Offset: off, Err: fmt.Errorf("version is %s, want the number 1", describeToken(t))}
		return p.finish(t)
	} else if n != "1" {
		*bad = &DocumentError{Path: "version", Offset: off, Err: fmt.Errorf("unsupported version %s: this client reads version 1", n)}
	}
	return nil
}

// wkParser walks the document token by token, so that it sees keys exactly
// (encoding/json's struct decoding matches them case-insensitively and lets
// a duplicate silently win) and knows every value's offset and path. Syntax
// errors end the walk; the first semantic fault is kept in err while the walk
// goes on, so that a wrong version later in the document still wins.
type wkParser struct {
	body []byte
	dec  *json.Decoder
	opt  ParseOptions
	err  *DocumentError
	ms   []Mapping
	keys []PublishedKey // of the "signers" member
}

// off is the offset where the next token starts.
func (p *wkParser) off() int64 {
	o := p.dec.InputOffset()
	for o < int64(len(p.body)) {
		switch p.body[o] {
		case ' ', '\t', '\r', '\n', ':', ',':
			o++
			continue
		}
		break
	}
	return o
}

func (p *wkParser) token(path string) (json.Token, int64, error) {
	off := p.off()
	t, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// se.Offset counts from the start of the value being scanned,
			// not of the body: the token's start is the useful place.
			err = fmt.Errorf("invalid JSON: %v", se)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			off = int64(len(p.body))
			err = errors.New("invalid JSON: unexpected end of document")
		default:
			err = fmt.Errorf("invalid JSON: %w", err)
		}
		return nil, off, &DocumentError{Path: path, Offset: off, Err: err}
	}
	return t, off, nil
}

// fault keeps the first semantic fault.
func (p *wkParser) fault(path string, off int64, err error) {
	if p.err == nil {
		p.err = &DocumentError{Path: path, Offset: off, Err: err}
	}
}

// finish consumes the rest of a value whose first token t was read.
func (p *wkParser) finish(t json.Token) error {
	if t != json.Delim('{') && t != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, _, err := p.token("")
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// skip consumes one value (an unknown field's).
func (p *wkParser) skip(path string) error {
	t, _, err := p.token(path)
	if err != nil {
		return err
	}
	return p.finish(t)
}

// object reads the members of an object whose '{' was read, through its
// '}', calling field for each key; a key twice is a fault.
func (p *wkParser) object(path string, field func(key string, off int64) error) error {
	var (
		keys []string
		many map[string]bool // past a few keys, so 64 KiB of keys is not quadratic
	)
	for p.dec.More() {
		t, off, err := p.token(path)
		if err != nil {
			return err
		}
		key, _ := t.(string) // the decoder only returns string keys here
		var dup bool
		if many != nil {
			dup = many[key]
			many[key] = true
		} else {
			dup = slices.Contains(keys, key)
			if keys = append(keys, key); len(keys) > 16 {
				many = make(map[string]bool, 2*len(keys))
				for _, k := range keys {
					many[k] = true
				}
			}
		}
		if dup {
			p.fault(joinPath(path, key), off, errors.New("duplicated key"))
		}
		if err := field(key, off); err != nil {
			return err
		}
	}
	_, _, err := p.token(path)
	return err
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// str reads a string or null (present false).
func (p *wkParser) str(path string) (s string, present bool, off int64, err error) {
	t, off, err := p.token(path)
	if err != nil {
		return "", false, off, err
	}
	switch v := t.(type) {
	case string:
		return v, true, off, nil
	case nil:
		return "", false, off, nil
	}
	p.fault(path, off, fmt.Errorf("%s is %s, want a string", lastKey(path), describeToken(t)))
	return "", false, off, p.finish(t)
}

// uint16 reads an integer 0..65535 or null.
func (p *wkParser) uint16(path string) (int, int64, error) {
	t, off, err := p.token(path)
	if err != nil {
		return 0, off, err
	}
	switch v := t.(type) {
	case json.Number:
		n, err := parseUint16(string(v))
		if err != nil {
			p.fault(path, off, err)
		}
		return n, off, nil
	case nil:
		return 0, off, nil
	}
	p.fault(path, off, fmt.Errorf("%s is %s, want an integer 0..65535", lastKey(path), describeToken(t)))
	return 0, off, p.finish(t)
}

// array reads an array or null, calling elem for each element.
func (p *wkParser) array(path string, elem func(i int, path string) error) (present bool, off int64, err error) {
	t, off, err := p.token(path)
	if err != nil {
		return false, off, err
	}
	switch t {
	case nil:
		return false, off, nil
	case json.Delim('['):
	default:
		p.fault(path, off, fmt.Errorf("%s is %s, want an array", lastKey(path), describeToken(t)))
		return false, off, p.finish(t)
	}
	for i := 0; p.dec.More(); i++ {
		if err := elem(i, path+"["+strconv.Itoa(i)+"]"); err != nil {
			return true, off, err
		}
	}
	_, _, err = p.token(path)
	return true, off, err
}

// objectValue reads an object value (or null, or a fault for another type).
func (p *wkParser) objectValue(path string, field func(key string, off int64) error) (present bool, off int64, err error) {
	t, off, err := p.token(path)
	if err != nil {
		return false, off, err
	}
	switch t {
	case nil:
		return false, off, nil
	case json.Delim('{'):
		return true, off, p.object(path, field)
	}
	p.fault(path, off, fmt.Errorf("%s is %s, want an object", lastKey(path), describeToken(t)))
	return false, off, p.finish(t)
}

func (p *wkParser) namespaces() error {
	_, _, err := p.array("namespaces", func(i int, path string) error { return p.namespace(i, path) })
	return err
}

type wkRegistry struct {
	url              string
	priority, weight int
	caps             Caps
	path             string
}

// wkNamespace is one namespaces[] entry as read, before its rules are
// checked.
type wkNamespace struct {
	index                       int
	path                        string
	prefix, delegate            string
	hasDelegate, hasRegistries  bool
	off, prefixOff, delegateOff int64
	regOff                      int64
	regs                        []wkRegistry
}

// namespace reads namespaces[i] and adds its mappings.
func (p *wkParser) namespace(i int, path string) error {
	ns := wkNamespace{index: i, path: path}
	present, off, err := p.objectValue(path, func(key string, _ int64) error { return p.namespaceField(&ns, key) })
	ns.off = off
	if err != nil || !present {
		if err == nil {
			p.fault(path, off, errors.New("namespace is null, want an object"))
		}
		return err
	}
	p.addNamespace(&ns)
	return nil
}

// namespaceField reads one member of a namespace object.
func (p *wkParser) namespaceField(ns *wkNamespace, key string) (err error) {
	switch key {
	case "prefix":
		ns.prefix, _, ns.prefixOff, err = p.str(ns.path + ".prefix")
	case "delegate":
		ns.delegate, ns.hasDelegate, ns.delegateOff, err = p.str(ns.path + ".delegate")
	case "registries":
		ns.hasRegistries, ns.regOff, err = p.array(ns.path+".registries", func(j int, rpath string) error {
			r, ok, err := p.registry(rpath)
			if ok {
				ns.regs = append(ns.regs, r)
			}
			return err
		})
	default:
		err = p.skip(joinPath(ns.path, key))
	}
	return err
}

// addNamespace checks a namespace's rules (a valid prefix, exactly one
// target) and adds its mappings: a delegation, or one a registry.
func (p *wkParser) addNamespace(ns *wkNamespace) {
	if ns.prefix != "" {
		if err := reference.ValidatePath(ns.prefix); err != nil {
			p.fault(ns.path+".prefix", ns.prefixOff, err)
			return
		}
	}
	switch {
	case ns.hasDelegate && ns.hasRegistries:
		p.fault(ns.path, ns.off, errors.New("both delegate and registries: want exactly one target"))
	case !ns.hasDelegate && !ns.hasRegistries:
		p.fault(ns.path, ns.off, errors.New("no target: want \"delegate\" or \"registries\""))
	case ns.hasDelegate:
		d, err := canonicalDNSName(ns.delegate)
		if err != nil {
			p.fault(ns.path+".delegate", ns.delegateOff, err)
			return
		}
		p.add(Mapping{Prefix: ns.prefix, Delegate: d, Caps: CapAll,
			Record: fmt.Sprintf("well-known namespaces[%d] prefix=%q delegate=%s", ns.index, ns.prefix, d)})
	case len(ns.regs) == 0 && p.err == nil:
		p.fault(ns.path+".registries", ns.regOff, errors.New("registries is empty: want at least one registry"))
	default:
		for _, r := range ns.regs {
			p.add(Mapping{Prefix: ns.prefix, Registry: r.url, Priority: r.priority, Weight: r.weight, Caps: r.caps,
				Record: r.record(ns.prefix)})
		}
	}
}

// record describes a registries[] entry in a Mapping.Record.
func (r wkRegistry) record(prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "well-known %s prefix=%q registry=%s", r.path, prefix, r.url)
	if r.priority != 0 {
		fmt.Fprintf(&b, " priority=%d", r.priority)
	}
	if r.weight != 0 {
		fmt.Fprintf(&b, " weight=%d", r.weight)
	}
	if r.caps != CapAll {
		fmt.Fprintf(&b, " caps=%s", r.caps)
	}
	return b.String()
}

// add keeps a mapping while the document is still valid.
func (p *wkParser) add(m Mapping) {
	if p.err == nil {
		p.ms = append(p.ms, m)
	}
}

// registry reads one registries[] entry; ok is false when it is invalid
// (the fault is recorded).
func (p *wkParser) registry(path string) (r wkRegistry, ok bool, err error) {
	var (
		rawURL  string
		hasURL  bool
		urlOff  int64
		hasCaps bool
	)
	r.path = path
	present, off, err := p.objectValue(path, func(key string, _ int64) error {
		var err error
		switch key {
		case "url":
			rawURL, hasURL, urlOff, err = p.str(path + ".url")
		case "priority":
			r.priority, _, err = p.uint16(path + ".priority")
		case "weight":
			r.weight, _, err = p.uint16(path + ".weight")
		case "caps":
			r.caps, hasCaps, err = p.caps(path + ".caps")
		default:
			err = p.skip(joinPath(path, key))
		}
		return err
	})
	if err != nil {
		return r, false, err
	}
	if !present {
		p.fault(path, off, errors.New("registry is null, want an object"))
		return r, false, nil
	}
	if !hasURL {
		p.fault(path, off, errors.New("registry has no \"url\""))
		return r, false, nil
	}
	r.url, err = canonicalRegistryURL(rawURL, p.opt)
	if err != nil {
		p.fault(path+".url", urlOff, err)
		return r, false, nil
	}
	if !hasCaps || r.caps == 0 {
		r.caps = CapAll
	}
	return r, true, nil
}

// caps reads ["resolve", "pull"]: non-empty, known, distinct.
func (p *wkParser) caps(path string) (Caps, bool, error) {
	var c Caps
	present, off, err := p.array(path, func(i int, epath string) error {
		s, ok, eoff, err := p.str(epath)
		if err != nil || !ok {
			if err == nil {
				p.fault(epath, eoff, errors.New("capability is null, want \"resolve\" or \"pull\""))
			}
			return err
		}
		bit, berr := parseCaps(s)
		switch {
		case berr != nil || strings.Contains(s, ","):
			if berr == nil {
				berr = fmt.Errorf("capability %q: one capability per array element", s)
			}
			p.fault(epath, eoff, berr)
		case c&bit != 0:
			p.fault(epath, eoff, fmt.Errorf("capability %q listed twice", s))
		}
		c |= bit
		return nil
	})
	if err == nil && present && c == 0 {
		p.fault(path, off, errors.New("caps is empty: want at least one of \"resolve\", \"pull\""))
	}
	return c, present, err
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func describeToken(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}

// FormatWellKnown returns the well-known document publishing ms (for
// `ocidns records`), indented, ending in a newline. Each mapping is validated
// and canonicalized as by ValidateMapping with every host allowed plain HTTP
// (the operator decides; clients apply their own --insecure-registry).
// Registry mappings with the same prefix become one namespace (mirrors);
// a delegate sharing a prefix with any other target is a *ConflictError.
// Namespaces keep the order in which their prefixes first appear;
// ParseWellKnown of the result gives ms back (up to that grouping and
// Record). A document over WellKnownMaxBytes is an error.
func FormatWellKnown(ms []Mapping) ([]byte, error) { return formatWellKnown(ms, nil) }

// formatWellKnown writes the document of ms, with a "signers" member when
// signers is not nil (FormatWellKnownWithSigners).
func formatWellKnown(ms []Mapping, signers any) ([]byte, error) {
	type registry struct {
		URL      string   `json:"url"`
		Priority int      `json:"priority,omitempty"`
		Weight   int      `json:"weight,omitempty"`
		Caps     []string `json:"caps,omitempty"`
	}
	type namespace struct {
		Prefix     string     `json:"prefix"`
		Delegate   string     `json:"delegate,omitempty"`
		Registries []registry `json:"registries,omitempty"`
	}
	doc := struct {
		Version    int         `json:"version"`
		Signers    any         `json:"signers,omitempty"`
		Namespaces []namespace `json:"namespaces"`
	}{Version: 1, Signers: signers, Namespaces: []namespace{}}

	valid := make([]Mapping, len(ms))
	for i, m := range ms {
		v, err := ValidateMapping(m, allowAllHTTP)
		if err != nil {
			return nil, err
		}
		valid[i] = v
	}
	if cs := Conflicts(valid); len(cs) > 0 {
		return nil, cs[0]
	}
	index := map[string]int{} // prefix → namespace
	for _, m := range valid {
		i, ok := index[m.Prefix]
		if !ok {
			i = len(doc.Namespaces)
			index[m.Prefix] = i
			ns := namespace{Prefix: m.Prefix, Delegate: m.Delegate}
			if m.Registry != "" {
				ns.Registries = []registry{}
			}
			doc.Namespaces = append(doc.Namespaces, ns)
		}
		if m.Registry != "" { // a delegation repeated adds nothing
			r := registry{URL: m.Registry, Priority: m.Priority, Weight: m.Weight}
			if m.Caps != CapAll {
				r.Caps = m.Caps.Strings()
			}
			doc.Namespaces[i].Registries = append(doc.Namespaces[i].Registries, r)
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	out = append(out, '\n')
	if len(out) > WellKnownMaxBytes {
		return nil, fmt.Errorf("well-known document of %d bytes is over the %d KiB limit clients accept", len(out), WellKnownMaxBytes>>10)
	}
	return out, nil
}

// noServer reports whether err says that no HTTPS server exists for the
// host: its name has no address (NXDOMAIN/NODATA), or the connection was
// refused. Timeouts, resets and TLS failures are not: they may hide a
// document the owner published.
func noServer(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
