package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var raceEnabled bool

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
	cliDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

// ocidnsBinary builds cmd/ocidns from this tree once per test run: the CLI
// is a main package, so running it is the only way to test its flags and
// exit codes end to end.
func ocidnsBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		if cliDir, cliErr = os.MkdirTemp("", "ocidns-e2e-cli-"); cliErr != nil {
			return
		}
		cliPath = filepath.Join(cliDir, "ocidns")
		args := []string{"build", "-o", cliPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/ocidns/ocidns/cmd/ocidns")
		// Generous: on a loaded 2-core machine the first link with -race
		// alone can take a minute.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// runCLI runs ocidns with args, bounded in time, and returns its outputs.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := ocidnsBinary(t) // before the clock starts: the first call builds it
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir()) // no credentials: anonymous
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("ocidns %s: still running after 60s (killed)\nstderr:\n%s", strings.Join(args, " "), e.String())
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("ocidns %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

func cliCommon(l *lab) []string {
	args := []string{"--no-well-known"}
	for _, h := range l.insecure() {
		args = append(args, "--insecure-registry", h)
	}
	return args
}

// `ocidns resolve` prints one digest a line, like `crane digest`: the
// registry's own digests, the platform child's under --platform.
func TestCLIResolvePrintsTheRegistrysDigests(t *testing.T) {
	l := needLab(t)
	for _, p := range resolverPaths {
		t.Run(p.name, func(t *testing.T) {
			args := append(append([]string{"resolve"}, p.flags(l)...), cliCommon(l)...)
			out, errOut, code := runCLI(t, append(args, "lab.test/acme/app:v1", "lab.test/acme/multi:v1", "lab.test/secure/app:v1")...)
			want := strings.Join([]string{l.digest(t, "ACME_APP"), l.digest(t, "ACME_MULTI"), l.digest(t, "SECURE_APP")}, "\n") + "\n"
			if code != 0 || out != want {
				t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, out, want, errOut)
			}

			out, errOut, code = runCLI(t, append(args, "--platform", "linux/arm64", "lab.test/acme/multi:v1")...)
			if want := l.digest(t, "ACME_MULTI_LINUX_ARM64") + "\n"; code != 0 || out != want {
				t.Fatalf("--platform linux/arm64: exit %d, stdout %q, want %q\nstderr:\n%s", code, out, want, errOut)
			}
		})
	}
}

// -o json carries the index digest and the platform's, and how the answer
// was authenticated.
func TestCLIResolveJSON(t *testing.T) {
	l := needLab(t)
	p := resolverPaths[0]
	args := append(append([]string{"resolve", "-o", "json", "--platform", "linux/arm64"}, p.flags(l)...), cliCommon(l)...)
	out, errOut, code := runCLI(t, append(args, "lab.test/acme/multi:v1")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var res struct {
		Digest, PlatformDigest, Registry, Repository, Authenticated string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if res.Digest != l.digest(t, "ACME_MULTI") || res.PlatformDigest != l.digest(t, "ACME_MULTI_LINUX_ARM64") ||
		res.Repository != "acme/multi" || res.Authenticated != "dnssec" {
		t.Fatalf("json = %s", out)
	}
}

// A tampered zone: exit status 1 and one line on stderr naming the
// reference; the good reference beside it still resolves.
func TestCLIResolveTamperedZoneExitsOne(t *testing.T) {
	l := needLab(t)
	for _, p := range resolverPaths {
		t.Run(p.name, func(t *testing.T) {
			args := append(append([]string{"resolve"}, p.flags(l)...), cliCommon(l)...)
			out, errOut, code := runCLI(t, append(args, "bogus.lab.test/direct/app:v1", "lab.test/app:v1")...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if out != l.digest(t, "LAB_APP")+"\n" {
				t.Errorf("stdout %q, want only the good reference's digest", out)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "bogus.lab.test/direct/app:v1") {
				t.Errorf("stderr %q, want one line naming the reference", errOut)
			}
		})
	}
}

// `ocidns serve` answers /v1/resolve for the same names with the same
// digests, on an address it picked itself, and stops cleanly on SIGTERM.
func TestCLIServeAnswersResolve(t *testing.T) {
	l := needLab(t)
	s := startServe(t, l, resolverPaths[0])
	base := "http://" + s.addr
	for _, c := range labCases() {
		q := url.Values{"ref": {c.ref}}
		if c.platform != "" {
			q.Set("platform", c.platform)
		}
		var res struct{ Digest, PlatformDigest string }
		if status := getJSON(t, base+"/v1/resolve?"+q.Encode(), &res); status != http.StatusOK {
			t.Errorf("/v1/resolve %s: status %d", q.Encode(), status)
			continue
		}
		if res.Digest != l.digest(t, c.digest) {
			t.Errorf("/v1/resolve %s: digest %s, want %s", q.Encode(), res.Digest, l.digest(t, c.digest))
		}
		if c.platDigest != "" && res.PlatformDigest != l.digest(t, c.platDigest) {
			t.Errorf("/v1/resolve %s: platformDigest %s, want %s", q.Encode(), res.PlatformDigest, l.digest(t, c.platDigest))
		}
	}
	var e struct{ Code string }
	if status := getJSON(t, base+"/v1/resolve?ref="+url.QueryEscape("bogus.lab.test/direct/app:v1"), &e); status != http.StatusBadGateway || e.Code != "DISCOVERY_FAILED" {
		t.Errorf("/v1/resolve bogus: status %d code %q, want 502 DISCOVERY_FAILED", status, e.Code)
	}

	if !s.proc.stop(15 * time.Second) {
		t.Error("ocidns serve still running 15s after SIGTERM")
	} else if s.proc.err != nil {
		t.Errorf("ocidns serve after SIGTERM: %v", s.proc.err)
	}
}

// getJSON GETs u (bounded) and decodes a JSON body into v.
func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	c := &http.Client{Timeout: 40 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: body %q: %v", u, body, err)
	}
	return resp.StatusCode
}
