package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/demo"
	"github.com/ocidns/ocidns/internal/testkit"
)

var (
	cliLabOnce sync.Once
	cliLab     *demo.Lab
	cliLabErr  error
)

// TestMain closes the shared lab (servers and its temporary files). With
// runAsOcidns set in the environment, the test binary is ocidns itself:
// tests start it as a separate process to measure what that process holds.
func TestMain(m *testing.M) {
	if os.Getenv(runAsOcidns) == "1" {
		main()
	}
	code := m.Run()
	if cliLab != nil {
		cliLab.Close()
	}
	os.Exit(code)
}

// labFlags starts the demo lab once for this package's tests and returns
// the flags that point a command at it.
func labFlags(t *testing.T) (*demo.Lab, []string) {
	t.Helper()
	cliLabOnce.Do(func() { cliLab, cliLabErr = demo.Start(context.Background()) })
	if cliLabErr != nil {
		t.Fatal(cliLabErr)
	}
	return cliLab, []string{"--dns", cliLab.DNS.Addr(), "--trust-anchor", cliLab.AnchorFile, "--ca-file", cliLab.CAFile}
}

// README (`ocidns resolve`): one digest a line in input order; errors one line each on
// stderr naming the reference; exit 1 when any reference fails.
func TestResolveCLIPrintsOneDigestALine(t *testing.T) {
	lab, flags := labFlags(t)
	code, out, errOut := runCLI(t, "", append(append([]string{"resolve"}, flags...),
		"example.test/org/app:v1.0.0", "example.test/partners/acme/tool:1.0")...)
	want := lab.Digests["example/org/app:v1.0.0"].String() + "\n" + lab.Digests["acme-tools/tool:1.0"].String() + "\n"
	if code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, out, want, errOut)
	}

	code, out, errOut = runCLI(t, "", append(append([]string{"resolve", "--platform", "linux/arm64"}, flags...),
		"example.test/org/app:v1.0.0", "example.test/org/app:nope")...)
	if code != 1 || out != lab.Digests["example/org/app:v1.0.0@linux/arm64"].String()+"\n" {
		t.Fatalf("platform and a missing tag: exit %d stdout %q", code, out)
	}
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "example.test/org/app:nope") {
		t.Fatalf("stderr %q: want one line naming the reference", errOut)
	}
}

// README (`ocidns resolve`): the JSON object of each reference, or of its
// error with a code.
func TestResolveCLIJSON(t *testing.T) {
	lab, flags := labFlags(t)
	code, out, _ := runCLI(t, "", append(append([]string{"resolve", "-o", "json"}, flags...),
		"example.test/org/app,version=v1.0.0,os=linux,arch=arm64", "example.test/Bad", "example.test/org/app:nope")...)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	objs := jsonLines(t, out)
	if len(objs) != 3 {
		t.Fatalf("%d objects: %s", len(objs), out)
	}
	ok := objs[0]
	for key, want := range map[string]any{
		"resolved":       "example.test/org/app:v1.0.0",
		"digest":         lab.Digests["example/org/app:v1.0.0"].String(),
		"platformDigest": lab.Digests["example/org/app:v1.0.0@linux/arm64"].String(),
		"repository":     "example/org/app",
		"registry":       "https://" + lab.RegistryHost,
		"authenticated":  "dnssec",
		"cached":         false,
		"stale":          false,
		"ttl":            float64(60),
	} {
		if ok[key] != want {
			t.Errorf("%s = %v, want %v", key, ok[key], want)
		}
	}
	for _, k := range []string{"ref", "mediaType", "size"} {
		if _, found := ok[k]; !found {
			t.Errorf("no %q in %v", k, ok)
		}
	}
	if objs[1]["code"] != "INVALID_REFERENCE" || objs[2]["code"] != "NOT_FOUND" || objs[2]["ref"] != "example.test/org/app:nope" {
		t.Errorf("error objects: %v, %v", objs[1], objs[2])
	}
}

// README (`ocidns discover`): the JSON object, and text that reads like
// dig +trace.
func TestDiscoverCLI(t *testing.T) {
	_, flags := labFlags(t)
	code, out, errOut := runCLI(t, "", append(append([]string{"discover", "-o", "json"}, flags...), "example.test/partners/acme/tool")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Name      string `json:"name"`
		Endpoints []struct {
			URL           string   `json:"url"`
			Repository    string   `json:"repository"`
			Capabilities  []string `json:"capabilities"`
			Source        string   `json:"source"`
			Authenticated string   `json:"authenticated"`
		} `json:"endpoints"`
		Chain []struct {
			Host, Path, Source, Record, Authenticated string
		} `json:"chain"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "example.test/partners/acme/tool" || len(got.Chain) != 3 || len(got.Endpoints) != 1 {
		t.Fatalf("%+v", got)
	}
	ep := got.Endpoints[0]
	if ep.Repository != "acme-tools/tool" || ep.Source != "dns-txt" || ep.Authenticated != "dnssec" || strings.Join(ep.Capabilities, ",") != "resolve,pull" {
		t.Errorf("endpoint %+v", ep)
	}
	if c := got.Chain[1]; c.Host != "acme.test" || c.Path != "acme/tool" || !strings.Contains(c.Record, "delegate=tools.acme.test") {
		t.Errorf("second hop %+v", c)
	}

	code, out, _ = runCLI(t, "", append(append([]string{"discover"}, flags...), "example.test/partners/acme/tool")...)
	for _, want := range []string{"delegation chain", "1. example.test/partners/acme/tool", "2. acme.test/acme/tool", "3. tools.acme.test/tool", "acme-tools/tool"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = runCLI(t, "", append(append([]string{"discover"}, flags...), "no-such.test/app")...)
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "TXT _oci-discovery.no-such.test.") {
		t.Errorf("failed discovery: exit %d, stderr %q", code, errOut)
	}
}

// README (`ocidns trace`): every step printed; -o json one event a line.
func TestTraceCLI(t *testing.T) {
	_, flags := labFlags(t)
	code, out, errOut := runCLI(t, "", append(append([]string{"trace"}, flags...), "example.test/org/app:v1.0.0")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"TXT _oci-discovery.example.test.", "dnssec=secure", "HEAD https://", ";; ANSWER: example.test/org/app:v1.0.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "", append(append([]string{"trace", "-o", "json"}, flags...), "example.test/org/app:nope")...)
	events := jsonLines(t, out)
	if code != 1 || len(events) < 3 {
		t.Fatalf("exit %d, %d events", code, len(events))
	}
	for _, e := range events {
		if e["source"] == nil || e["time"] == nil {
			t.Errorf("event without source or time: %v", e)
		}
	}
}

// startServe runs `ocidns serve` on 127.0.0.1:0 with args and returns its
// base URL and a function that stops it and returns its exit status.
func startServe(t *testing.T, args ...string) (string, *testkit.SyncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.SyncBuffer{}
	done := make(chan int)
	go func() {
		done <- runServe(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), IO{In: strings.NewReader(""), Out: io.Discard, Err: logs})
	}()
	addr := ""
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
	}
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	if addr == "" {
		stop()
		t.Fatalf("serve did not start: %s", logs.String())
	}
	return "http://" + addr, logs, stop
}

// getJSON GETs u and decodes its JSON body into v.
func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return resp.StatusCode
}

// allowLab is the --allow-local-registry flags for the lab's servers.
func allowLab(lab *demo.Lab) []string {
	var flags []string
	for _, h := range lab.LocalHosts() {
		flags = append(flags, "--allow-local-registry", h)
	}
	return flags
}

// README (`ocidns serve`): serve answers /v1/resolve and stops cleanly when its context
// ends (as on SIGINT/SIGTERM).
func TestServeCLI(t *testing.T) {
	lab, flags := labFlags(t)
	base, logs, stop := startServe(t, append(flags, allowLab(lab)...)...)
	var res struct{ Digest string }
	status := getJSON(t, base+"/v1/resolve?ref="+url.QueryEscape("example.test/org/app:v1.0.0"), &res)
	if status != 200 || res.Digest != lab.Digests["example/org/app:v1.0.0"].String() {
		t.Errorf("status %d digest %s", status, res.Digest)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d: %s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "msg=request") || !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("logs: %s", logs.String())
	}
}

// serve connects to no loopback (nor, with --deny-private-networks,
// private) address unless the host is allowed by name, and the trace says
// which flag allows it. Other commands keep connecting anywhere.
func TestServeRefusesLocalAddressesUnlessAllowed(t *testing.T) {
	lab, flags := labFlags(t)
	base, logs, stop := startServe(t, append(flags, "--deny-private-networks")...)
	defer func() {
		if code := stop(); code != 0 {
			t.Errorf("serve exited %d: %s", code, logs.String())
		}
	}()
	regIP := "127.0.0.1:" + lab.RegistryHost[strings.LastIndexByte(lab.RegistryHost, ':')+1:]
	for _, tc := range []struct {
		ref, refusal string
	}{
		{"example.test/org/app:v1.0.0", "refused to connect to " + regIP + " (loopback) for " + lab.RegistryHost +
			": allow it with --allow-local-registry " + lab.RegistryHost},
		{regIP + "/example/org/app:v1.0.0", "refused to connect to " + regIP + " (loopback) for " + regIP},
		{"10.0.0.1:5000/org/app:v1", "refused to connect to 10.0.0.1:5000 (private) for 10.0.0.1:5000"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			var tr struct {
				Code   string
				Events []struct{ Decision string }
			}
			getJSON(t, base+"/v1/trace?ref="+url.QueryEscape(tc.ref), &tr)
			var found bool
			for _, ev := range tr.Events {
				found = found || strings.Contains(ev.Decision, tc.refusal)
			}
			if tr.Code == "" || !found {
				t.Errorf("/v1/trace %s: code %q, and no event says %q", tc.ref, tr.Code, tc.refusal)
			}
		})
	}
	// The CLI resolves the same name, as a person typing it expects.
	code, out, errOut := runCLI(t, "", append(append([]string{"resolve"}, flags...), "example.test/org/app:v1.0.0")...)
	if code != 0 || strings.TrimSpace(out) != lab.Digests["example/org/app:v1.0.0"].String() {
		t.Errorf("resolve: exit %d stdout %q stderr %q", code, out, errOut)
	}
}

func TestServeAllowListUsageErrors(t *testing.T) {
	for _, bad := range []string{"host:0", "host:http", ""} {
		t.Run(bad, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", "serve", "--listen", "127.0.0.1:0", "--allow-local-registry", bad)
			if code != 2 || !strings.Contains(errOut, "--allow-local-registry") {
				t.Errorf("--allow-local-registry %q: exit %d stderr %q", bad, code, errOut)
			}
		})
	}
}
