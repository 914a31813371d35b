package main

import (
	"strings"
	"testing"
)

// -o ref prints one pullable reference a line, pinned to the digest (the
// platform's manifest when labels or --platform select one), like crane
// digest --full-ref; -o json carries the same as "pinned", with the OCI
// descriptor and every endpoint; other commands refuse -o ref.
func TestResolveCLIPinnedReference(t *testing.T) {
	lab, flags := labFlags(t)
	code, out, errOut := runCLI(t, "", append(append([]string{"resolve", "-o", "ref"}, flags...),
		"example.test/org/app,version=v1.0.0,os=linux,arch=arm64", "example.test/org/app:v1.0.0")...)
	want := lab.RegistryHost + "/example/org/app@" + lab.Digests["example/org/app:v1.0.0@linux/arm64"].String() + "\n" +
		lab.RegistryHost + "/example/org/app@" + lab.Digests["example/org/app:v1.0.0"].String() + "\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %s", code, out, want, errOut)
	}

	code, out, _ = runCLI(t, "", append(append([]string{"resolve", "-o", "json"}, flags...),
		"example.test/org/app,version=v1.0.0,os=linux,arch=arm64")...)
	objs := jsonLines(t, out)
	if code != 0 || len(objs) != 1 {
		t.Fatalf("exit %d: %s", code, out)
	}
	o := objs[0]
	if o["pinned"] != strings.TrimSuffix(strings.SplitN(want, "\n", 2)[0], "\n") {
		t.Errorf("pinned %v", o["pinned"])
	}
	desc, _ := o["descriptor"].(map[string]any)
	plat, _ := desc["platform"].(map[string]any)
	if desc["digest"] != lab.Digests["example/org/app:v1.0.0@linux/arm64"].String() || desc["mediaType"] == "" ||
		desc["size"] == nil || plat["architecture"] != "arm64" || plat["os"] != "linux" {
		t.Errorf("descriptor %v", desc)
	}
	eps, _ := o["endpoints"].([]any)
	if len(eps) == 0 {
		t.Fatalf("no endpoints in %v", o)
	}
	ep, _ := eps[0].(map[string]any)
	caps, _ := ep["capabilities"].([]any)
	if ep["url"] != "https://"+lab.RegistryHost || len(caps) != 2 || caps[0] != "resolve" || caps[1] != "pull" {
		t.Errorf("endpoint %v", ep)
	}

	code, _, errOut = runCLI(t, "", append(append([]string{"discover", "-o", "ref"}, flags...), "example.test/org/app")...)
	if code != 2 || !strings.Contains(errOut, "-o must be text, json") {
		t.Errorf("discover -o ref: exit %d %s", code, errOut)
	}
}
