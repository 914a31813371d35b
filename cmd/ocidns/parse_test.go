package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns exit status, stdout
// and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestParseJSONShape pins the JSON objects of `ocidns parse -o json`
// (README, Command-line reference).
func TestParseJSONShape(t *testing.T) {
	h := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		args []string
		want map[string]any
	}{
		{[]string{"example.com/org/app:v1.0.0"}, map[string]any{
			"input": "example.com/org/app:v1.0.0", "valid": true, "form": "docker", "domain": "example.com",
			"path": "org/app", "tag": "v1.0.0", "string": "example.com/org/app:v1.0.0"}},
		{[]string{"localhost:5000/a/b@sha256:" + h}, map[string]any{
			"input": "localhost:5000/a/b@sha256:" + h, "valid": true, "form": "docker", "domain": "localhost:5000",
			"path": "a/b", "digest": "sha256:" + h, "string": "localhost:5000/a/b@sha256:" + h}},
		{[]string{"example.com/org/app,version=v1.0.0,os=linux,arch=arm64"}, map[string]any{
			"input": "example.com/org/app,version=v1.0.0,os=linux,arch=arm64", "valid": true, "form": "appc",
			"domain": "example.com", "path": "org/app", "tag": "v1.0.0",
			"labels": map[string]any{"version": "v1.0.0", "os": "linux", "arch": "arm64"},
			"string": "example.com/org/app,version=v1.0.0,os=linux,arch=arm64", "platform": "linux/arm64"}},
		{[]string{"--normalize", "ubuntu"}, map[string]any{
			"input": "ubuntu", "valid": true, "form": "docker", "domain": "docker.io", "path": "library/ubuntu",
			"string": "docker.io/library/ubuntu"}},
		{[]string{"example.com/Org/app"}, map[string]any{
			"input": "example.com/Org/app", "valid": false,
			"error": `repository name must be lowercase: "Org" at offset 12`, "offset": float64(12)}},
		{[]string{""}, map[string]any{
			"input": "", "valid": false, "error": `repository name must have at least one component: "" at offset 0`, "offset": float64(0)}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, _ := runCLI(t, "", append([]string{"parse", "-o", "json"}, tt.args...)...)
			got := jsonLines(t, out)
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("parse -o json %q:\n got  %v\n want %v", tt.args, got, tt.want)
			}
			wantCode := 0
			if tt.want["valid"] == false {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("parse -o json %q: exit %d, want %d", tt.args, code, wantCode)
			}
		})
	}
}

// TestParseJSONKeepsLabelOrder: labels print in input order, not sorted.
func TestParseJSONKeepsLabelOrder(t *testing.T) {
	_, out, _ := runCLI(t, "", "parse", "-o", "json", "app,z=1,a=2,m=3")
	if !strings.Contains(out, `"labels":{"z":"1","a":"2","m":"3"}`) {
		t.Errorf("labels out of input order: %s", out)
	}
}

// TestParseInvalidExitsOneWithOneLinePerError: a bad reference among good
// ones fails the run, and stderr names it on one line.
func TestParseInvalidExitsOneWithOneLinePerError(t *testing.T) {
	code, out, errOut := runCLI(t, "", "parse", "ubuntu", "Bad/Name", "a,b", "ok:v1")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"Bad/Name"`) || !strings.Contains(lines[0], "offset 4") ||
		!strings.Contains(lines[1], `"a,b"`) {
		t.Errorf("stderr:\n%s", errOut)
	}
	if !strings.Contains(out, "ubuntu\n") || !strings.Contains(out, "ok:v1\n") {
		t.Errorf("valid references missing from stdout:\n%s", out)
	}
}

// TestParseTextExplainsEachPart: the text output is for a person.
func TestParseTextExplainsEachPart(t *testing.T) {
	code, out, _ := runCLI(t, "", "parse", "example.com/org/app,version=1.0+b,os=linux,arch=aarch64", "app:v1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"form:      appc", "domain:    example.com  (registry host)", "path:      org/app", "tag:       1.0+b",
		"labels:    version=1.0+b os=linux arch=aarch64", "platform:  linux/arm64",
		"as docker: example.com/org/app:1.0_b", "canonical: example.com/org/app,arch=aarch64,os=linux,version=1.0+b",
		"domain:    -  (none: a short name", "as appc:   app,version=v1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

// TestParsePlatformLabelErrorIsInvalid: labels that name no platform make
// the reference unusable, so it is reported like a parse error.
func TestParsePlatformLabelErrorIsInvalid(t *testing.T) {
	code, out, errOut := runCLI(t, "", "parse", "-o", "json", "app,os=linux,arch=sparc")
	got := jsonLines(t, out)
	if code != 1 || len(got) != 1 || got[0]["valid"] != false || got[0]["offset"] != float64(18) ||
		!strings.Contains(errOut, "unknown architecture") {
		t.Errorf("exit %d, stdout %s, stderr %s", code, out, errOut)
	}
}

// TestParseReadsStandardInput: one reference a line; blank lines and
// '#' comments skipped; CRLF tolerated.
func TestParseReadsStandardInput(t *testing.T) {
	in := "# images\nubuntu\r\n\n  example.com/app:v1  \napp,version=1"
	code, out, errOut := runCLI(t, in, "parse", "-o", "json")
	got := jsonLines(t, out)
	if code != 0 || len(got) != 3 || errOut != "" {
		t.Fatalf("exit %d, %d objects, stderr %q", code, len(got), errOut)
	}
	for i, want := range []string{"ubuntu", "example.com/app:v1", "app,version=1"} {
		if got[i]["input"] != want {
			t.Errorf("object %d input %v, want %q", i, got[i]["input"], want)
		}
	}
}

// TestParseBoundsStandardInputLines: an over-long line is reported with its
// number and skipped; the lines after it are still parsed.
func TestParseBoundsStandardInputLines(t *testing.T) {
	in := "ubuntu\n" + strings.Repeat("a", maxParseLine+10) + "\nexample.com/app\n"
	code, out, errOut := runCLI(t, in, "parse", "-o", "json")
	got := jsonLines(t, out)
	if code != 1 || len(got) != 2 || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, "longer than 65536 bytes") {
		t.Errorf("exit %d, %d objects, stderr %q", code, len(got), errOut)
	}
	// A long last line without a newline ends the input cleanly.
	code, _, errOut = runCLI(t, "ubuntu\n"+strings.Repeat("b", 3*maxParseLine), "parse")
	if code != 1 || !strings.Contains(errOut, "line 2") {
		t.Errorf("unterminated long line: exit %d, stderr %q", code, errOut)
	}
}

// TestParseUsageErrors exit 2; --help exits 0 with usage on stdout.
func TestParseUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"parse", "-o", "yaml", "x"}, {"parse", "--bogus"}, {"parse", "-o"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", args...)
			if code != 2 || out != "" || !strings.Contains(errOut, "ocidns parse") {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		})
	}
	code, out, _ := runCLI(t, "", "parse", "--help")
	if code != 0 || !strings.Contains(out, "usage: ocidns parse [--normalize] [-o text|json] [REF...]") || !strings.Contains(out, "--normalize") {
		t.Errorf("--help: exit %d, stdout %q", code, out)
	}
}
