package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A delegation of the whole host (no prefix) to the host itself sends every
// name back where it started: clients fail with a loop (protocol.md §7), so
// records refuses to write it, from flags or from a file, and names the
// mapping. With a prefix the same target only strips the prefix, which is a
// rewrite, not a loop.
func TestRecordsRefuseADelegationToItself(t *testing.T) {
	file := filepath.Join(t.TempDir(), "loop")
	if err := os.WriteFile(file, []byte("v=oci1; delegate=H.Example.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		from string
	}{
		{"same name", []string{"--delegate", "h.example"}, "mapping 1 (--delegate h.example)"},
		{"other case and root dot", []string{"--delegate", "H.Example."}, "mapping 1 (--delegate H.Example.)"},
		{"back to the whole host", []string{"--prefix", "tools", "--registry", "https://r.example", "--prefix", "", "--delegate", "h.example"}, "mapping 2 (--delegate h.example)"},
		{"from a file", []string{"--file", file}, "line 1"},
		{"json output", []string{"--format", "json", "--delegate", "h.example"}, "mapping 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"records", "--host", "h.example"}, tt.args...)...)
			if code != 1 || out != "" || !strings.Contains(errOut, tt.from) || !strings.Contains(errOut, "loop") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and one line naming %q and the loop", code, out, errOut, tt.from)
			}
		})
	}
	code, out, errOut := runCLI(t, "", "records", "--host", "h.example", "--prefix", "tools", "--delegate", "h.example")
	if code != 0 || !strings.Contains(out, `"v=oci1; prefix=tools; delegate=h.example"`) {
		t.Errorf("a prefix delegated to its own host (a rewrite): exit %d, %q, %q", code, out, errOut)
	}
}
