package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// wellKnownServer starts an HTTPS server (httptest's own CA, trusted by
// srv.Client()) and returns it with the host:port to fetch from.
func wellKnownServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS failures are expected in some tests
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "https://")
}

func serveDoc(doc []byte, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != WellKnownPath {
			http.NotFound(w, r)
			return
		}
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Add(header[i], header[i+1])
		}
		w.Write(doc)
	}
}

func TestFetchWellKnownValid(t *testing.T) {
	doc := readWellKnownFile(t, "example.json")
	// "Content-Type not trusted": a text/plain document is read all the same.
	srv, host := wellKnownServer(t, serveDoc(doc, "Content-Type", "text/plain", "Cache-Control", "public, max-age=3600"))
	tr := trace.New(nil)
	wk, err := FetchWellKnown(trace.NewContext(context.Background(), tr), srv.Client(), host, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if wk.Status != 200 || wk.MaxAge != time.Hour || wk.URL != "https://"+host+WellKnownPath {
		t.Errorf("WellKnown{Status: %d, MaxAge: %v, URL: %q}", wk.Status, wk.MaxAge, wk.URL)
	}
	if !equalMappings(wk.Mappings, exampleMappings) {
		t.Errorf("mappings %+v", wk.Mappings)
	}
	ev := tr.Events()
	if len(ev) != 1 || ev[0].Source != "https" || ev[0].Query != "GET https://"+host+WellKnownPath ||
		ev[0].Outcome != "200" || ev[0].TTL != time.Hour || !strings.Contains(ev[0].Decision, "3 mapping(s)") {
		t.Errorf("trace %+v", ev)
	}
}

// "404/410 → absent (fall through)"
func TestFetchWellKnownAbsent(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusGone} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv, host := wellKnownServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
			tr := trace.New(nil)
			wk, err := FetchWellKnown(trace.NewContext(context.Background(), tr), srv.Client(), host, ParseOptions{})
			if wk != nil || err != nil {
				t.Errorf("status %d: %+v, %v; want absent (nil, nil)", status, wk, err)
			}
			if ev := tr.Events(); len(ev) != 1 || ev[0].Outcome != strconv.Itoa(status) || !strings.Contains(ev[0].Decision, "absent") {
				t.Errorf("status %d: trace %+v", status, ev)
			}
		})
	}
}

// "5xx, timeouts, TLS failures, invalid JSON → unknown (fail, no
// fall-through)"; statuses other than 200/404/410 too.
func TestFetchWellKnownUnknownStatus(t *testing.T) {
	for _, status := range []int{500, 502, 503, 403, 401, 204, 301} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv, host := wellKnownServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
			tr := trace.New(nil)
			wk, err := FetchWellKnown(trace.NewContext(context.Background(), tr), srv.Client(), host, ParseOptions{})
			if wk != nil || !errors.Is(err, ErrWellKnownUnknown) {
				t.Fatalf("status %d: %+v, %v; want ErrWellKnownUnknown", status, wk, err)
			}
			var we *WellKnownError
			if !errors.As(err, &we) || we.Status != status || we.Host != host || we.URL != "https://"+host+WellKnownPath {
				t.Errorf("status %d: %#v", status, we)
			}
			if msg := err.Error(); !strings.Contains(msg, host) || !strings.Contains(msg, WellKnownPath) || !strings.Contains(msg, strconv.Itoa(status)) {
				t.Errorf("status %d: error %q does not name host, URL and status", status, msg)
			}
			if ev := tr.Events(); len(ev) != 1 || ev[0].Outcome != strconv.Itoa(status) || !strings.Contains(ev[0].Decision, "no fall-through") {
				t.Errorf("status %d: trace %+v", status, ev)
			}
		})
	}
}

func TestFetchWellKnownInvalidDocument(t *testing.T) {
	for _, tc := range []struct {
		file string
		msg  string
	}{
		{"invalid-truncated.json", "invalid JSON"},
		{"invalid-version-2.json", "unsupported version 2"},
		{"invalid-two-targets.json", "namespaces[0] at offset"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			srv, host := wellKnownServer(t, serveDoc(readWellKnownFile(t, tc.file)))
			_, err := FetchWellKnown(context.Background(), srv.Client(), host, ParseOptions{})
			var de *DocumentError
			if !errors.Is(err, ErrWellKnownUnknown) || !errors.Is(err, ErrMalformed) || !errors.As(err, &de) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: %v; want ErrWellKnownUnknown wrapping a *DocumentError saying %q", tc.file, err, tc.msg)
			}
		})
	}
}

// "Body at most 64 KiB (larger → error naming the limit)", read at most
// limit+1 bytes: with a Content-Length, chunked, and from a server that never
// stops sending.
func TestFetchWellKnownOversized(t *testing.T) {
	pad := func(n int) []byte {
		head := `{"version":1,"namespaces":[{"registries":[{"url":"https://r.example"}]}]}`
		return []byte(head + strings.Repeat(" ", n-len(head)))
	}
	exact, _ := wellKnownServer(t, serveDoc(pad(WellKnownMaxBytes)))
	if _, err := FetchWellKnown(context.Background(), exact.Client(), strings.TrimPrefix(exact.URL, "https://"), ParseOptions{}); err != nil {
		t.Errorf("a document of exactly 64 KiB: %v", err)
	}

	for name, h := range map[string]http.HandlerFunc{
		"Content-Length": serveDoc(pad(WellKnownMaxBytes + 1)),
		"chunked": func(w http.ResponseWriter, r *http.Request) {
			body := pad(WellKnownMaxBytes + 1)
			w.Write(body[:1000])
			w.(http.Flusher).Flush()
			w.Write(body[1000:])
		},
		"endless": func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat(" ", 4096))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				if r.Context().Err() != nil {
					return
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv, host := wellKnownServer(t, h)
			_, err := FetchWellKnown(context.Background(), srv.Client(), host, ParseOptions{})
			if !errors.Is(err, ErrWellKnownUnknown) || !strings.Contains(err.Error(), "64 KiB limit") {
				t.Errorf("%s: %v, want an error naming the 64 KiB limit", name, err)
			}
		})
	}
}

// "plain HTTP only for hosts given with --insecure-registry"
func TestFetchWellKnownInsecureHost(t *testing.T) {
	doc := readWellKnownFile(t, "example.json")
	plain := httptest.NewServer(serveDoc(doc))
	defer plain.Close()
	host := strings.TrimPrefix(plain.URL, "http://")
	wk, err := FetchWellKnown(context.Background(), plain.Client(), host, insecureHosts(host))
	if err != nil || wk.URL != "http://"+host+WellKnownPath {
		t.Fatalf("insecure host: %+v, %v", wk, err)
	}
	// Not marked insecure: HTTPS is spoken to a plain server, which fails.
	if _, err := FetchWellKnown(context.Background(), plain.Client(), host, ParseOptions{}); !errors.Is(err, ErrWellKnownUnknown) {
		t.Fatalf("plain server, host not insecure: %v", err)
	}
	// From plain HTTP, a redirect to another plain host not marked insecure is refused.
	other := httptest.NewServer(serveDoc(doc))
	defer other.Close()
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+WellKnownPath, http.StatusFound)
	}))
	defer redir.Close()
	rhost := strings.TrimPrefix(redir.URL, "http://")
	if _, err := FetchWellKnown(context.Background(), redir.Client(), rhost, insecureHosts(rhost)); err == nil || !strings.Contains(err.Error(), "plain HTTP only for hosts marked insecure") {
		t.Fatalf("redirect to a plain host not marked insecure: %v", err)
	}
}

// "TLS failures → unknown": a client without the server's CA.
func TestFetchWellKnownBadCertificate(t *testing.T) {
	_, host := wellKnownServer(t, serveDoc(readWellKnownFile(t, "example.json")))
	client := &http.Client{Transport: &http.Transport{}} // system roots only
	_, err := FetchWellKnown(context.Background(), client, host, ParseOptions{})
	if !errors.Is(err, ErrWellKnownUnknown) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// "timeouts → unknown": the caller's deadline bounds the fetch.
func TestFetchWellKnownTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, host := wellKnownServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := FetchWellKnown(ctx, srv.Client(), host, ParseOptions{})
	if !errors.Is(err, ErrWellKnownUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled server: %v", err)
	}
}

func TestFetchWellKnownInvalidHost(t *testing.T) {
	for _, host := range []string{"", "a/b", "exa mple.com", "host:0", "user@host"} {
		t.Run(host, func(t *testing.T) {
			if _, err := FetchWellKnown(context.Background(), nil, host, ParseOptions{}); !errors.Is(err, ErrWellKnownUnknown) || !strings.Contains(err.Error(), "invalid host") {
				t.Errorf("host %q: %v", host, err)
			}
		})
	}
}

// redirector serves the document after exactly n redirects, each to another
// path on the same server.
func redirector(n int, doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hop := 0
		if p, ok := strings.CutPrefix(r.URL.Path, "/hop/"); ok {
			hop, _ = strconv.Atoi(p)
		} else if r.URL.Path != WellKnownPath {
			http.NotFound(w, r)
			return
		}
		if hop < n {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", hop+1), http.StatusFound)
			return
		}
		w.Write(doc)
	}
}

// "at most 5 redirects"
func TestFetchWellKnownRedirectChain(t *testing.T) {
	doc := readWellKnownFile(t, "example.json")
	srv, host := wellKnownServer(t, redirector(5, doc))
	tr := trace.New(nil)
	wk, err := FetchWellKnown(trace.NewContext(context.Background(), tr), srv.Client(), host, ParseOptions{})
	if err != nil || len(wk.Mappings) != 3 {
		t.Fatalf("5 redirects: %+v, %v", wk, err)
	}
	if wk.URL != "https://"+host+WellKnownPath {
		t.Errorf("URL %q is not the URL requested at the host", wk.URL)
	}
	if ev := tr.Events(); len(ev) != 6 || !strings.Contains(ev[0].Decision, "redirect 1 of at most 5") || ev[0].Outcome != "302" || !strings.Contains(ev[5].Query, "/hop/5") {
		t.Errorf("trace of 5 redirects: %+v", ev)
	}

	srv6, host6 := wellKnownServer(t, redirector(6, doc))
	_, err = FetchWellKnown(context.Background(), srv6.Client(), host6, ParseOptions{})
	if !errors.Is(err, ErrWellKnownUnknown) || !strings.Contains(err.Error(), "more than 5 redirects") {
		t.Fatalf("6 redirects: %v", err)
	}

	// A redirect to another HTTPS host is followed (httptest servers share
	// one certificate, so the client trusts both).
	other, _ := wellKnownServer(t, serveDoc(doc))
	first, firstHost := wellKnownServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+WellKnownPath, http.StatusMovedPermanently)
	})
	if wk, err := FetchWellKnown(context.Background(), first.Client(), firstHost, ParseOptions{}); err != nil || len(wk.Mappings) != 3 {
		t.Fatalf("redirect to another HTTPS host: %v", err)
	}
}

// "never HTTPS → HTTP", not even to a host marked insecure.
func TestFetchWellKnownRedirectToHTTPRefused(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		w.Write(readWellKnownFile(t, "example.json"))
	}))
	defer plain.Close()
	plainHost := strings.TrimPrefix(plain.URL, "http://")
	srv, host := wellKnownServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+WellKnownPath, http.StatusFound)
	})
	_, err := FetchWellKnown(context.Background(), srv.Client(), host, insecureHosts(plainHost))
	if !errors.Is(err, ErrWellKnownUnknown) || !strings.Contains(err.Error(), "never from HTTPS to plain HTTP") {
		t.Fatalf("HTTPS → HTTP: %v", err)
	}
	if plainHits.Load() != 0 {
		t.Fatal("the plain HTTP server was contacted")
	}
}

// The caller's client is not modified, and its own redirect policy still applies.
func TestFetchWellKnownClientUntouched(t *testing.T) {
	srv, host := wellKnownServer(t, redirector(1, readWellKnownFile(t, "example.json")))
	client := srv.Client()
	if _, err := FetchWellKnown(context.Background(), client, host, ParseOptions{}); err != nil {
		t.Fatal(err)
	}
	if client.CheckRedirect != nil {
		t.Fatal("FetchWellKnown set the caller's CheckRedirect")
	}
	errPolicy := errors.New("no redirects here")
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return errPolicy }
	if _, err := FetchWellKnown(context.Background(), client, host, ParseOptions{}); !errors.Is(err, errPolicy) || !errors.Is(err, ErrWellKnownUnknown) {
		t.Fatalf("caller's redirect policy: %v", err)
	}
}

// A host with no HTTPS server (connection refused) or no address at all
// publishes no document: absent, so discovery falls through to the host's
// own registry — never to another host.
func TestWellKnownWithoutServerIsAbsent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	srv := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{{Origin: "noaddr.test.", Text: "$ORIGIN noaddr.test.\n@ 300 SOA ns hm 1 3600 600 86400 60\n@ 300 NS ns\n"}}})
	dc := dnstest.ClientT(t, 0, srv.Addr())
	client := &http.Client{Transport: &http.Transport{DialContext: dc.DialContext}}

	for _, host := range []string{closed, "www.noaddr.test"} {
		t.Run(host, func(t *testing.T) {
			doc, err := FetchWellKnown(context.Background(), client, host, ParseOptions{})
			if err != nil || doc != nil {
				t.Errorf("FetchWellKnown(%s) = %v, %v; want absent (nil, nil)", host, doc, err)
			}
		})
	}
}
