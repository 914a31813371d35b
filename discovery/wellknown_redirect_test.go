package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ocidns/ocidns/discovery/trace"
)

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
