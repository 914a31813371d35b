package resolver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ocidns/ocidns/cache"
	"github.com/ocidns/ocidns/discovery/trace"
)

// This file finds a registry's credentials as the container engines on the
// machine do. Without WithAuthFile or WithDockerConfig the files are, in
// order (containers-auth.json(5), then Docker's):
//
//  1. $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json,
//     else /run/containers/$UID/auth.json (what `podman login` writes);
//  2. $XDG_CONFIG_HOME/containers/auth.json (default ~/.config/…);
//  3. $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
//
// Missing files are skipped. In each file, in turn: the credHelpers entry
// for the registry's host, Docker's credsStore, then the file's own auths
// entries, most specific key first. The first credentials found are used.
// A helper that has none for the registry, or is not installed, passes the
// search on; a helper that fails ends it with an error.

// Bounds of the helpers' answers kept: one per (helper, server URL), for a
// short while, so that a burst of token requests runs a helper once.
const (
	helperCacheTTL  = time.Minute
	helperCacheSize = 256
	// maxHelperRuns bounds the helper processes running at once.
	maxHelperRuns = 4
)

// credPath is a file the search reads.
type credPath struct {
	path string
	kind fileKind
	// required files (named by an option) must exist.
	required bool
}

// helperKey identifies one helper answer.
type helperKey struct{ helper, serverURL string }

// helperAnswer is a helper's answer: credentials, or none (found false),
// or none because the program is not installed.
type helperAnswer struct {
	auth         dockerAuth
	found        bool
	notInstalled bool
}

// credentials is the credentials search over a fixed list of files, read
// once; helpers run when a registry asks. Safe for concurrent use; a nil
// *credentials has no credentials.
type credentials struct {
	files   []*authFile
	looked  []string // every path considered, for messages
	timeout time.Duration
	helpers *cache.Cache[helperKey, helperAnswer]
}

// defaultCredPaths is the search list without options: containers' files,
// then Docker's.
func defaultCredPaths() []credPath {
	var paths []credPath
	switch {
	case os.Getenv("REGISTRY_AUTH_FILE") != "":
		paths = append(paths, credPath{path: os.Getenv("REGISTRY_AUTH_FILE"), kind: containersFile})
	case os.Getenv("XDG_RUNTIME_DIR") != "":
		paths = append(paths, credPath{path: filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "containers", "auth.json"), kind: containersFile})
	default:
		paths = append(paths, credPath{path: filepath.Join("/run/containers", strconv.Itoa(os.Getuid()), "auth.json"), kind: containersFile})
	}
	home, _ := os.UserHomeDir()
	if cfg := os.Getenv("XDG_CONFIG_HOME"); cfg != "" {
		paths = append(paths, credPath{path: filepath.Join(cfg, "containers", "auth.json"), kind: containersFile})
	} else if home != "" {
		paths = append(paths, credPath{path: filepath.Join(home, ".config", "containers", "auth.json"), kind: containersFile})
	}
	if p := defaultDockerConfigPath(); p != "" {
		paths = append(paths, credPath{path: p, kind: dockerFile})
	}
	return paths
}

// defaultDockerConfigPath is $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json, else "" when there is no home directory.
func defaultDockerConfigPath() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// credPathsFor is the search list o describes: the files named by
// WithAuthFile, then WithDockerConfig's, all required; else the default.
func credPathsFor(o *options) []credPath {
	if len(o.authFiles) == 0 && o.dockerConfig == "" {
		return defaultCredPaths()
	}
	var paths []credPath
	for _, f := range o.authFiles {
		paths = append(paths, credPath{path: f, kind: containersFile, required: true})
	}
	if o.dockerConfig != "" {
		paths = append(paths, credPath{path: o.dockerConfig, kind: dockerFile, required: true})
	}
	return paths
}

// loadCredentials reads the files of paths. A required file that is
// missing, or any file that cannot be read or parsed, is an error naming it.
func loadCredentials(paths []credPath, helperTimeout time.Duration) (*credentials, error) {
	var files []*authFile
	var looked []string
	for _, p := range paths {
		looked = append(looked, p.path)
		f, err := loadAuthFile(p.path, p.kind)
		if err != nil {
			if !p.required && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		files = append(files, f)
	}
	return newCredentials(files, looked, helperTimeout), nil
}

func newCredentials(files []*authFile, looked []string, helperTimeout time.Duration) *credentials {
	if helperTimeout <= 0 {
		helperTimeout = defaultHelperTimeout
	}
	return &credentials{
		files:   files,
		looked:  looked,
		timeout: helperTimeout,
		helpers: cache.New[helperKey, helperAnswer](cache.Config{
			Size:        helperCacheSize,
			StaleWindow: -1,
			MaxCalls:    maxHelperRuns,
			CallTimeout: helperTimeout + helperWaitDelay + time.Second,
		}),
	}
}

// lookup returns the credentials for repository repo at registry host
// (host[:port]; Docker Hub's aliases count as one host). ok is false when
// there are none; err is set when an entry that applies is unusable or its
// helper failed. Nil-safe.
func (c *credentials) lookup(ctx context.Context, host, repo string) (a dockerAuth, ok bool, err error) {
	if c == nil {
		return dockerAuth{}, false, nil
	}
	for _, f := range c.files {
		if helper, serverURL, why := f.helperFor(host); helper != "" {
			ans, hit, err := c.ask(ctx, helper, serverURL)
			ev := trace.Event{Source: "registry", Query: "docker-credential-" + helper + " get " + serverURL, Server: host}
			switch {
			case err != nil:
				ev.Outcome, ev.Decision = "error", "credential helper failed (named by "+why+")"
			case ans.found:
				ev.Outcome, ev.Decision = "credentials", "using the helper's credentials (named by "+why+")"
			case ans.notInstalled:
				ev.Outcome, ev.Decision = "not installed", "no such program on $PATH: going on without it (named by "+why+")"
			default:
				ev.Outcome, ev.Decision = "none", "the helper has no credentials for "+serverURL
			}
			if hit {
				ev.Decision += "; answer cached"
			}
			trace.FromContext(ctx).Add(ev)
			if err != nil {
				return dockerAuth{}, false, fmt.Errorf("%w (named by %s)", err, why)
			}
			if ans.found {
				a := ans.auth
				a.Source = "docker-credential-" + helper + " (" + why + ")"
				return a, true, nil
			}
		}
		if a, ok, err := f.inline(host, repo); err != nil || ok {
			return a, ok, err
		}
	}
	return dockerAuth{}, false, nil
}

// ask returns the helper's answer for serverURL, from the short-lived
// cache (hit) or by running it; concurrent askers share one run.
func (c *credentials) ask(ctx context.Context, helper, serverURL string) (ans helperAnswer, hit bool, err error) {
	ans, st, err := c.helpers.Fetch(ctx, helperKey{helper, serverURL}, func(ctx context.Context) (helperAnswer, time.Duration, error) {
		a, err := runHelper(ctx, helper, serverURL, c.timeout)
		switch {
		case errors.Is(err, errHelperNoCredentials):
			return helperAnswer{}, helperCacheTTL, nil
		case errors.Is(err, exec.ErrNotFound):
			return helperAnswer{notInstalled: true}, helperCacheTTL, nil
		case err != nil:
			return helperAnswer{}, 0, err
		}
		return helperAnswer{auth: a, found: true}, helperCacheTTL, nil
	})
	return ans, st.Hit, err
}

// missing explains why there are no credentials for host, for an
// "unauthorized" error.
func (c *credentials) missing(host string) string {
	if c == nil {
		return "no credentials files loaded"
	}
	h := normalizeRegistryHost(host)
	var helpers []string
	for _, f := range c.files {
		if helper, _, why := f.helperFor(host); helper != "" {
			prog := "docker-credential-" + helper
			state := "has none for it"
			if _, err := exec.LookPath(prog); err != nil {
				state = "is not installed"
			}
			helpers = append(helpers, fmt.Sprintf("%s (%s) %s", prog, why, state))
		}
	}
	if len(c.files) == 0 {
		return fmt.Sprintf("no credentials for %s: no credentials file found (looked for %s)", h, strings.Join(c.looked, ", "))
	}
	read := make([]string, len(c.files))
	for i, f := range c.files {
		read[i] = f.path
	}
	msg := fmt.Sprintf("no credentials for %s in %s", h, strings.Join(read, ", "))
	if len(helpers) > 0 {
		msg += "; " + strings.Join(helpers, "; ")
	}
	return msg
}
