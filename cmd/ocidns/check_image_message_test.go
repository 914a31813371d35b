package main

import (
	"strings"
	"testing"
)

// The IMAGE_UNSIGNED and IMAGE_UNRESOLVED findings of `ocidns check HOST
// NAME...` are the resolver's error for the name, which begins with the
// name: the name appears once, not once more in front of it.
func TestCheckImageMessagesNameTheImageOnce(t *testing.T) {
	_, flags := labFlags(t)
	unsigned, missing := "example.test/signed/unsigned:1.0", "example.test/org/nothere:1"
	_, out, _ := runCLI(t, "", append(append([]string{"resolve", "-o", "json"}, flags...), unsigned, missing)...)
	errs := map[string]string{}
	for _, o := range jsonLines(t, out) {
		ref, _ := o["ref"].(string)
		errs[ref], _ = o["error"].(string)
	}
	if !strings.HasPrefix(errs[unsigned], unsigned+": ") || !strings.HasPrefix(errs[missing], missing+": ") {
		t.Fatalf("the resolver's errors do not begin with the name: %q", errs)
	}

	code, out, errOut := runCLI(t, "", append(append([]string{"check", "-o", "json", "--no-registry-probe"}, flags...),
		"example.test", "signed/unsigned:1.0", "org/nothere:1")...)
	if code != 1 {
		t.Fatalf("check: exit %d, want 1\n%s\nstderr %s", code, out, errOut)
	}
	wantMsg := map[string]string{
		"IMAGE_UNSIGNED":   errs[unsigned] + ": clients refuse it",
		"IMAGE_UNRESOLVED": errs[missing],
	}
	for _, o := range jsonLines(t, out) {
		c, _ := o["code"].(string)
		want, ok := wantMsg[c]
		if !ok {
			continue
		}
		delete(wantMsg, c)
		if msg, _ := o["message"].(string); msg != want {
			t.Errorf("%s message\n got %q\nwant %q", c, msg, want)
		}
	}
	for c := range wantMsg {
		t.Errorf("no %s finding:\n%s", c, out)
	}
}
