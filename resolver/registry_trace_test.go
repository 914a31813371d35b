package resolver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// Every request is a trace event (docs/engines.md, Results: Events) — and
// no event carries a secret.
func TestTraceRecordsEveryRequestWithoutSecrets(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true,
		Auth: registrytest.Auth{Mode: registrytest.AuthToken, Username: "carol", Password: "hunter2-pass", ExpiresIn: 120}})
	reg.MustPushImage(t, "org/app", "v1", registrytest.WithPlatform("linux/arm64/v8"))
	creds, err := parseDockerConfig("/tmp/docker.json", []byte(`{"auths":{"`+reg.Host()+`":{"username":"carol","password":"hunter2-pass"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	reg.SetFaults(registrytest.Faults{Throttle: 1, RetryAfter: "1"})
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Creds = creds })
	tr := trace.New(nil)
	if _, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", platform(t, "linux/arm64"), false, tr); err != nil {
		t.Fatal(err)
	}
	ev := tr.Events()
	var kinds []string
	for _, e := range ev {
		if e.Source != "registry" || e.Server == "" {
			t.Errorf("event without source/server: %+v", e)
		}
		kinds = append(kinds, strings.SplitN(e.Query, "?", 2)[0]+" → "+e.Outcome)
	}
	base := reg.URL()
	want := []string{
		"GET " + base + "/v2/org/app/manifests/v1 → 401",
		"GET " + base + "/token → 200",
		"GET " + base + "/v2/org/app/manifests/v1 → 429",
		"GET " + base + "/v2/org/app/manifests/v1 → 200",
		"GET " + base + "/v2/org/app/blobs/",
		"platform linux/arm64 → linux/arm64/v8",
	}
	if len(kinds) != len(want) {
		t.Fatalf("events:\n%s", strings.Join(kinds, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(kinds[i], want[i]) {
			t.Errorf("event %d: %q, want %q", i, kinds[i], want[i])
		}
	}
	if !strings.Contains(ev[1].Decision, "credentials for "+reg.Host()+" from /tmp/docker.json") {
		t.Errorf("token event decision %q", ev[1].Decision)
	}
	all, _ := json.Marshal(ev)
	for _, secret := range []string{"hunter2-pass", b64("carol:hunter2-pass"), "registrytest-token-"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("trace contains secret %q", secret)
		}
	}
}
