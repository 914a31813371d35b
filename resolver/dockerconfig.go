package resolver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// This file reads one credentials file: Docker's config.json (what `docker
// login` writes) or containers' auth.json (what `podman login` writes).
// Both are JSON with the same "auths" and "credHelpers" maps; Docker's also
// has "credsStore". credentials.go decides the order the files are read in
// and runs the helpers they name.
//
// An "auths" entry holds "auth" (base64 of user:password), or "username" and
// "password", and may hold an "identitytoken" (an OAuth2 refresh token).
// Its key is a registry host, a URL of one (Docker's
// "https://index.docker.io/v1/"), or — as containers' files allow in any
// of them — host/namespace, which applies only to the repositories under
// that namespace.

// maxAuthFileSize bounds a credentials file read into memory.
const maxAuthFileSize = 4 << 20

// dockerHubHost is the key Docker Hub's aliases normalise to.
const dockerHubHost = "docker.io"

// fileKind says which tool's rules a credentials file follows.
type fileKind int

const (
	// dockerFile is Docker's config.json: its credsStore is the default
	// helper, and helpers are asked for Docker Hub as
	// "https://index.docker.io/v1/".
	dockerFile fileKind = iota
	// containersFile is containers' auth.json: no credsStore, and helpers
	// are asked for the registry's host as it is.
	containersFile
)

// dockerAuth is one registry's credentials. It never prints its secrets.
type dockerAuth struct {
	Username, Password string
	// IdentityToken is an OAuth2 refresh token, sent to the token realm
	// with grant_type=refresh_token instead of the password.
	IdentityToken string
	// Key is the auths key as written in the file, or the helper's server
	// URL; Source says where the credentials came from (a file, or a
	// helper and the file that names it). Both are for messages.
	Key, Source string
}

// String names the credentials without their secrets, so that no %v of a
// dockerAuth can leak one.
func (a dockerAuth) String() string { return fmt.Sprintf("credentials %q from %s", a.Key, a.Source) }

// GoString is String, for %#v.
func (a dockerAuth) GoString() string { return a.String() }

// authFile is one parsed credentials file. Safe for concurrent reads.
type authFile struct {
	path string
	kind fileKind
	// auths is keyed by normalised key: host[:port], or host[:port]/path
	// for a namespace entry.
	auths       map[string]dockerAuth
	bad         map[string]error  // normalised key → why its entry cannot be used
	credsStore  string            // the default helper (Docker's file only)
	credHelpers map[string]string // host → helper
}

// helperName is what a helper's name may look like: the suffix of a
// program docker-credential-NAME found on $PATH, never a path.
var helperName = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// loadAuthFile reads the credentials file at path. A missing file is an
// error wrapping os.ErrNotExist (callers searching default paths skip it).
// Malformed JSON is an error naming the file, line and column; so is a
// helper name that is not a plain name. An unusable entry (bad base64, no
// colon) does not fail the load: it fails only lookups that reach it,
// naming its key.
func loadAuthFile(path string, kind fileKind) (*authFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAuthFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	if len(data) > maxAuthFileSize {
		return nil, fmt.Errorf("credentials file %s: larger than %d bytes", path, maxAuthFileSize)
	}
	return parseAuthFile(path, kind, data)
}

func parseAuthFile(path string, kind fileKind, data []byte) (*authFile, error) {
	var raw rawAuthFile
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonError(path, data, err)
	}
	c := &authFile{path: path, kind: kind, auths: map[string]dockerAuth{}, bad: map[string]error{}, credHelpers: map[string]string{}}
	if kind == dockerFile && raw.CredsStore != "" {
		if !helperName().MatchString(raw.CredsStore) {
			return nil, fmt.Errorf("credentials file %s: credsStore %q is not a helper name (docker-credential-NAME on $PATH)", path, raw.CredsStore)
		}
		c.credsStore = raw.CredsStore
	}
	for k, h := range raw.CredHelpers {
		if !helperName().MatchString(h) {
			return nil, fmt.Errorf("credentials file %s: credHelpers[%q] = %q is not a helper name (docker-credential-NAME on $PATH)", path, k, h)
		}
		if host := normalizeRegistryHost(k); host != "" {
			c.credHelpers[host] = h
		}
	}
	for _, k := range authKeysInOrder(raw.Auths) {
		nk := normalizeAuthKey(k)
		if nk == "" {
			continue
		}
		if _, done := c.auths[nk]; done {
			continue
		}
		a, err := authEntry(path, k, raw.Auths[k])
		if err != nil {
			c.bad[nk] = err
			continue
		}
		if a.Username == "" && a.Password == "" && a.IdentityToken == "" {
			continue // an empty entry: the credentials are in a helper
		}
		delete(c.bad, nk)
		c.auths[nk] = a
	}
	return c, nil
}

// rawAuthFile is what parseAuthFile reads of a docker config.json or a
// containers auth.json.
type rawAuthFile struct {
	Auths       map[string]rawAuth `json:"auths"`
	CredsStore  string             `json:"credsStore"`
	CredHelpers map[string]string  `json:"credHelpers"`
}

// rawAuth is one entry of "auths".
type rawAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

// jsonError names where in the file at path, holding data, the JSON
// decoding error err is.
func jsonError(path string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset)
		return fmt.Errorf("credentials file %s:%d:%d: %v", path, line, col, se)
	case errors.As(err, &te):
		line, col := lineCol(data, te.Offset)
		return fmt.Errorf("credentials file %s:%d:%d: field %q: want %s, have %s", path, line, col, te.Field, te.Type, te.Value)
	}
	return fmt.Errorf("credentials file %s: %w", path, err)
}

// authKeysInOrder returns the keys of auths in the order they are read.
// Several keys may name one entry ("https://index.docker.io/v1/" and
// "docker.io"); a fixed order makes the winner stable: the keys already
// in normal form first, then the others, each sorted.
func authKeysInOrder(auths map[string]rawAuth) []string {
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ni, nj := normalizeAuthKey(keys[i]) == keys[i], normalizeAuthKey(keys[j]) == keys[j]
		if ni != nj {
			return ni
		}
		return keys[i] < keys[j]
	})
	return keys
}

// authEntry decodes the entry auths[key] of the file at path: "auth"
// (base64 of user:password, padded or not, as Docker accepts) wins over
// "username" and "password".
func authEntry(path, key string, e rawAuth) (dockerAuth, error) {
	a := dockerAuth{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, Key: key, Source: path}
	if e.Auth == "" {
		return a, nil
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Auth))
	if err != nil {
		dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(e.Auth), "="))
	}
	if err != nil {
		return a, fmt.Errorf("credentials file %s: auths[%q].auth is not base64: %v", path, key, err)
	}
	user, pass, ok := strings.Cut(string(dec), ":")
	if !ok {
		return a, fmt.Errorf("credentials file %s: auths[%q].auth does not decode to user:password", path, key)
	}
	a.Username, a.Password = user, strings.Trim(pass, "\x00")
	return a, nil
}

// inline returns the file's own credentials for repository repo at host,
// the most specific key first: host/a/b/c, host/a/b, host/a, then host
// (containers-auth.json(5)). err is set when the best matching entry is
// unusable.
func (c *authFile) inline(host, repo string) (a dockerAuth, ok bool, err error) {
	h := normalizeRegistryHost(host)
	key := h + "/" + repo
	for {
		if err := c.bad[key]; err != nil {
			return dockerAuth{}, false, err
		}
		if a, ok := c.auths[key]; ok {
			return a, true, nil
		}
		i := strings.LastIndexByte(key, '/')
		if i < len(h) {
			return dockerAuth{}, false, nil
		}
		key = key[:i]
	}
}

// helperFor returns the helper that keeps host's credentials in this file
// (its credHelpers entry, else Docker's credsStore), and the server URL to
// ask it for.
func (c *authFile) helperFor(host string) (helper, serverURL, why string) {
	h := normalizeRegistryHost(host)
	serverURL = h
	if c.kind == dockerFile && h == dockerHubHost {
		serverURL = "https://index.docker.io/v1/" // the key `docker login` stores Docker Hub under
	}
	if helper := c.credHelpers[h]; helper != "" {
		return helper, serverURL, fmt.Sprintf("credHelpers of %s", c.path)
	}
	if c.credsStore != "" {
		return c.credsStore, serverURL, fmt.Sprintf("credsStore of %s", c.path)
	}
	return "", "", ""
}

// normalizeAuthKey turns an auths key into the form it is matched in: a
// URL (with a scheme) is cut to its host, as Docker writes them; a key
// without a scheme keeps its path, a namespace (containers-auth.json(5)).
// The host is normalised as normalizeRegistryHost does.
func normalizeAuthKey(k string) string {
	k = strings.TrimSpace(k)
	if strings.Contains(k, "://") {
		return normalizeRegistryHost(k)
	}
	host, path, ok := strings.Cut(k, "/")
	host = normalizeRegistryHost(host)
	if !ok || host == "" {
		return host
	}
	path = strings.Trim(path, "/")
	if path == "" {
		return host
	}
	return host + "/" + path
}

// normalizeRegistryHost turns a registry host (or a URL of one) into the
// form hosts are matched in, as Docker does: scheme and path dropped, host
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
