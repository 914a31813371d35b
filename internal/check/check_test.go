package check

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
)

// TestRunRefusesInvalidHosts: the host is the one thing Run reports as an
// error rather than a finding.
func TestRunRefusesInvalidHosts(t *testing.T) {
	for _, h := range []string{"", "example.com/acme", "https://example.com", "exa mple.com", "example.com:0", "example.com:99999", "::1", "[::1", "-bad-.example.com..", "a..b"} {
		t.Run(h, func(t *testing.T) {
			_, err := Run(context.Background(), h, Config{})
			if !errors.Is(err, ErrInvalidHost) {
				t.Errorf("Run(%q) = %v, want ErrInvalidHost", h, err)
			}
		})
	}
	for _, h := range []string{"example.com", "Example.COM.", "example.com:8443", "127.0.0.1:5000", "[::1]:5000", "[::1]"} {
		t.Run(h, func(t *testing.T) {
			if _, err := newChecker(h, Config{}); err != nil {
				t.Errorf("newChecker(%q): %v", h, err)
			}
		})
	}
}

// TestHostWithPort: clients do no DNS discovery for host:port names; the
// well-known document at that port is what they read.
func TestHostWithPort(t *testing.T) {
	l := newLab(t, wellKnownSites())
	_, port, _ := net.SplitHostPort(l.web.Listener.Addr().String())
	fs := l.check(t, "wk.example.com:"+port, nil)
	want(t, fs, "info PORT_NO_DNS", "info WELLKNOWN_OK", "info REGISTRY_OK")
	wantNo(t, fs, CodeTXTNone, CodeTXTLookupFailed)
	wantNoErrors(t, fs)
}

// TestFindingJSON pins the JSON object of a finding: the six keys, the
// severity by name.
func TestFindingJSON(t *testing.T) {
	f := Finding{Severity: Warning, Code: CodeTXTIgnoredVersion, Host: "example.com", Record: `v=oci2; x="y"`, Message: "m", Fix: "f"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	wantMap := map[string]any{"severity": "warning", "code": "TXT_IGNORED_VERSION", "host": "example.com", "record": `v=oci2; x="y"`, "message": "m", "fix": "f"}
	if !reflect.DeepEqual(m, wantMap) {
		t.Errorf("JSON %s", b)
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"severity":"fatal"}`), &back); err == nil {
		t.Error("unknown severity accepted")
	}
}

// TestFindingString pins the text line: severity, code, message, fix.
func TestFindingString(t *testing.T) {
	f := Finding{Severity: Error, Code: CodeTXTConflict, Message: "two\nlines", Fix: "do this"}
	if got, want := f.String(), "error    TXT_CONFLICT  two; lines — fix: do this"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	f = Finding{Severity: Info, Code: CodeTXTNone, Message: "nothing"}
	if got := f.String(); strings.Contains(got, "fix") {
		t.Errorf("info without a fix printed one: %q", got)
	}
}
