package daemon

import (
	"strings"
	"testing"
)

// A query string that does not decode is a 400 that says so, not a request
// with its parameters silently dropped ("missing ref").
func TestMalformedQueryIsADecodingError(t *testing.T) {
	srv, _ := startDaemon(t, Config{})
	for _, path := range []string{"/v1/resolve?ref=example.test/app%zz", "/v1/trace?ref=x&platform=%zz", "/v1/resolve?ref=x;y"} {
		t.Run(path, func(t *testing.T) {
			var body errorBody
			resp := get(t, srv, path, &body)
			if resp.StatusCode != 400 || body.Code != "INVALID_REQUEST" || !strings.Contains(body.Error, "query string") {
				t.Errorf("GET %s: %d %+v; want 400 INVALID_REQUEST naming the query string", path, resp.StatusCode, body)
			}
		})
	}
}
