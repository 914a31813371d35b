package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The demo lab serves no root zone: its DNS server refuses the root's
// DNSKEY question, as a resolver that cannot serve DNSSEC does. Names
// under the lab's own trust anchor (--trust-anchor) are still validated;
// insecure.test, under the root anchor alone, is not: its forged mapping
// to another host is skipped and the name resolves at its own host. The
// CLI says so once on stderr, -o json says "dnssec": "unavailable", and
// --dnssec require makes it an error.
func TestResolveCLIWarnsOnceWhenTheResolverCannotServeDNSSEC(t *testing.T) {
	lab, flags := labFlags(t)
	code, out, errOut := runCLI(t, "", append(append([]string{"resolve", "-o", "json"}, flags...),
		"insecure.test/app:1.0", "example.test/org/app:v1.0.0", "insecure.test/app:1.0")...)
	objs := jsonLines(t, out)
	if code != 0 || len(objs) != 3 {
		t.Fatalf("exit %d, %d objects: %s (stderr %s)", code, len(objs), out, errOut)
	}
	if objs[0]["dnssec"] != "unavailable" || objs[0]["authenticated"] != "none" || strings.Contains(objs[0]["registry"].(string), "evil") {
		t.Errorf("insecure.test: %v", objs[0])
	}
	if objs[1]["authenticated"] != "dnssec" || objs[1]["digest"] != lab.Digests["example/org/app:v1.0.0"].String() {
		t.Errorf("example.test, under the lab's anchor: %v", objs[1])
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ocidns: warning: DNSSEC unavailable") ||
		!strings.Contains(lines[0], "refuses the root zone's DNSKEY query") || !strings.Contains(lines[0], "--trust-ad") {
		t.Errorf("stderr %q: want one warning saying why and what to do", errOut)
	}

	code, out, errOut = runCLI(t, "", append(append([]string{"resolve", "--dnssec", "require"}, flags...),
		"insecure.test/app:1.0", "example.test/org/app:v1.0.0")...)
	if code != 1 || out != lab.Digests["example/org/app:v1.0.0"].String()+"\n" ||
		!strings.Contains(errOut, "insecure.test/app:1.0") || !strings.Contains(errOut, "cannot serve DNSSEC data") || strings.Contains(errOut, "warning") {
		t.Errorf("--dnssec require: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, _, errOut = runCLI(t, "", append(append([]string{"resolve", "--dnssec", "maybe"}, flags...), "insecure.test/app:1.0")...)
	if code != exitUsage || !strings.Contains(errOut, "on, require or off") {
		t.Errorf("--dnssec maybe: exit %d, stderr %q", code, errOut)
	}
}

// serve logs the warning once and exports it as a metric.
func TestServeLogsAndCountsAResolverWithoutDNSSEC(t *testing.T) {
	lab, flags := labFlags(t)
	base, logs, stop := startServe(t, append(flags, allowLab(lab)...)...)
	metric := func() string {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "ocidns_dnssec_unavailable ") {
				return l
			}
		}
		return ""
	}
	if m := metric(); m != "ocidns_dnssec_unavailable 0" {
		t.Errorf("before any resolution: %q", m)
	}
	for range 2 {
		var res struct{ Digest, DNSSEC string }
		if status := getJSON(t, base+"/v1/resolve?ref="+url.QueryEscape("insecure.test/app:1.0"), &res); status != 200 || res.DNSSEC != "unavailable" {
			t.Errorf("status %d, dnssec %q", status, res.DNSSEC)
		}
	}
	if m := metric(); m != "ocidns_dnssec_unavailable 1" {
		t.Errorf("after: %q", m)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	if n := strings.Count(logs.String(), "msg=\"dnssec unavailable\""); n != 1 {
		t.Errorf("%d log lines about DNSSEC, want 1: %s", n, logs.String())
	}
}
