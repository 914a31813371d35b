package resolver

import (
	"context"
	"net/url"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: credentials MUST NOT be sent to another host — including on
// redirects. The registry answers manifest requests with 307 to the
// "other" server (127.0.0.1, another port: net/http alone would forward the
// header, since it compares host names only), which records what arrived.
func TestRedirectToAnotherHostCarriesNoAuthorization(t *testing.T) {
	for _, tc := range []struct {
		name   string
		auth   registrytest.Auth
		config string
	}{
		{"bearer", registrytest.Auth{Mode: registrytest.AuthToken}, ""},
		{"basic", registrytest.Auth{Mode: registrytest.AuthBasic, Username: "u", Password: "p"}, "u:p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: tc.auth})
			want := reg.MustPushImage(t, "org/app", "v1")
			reg.SetFaults(registrytest.Faults{Redirect: true})
			var creds *credentials
			if tc.config != "" {
				var err error
				creds, err = parseDockerConfig("test", []byte(`{"auths":{"`+reg.Host()+`":{"auth":"`+b64(tc.config)+`"}}}`))
				if err != nil {
					t.Fatal(err)
				}
			}
			c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
			for _, verify := range []bool{false, true} { // HEAD, then GET
				res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, verify, nil)
				if err != nil || res.Digest != want {
					t.Fatalf("%s verify=%v: %+v %v", tc.name, verify, res, err)
				}
			}
			other := reg.RequestsTo("other")
			if len(other) != 2 {
				t.Fatalf("%s: other host got %d requests, want 2", tc.name, len(other))
			}
			for _, q := range other {
				if q.Authorization != "" {
					t.Errorf("%s: %s %s reached the other host with Authorization %q", tc.name, q.Method, q.Path, q.Authorization)
				}
			}
			// ... while the registry itself did get the credentials.
			var authed int
			for _, q := range reg.RequestsTo("registry") {
				if q.Authorization != "" && q.Path != "/token" {
					authed++
				}
			}
			if authed == 0 {
				t.Errorf("%s: registry never received credentials", tc.name)
			}
		})
	}
}

func TestSameOriginComparesSchemeHostAndPort(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://r.example/v2/", "https://R.example:443/x", true},
		{"http://r.example/", "http://r.example:80/", true},
		{"https://127.0.0.1:5000/", "https://127.0.0.1:5001/", false},
		{"https://r.example/", "http://r.example/", false},
		{"https://r.example/", "https://cdn.r.example/", false},
		{"https://[::1]:5000/", "https://[::1]:5000/v2/", true},
	} {
		t.Run(tc.a+" vs "+tc.b, func(t *testing.T) {
			a, _ := url.Parse(tc.a)
			b, _ := url.Parse(tc.b)
			if got := sameOrigin(a, b); got != tc.same {
				t.Errorf("sameOrigin(%s, %s) = %v", tc.a, tc.b, got)
			}
		})
	}
}
