package resolver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// This file reads registry credentials from Docker's config.json, the file
// `docker login` writes. Only inline credentials are used: the "auths"
// entries ("auth" = base64 of user:password, or "username"/"password", or an
// "identitytoken" for the OAuth2 refresh flow). Credential helpers
// ("credsStore", "credHelpers") are NOT run — ocidns never executes
// programs named in a file — but an error message says when a host's
// credentials live in one.

// maxDockerConfigSize bounds the config file read into memory.
const maxDockerConfigSize = 4 << 20

// dockerHubHost is the key Docker Hub's aliases normalise to.
const dockerHubHost = "docker.io"

// dockerAuth is one registry's credentials.
type dockerAuth struct {
	Username, Password string
	// IdentityToken is an OAuth2 refresh token, sent to the token realm
	// with grant_type=refresh_token instead of the password.
	IdentityToken string
	// Key is the auths key as written in the file, for messages.
	Key string
}

// dockerConfig is the credentials part of a Docker config file, keyed by
// normalised registry host. Safe for concurrent reads.
type dockerConfig struct {
	path        string
	auths       map[string]dockerAuth
	bad         map[string]error  // host → why its entry cannot be used
	credsStore  string            // global helper, not run
	credHelpers map[string]string // host → helper, not run
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

// loadDockerConfig reads the Docker config file at path ("" for the default
// path). A missing file is an error wrapping os.ErrNotExist (callers using
// the default path ignore it). Malformed JSON is an error naming the file,
// line and column. An unusable entry (bad base64, no colon) does not fail
// the load: it fails only lookups for its host, naming the key.
func loadDockerConfig(path string) (*dockerConfig, error) {
	if path == "" {
		if path = defaultDockerConfigPath(); path == "" {
			return nil, fmt.Errorf("docker config: no $DOCKER_CONFIG and no home directory: %w", os.ErrNotExist)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDockerConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("docker config %s: %w", path, err)
	}
	if len(data) > maxDockerConfigSize {
		return nil, fmt.Errorf("docker config %s: larger than %d bytes", path, maxDockerConfigSize)
	}
	return parseDockerConfig(path, data)
}

func parseDockerConfig(path string, data []byte) (*dockerConfig, error) {
	var raw struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
		CredsStore  string            `json:"credsStore"`
		CredHelpers map[string]string `json:"credHelpers"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("docker config %s:%d:%d: %v", path, line, col, se)
		case errors.As(err, &te):
			line, col := lineCol(data, te.Offset)
			return nil, fmt.Errorf("docker config %s:%d:%d: field %q: want %s, have %s", path, line, col, te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("docker config %s: %w", path, err)
	}
	c := &dockerConfig{path: path, auths: map[string]dockerAuth{}, bad: map[string]error{},
		credsStore: raw.CredsStore, credHelpers: map[string]string{}}
	for k, h := range raw.CredHelpers {
		c.credHelpers[normalizeRegistryHost(k)] = h
	}

	// Several keys may name one host ("https://index.docker.io/v1/" and
	// "docker.io"); visit them in a fixed order so the winner is stable:
	// the key already in normal form first, then the others sorted.
	keys := make([]string, 0, len(raw.Auths))
	for k := range raw.Auths {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ni, nj := normalizeRegistryHost(keys[i]) == keys[i], normalizeRegistryHost(keys[j]) == keys[j]
		if ni != nj {
			return ni
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		host := normalizeRegistryHost(k)
		if host == "" {
			continue
		}
		if _, done := c.auths[host]; done {
			continue
		}
		e := raw.Auths[k]
		a := dockerAuth{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, Key: k}
		if e.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Auth))
			if err != nil {
				// Docker accepts unpadded values too.
				dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(e.Auth), "="))
			}
			if err != nil {
				c.bad[host] = fmt.Errorf("docker config %s: auths[%q].auth is not base64: %v", path, k, err)
				continue
			}
			user, pass, ok := strings.Cut(string(dec), ":")
			if !ok {
				c.bad[host] = fmt.Errorf("docker config %s: auths[%q].auth does not decode to user:password", path, k)
				continue
			}
			a.Username, a.Password = user, pass
		}
		if a.Username == "" && a.Password == "" && a.IdentityToken == "" {
			continue // an empty entry: the credentials are in a helper
		}
		delete(c.bad, host)
		c.auths[host] = a
	}
	return c, nil
}

// lookup returns the credentials for exactly this registry host[:port]
// (Docker Hub's aliases count as one host). ok is false when there are none;
// err is set when the host's entry exists but is unusable. Nil-safe.
func (c *dockerConfig) lookup(host string) (a dockerAuth, ok bool, err error) {
	if c == nil {
		return dockerAuth{}, false, nil
	}
	h := normalizeRegistryHost(host)
	if err := c.bad[h]; err != nil {
		return dockerAuth{}, false, err
	}
	a, ok = c.auths[h]
	return a, ok, nil
}

// missing explains why there are no credentials for host, for an
// "unauthorized" error.
func (c *dockerConfig) missing(host string) string {
	if c == nil {
		return "no docker config loaded"
	}
	h := normalizeRegistryHost(host)
	if helper := c.credHelpers[h]; helper != "" {
		return fmt.Sprintf("%s keeps the credentials for %s in credential helper %q, which ocidns does not run", c.path, h, helper)
	}
	if c.credsStore != "" {
		return fmt.Sprintf("no inline credentials for %s in %s (credsStore %q is not run by ocidns)", h, c.path, c.credsStore)
	}
	return fmt.Sprintf("no credentials for %s in %s", h, c.path)
}

// normalizeRegistryHost turns an auths key or a registry host into the form
// they are matched in, as Docker does: scheme and path dropped, host
// lower-cased, port kept, Docker Hub's names collapsed into docker.io.
func normalizeRegistryHost(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	switch s {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "docker.io":
		return dockerHubHost
	}
	return s
}

// lineCol converts a byte offset into 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// where names the config file for messages; nil-safe.
func (c *dockerConfig) where() string {
	if c == nil {
		return "no docker config"
	}
	return c.path
}
