package discovery

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// "Cache-Control: max-age is parsed and kept with the result for the cache
// (clamped to [5 min, 48 h], default 24 h)"
func TestWellKnownMaxAge(t *testing.T) {
	for _, tc := range []struct {
		header []string // name, value pairs
		want   time.Duration
	}{
		{nil, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=3600"}, time.Hour},
		{[]string{"Cache-Control", "public, max-age=7200, must-revalidate"}, 2 * time.Hour},
		{[]string{"Cache-Control", "MAX-AGE = 600"}, 10 * time.Minute},
		{[]string{"Cache-Control", `max-age="900"`}, 15 * time.Minute},
		{[]string{"Cache-Control", "max-age=60"}, 5 * time.Minute},            // clamped up
		{[]string{"Cache-Control", "max-age=0"}, 5 * time.Minute},             // clamped up
		{[]string{"Cache-Control", "max-age=604800"}, 48 * time.Hour},         // clamped down
		{[]string{"Cache-Control", "max-age=99999999999999"}, 48 * time.Hour}, // saturates
		{[]string{"Cache-Control", "no-store"}, 5 * time.Minute},
		{[]string{"Cache-Control", "max-age=3600, no-cache"}, 5 * time.Minute},
		{[]string{"Cache-Control", `no-cache="Set-Cookie"`}, 5 * time.Minute},
		{[]string{"Cache-Control", "max-age=abc"}, 5 * time.Minute}, // invalid: stale at once
		{[]string{"Cache-Control", "max-age=-5"}, 5 * time.Minute},
		{[]string{"Cache-Control", "max-age=7200", "Cache-Control", "max-age=3600"}, time.Hour}, // the smaller wins
		{[]string{"Cache-Control", "private"}, 24 * time.Hour},
		{[]string{"Cache-Control", "max-age=7200", "Age", "3600"}, time.Hour}, // time spent in caches
		{[]string{"Cache-Control", "max-age=7200", "Age", "9000"}, 5 * time.Minute},
		{[]string{"Expires", "Thu, 01 Dec 2094 16:00:00 GMT"}, 24 * time.Hour}, // ignored
	} {
		h := http.Header{}
		for i := 0; i+1 < len(tc.header); i += 2 {
			h.Add(tc.header[i], tc.header[i+1])
		}
		if got := wellKnownMaxAge(h); got != tc.want {
			t.Errorf("%v: MaxAge %v, want %v", tc.header, got, tc.want)
		}
	}
}

// The same, end to end through an HTTPS response.
func TestFetchWellKnownCacheControl(t *testing.T) {
	doc := readWellKnownFile(t, "example.json")
	for _, tc := range []struct {
		cc   string
		want time.Duration
	}{
		{"", 24 * time.Hour},
		{"max-age=1800", 30 * time.Minute},
		{"max-age=1", 5 * time.Minute},
		{"max-age=31536000", 48 * time.Hour},
		{"no-store", 5 * time.Minute},
	} {
		var h http.HandlerFunc = serveDoc(doc)
		if tc.cc != "" {
			h = serveDoc(doc, "Cache-Control", tc.cc)
		}
		srv, host := wellKnownServer(t, h)
		wk, err := FetchWellKnown(context.Background(), srv.Client(), host, ParseOptions{})
		if err != nil || wk.MaxAge != tc.want {
			t.Errorf("Cache-Control %q: %+v %v, want MaxAge %v", tc.cc, wk, err, tc.want)
		}
	}
}
