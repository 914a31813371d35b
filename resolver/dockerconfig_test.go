package resolver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDockerConfigKeysNormaliseLikeDocker(t *testing.T) {
	for in, want := range map[string]string{
		"https://index.docker.io/v1/":    "docker.io",
		"index.docker.io":                "docker.io",
		"registry-1.docker.io":           "docker.io",
		"docker.io":                      "docker.io",
		"https://registry.example.com":   "registry.example.com",
		"http://registry.example.com/v2": "registry.example.com",
		"Registry.Example.COM:5000":      "registry.example.com:5000",
		"registry.example.com:5000/path": "registry.example.com:5000",
		"https://registry.example.com/a": "registry.example.com",
		"[::1]:5000":                     "[::1]:5000",
		" ghcr.io ":                      "ghcr.io",
	} {
		if got := normalizeRegistryHost(in); got != want {
			t.Errorf("normalizeRegistryHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDockerConfigEntryForms(t *testing.T) {
	c, err := parseDockerConfig("cfg.json", []byte(`{
		"auths": {
			"https://index.docker.io/v1/": {"auth": "`+b64("hubuser:hubpass")+`"},
			"ghcr.io": {"username": "gh", "password": "ghp"},
			"unpadded.example": {"auth": "`+strings.TrimRight(b64("ab:c"), "=")+`"},
			"id.example": {"auth": "`+b64("<token>:")+`", "identitytoken": "rt"},
			"bad.example": {"auth": "!!!"},
			"nocolon.example": {"auth": "`+b64("justuser")+`"},
			"empty.example": {}
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for host, want := range map[string]dockerAuth{
		"registry-1.docker.io": {Username: "hubuser", Password: "hubpass"},
		"docker.io":            {Username: "hubuser", Password: "hubpass"},
		"ghcr.io":              {Username: "gh", Password: "ghp"},
		"unpadded.example":     {Username: "ab", Password: "c"},
		"id.example":           {Username: "<token>", IdentityToken: "rt"},
	} {
		got, ok, err := c.lookup(ctx, host, "org/app")
		got.Key, got.Source = "", ""
		if err != nil || !ok || got.Username != want.Username || got.Password != want.Password || got.IdentityToken != want.IdentityToken {
			t.Errorf("lookup(%s) = %v %v %v, want %v", host, got, ok, err, want)
		}
	}
	for _, host := range []string{"bad.example", "nocolon.example"} {
		if _, ok, err := c.lookup(ctx, host, "org/app"); ok || err == nil || !strings.Contains(err.Error(), `auths["`+host+`"]`) {
			t.Errorf("lookup(%s): ok=%v err=%v, want an error naming the key", host, ok, err)
		}
	}
	// Exact host only: no port wildcards, no parent domains.
	for _, host := range []string{"ghcr.io:443", "sub.ghcr.io", "empty.example", "other.example"} {
		if _, ok, err := c.lookup(ctx, host, "org/app"); ok || err != nil {
			t.Errorf("lookup(%s) = %v %v, want nothing", host, ok, err)
		}
	}
	if m := c.missing("other.example"); m != "no credentials for other.example in cfg.json" {
		t.Errorf("missing: %q", m)
	}
	var nilCfg *credentials
	if _, ok, err := nilCfg.lookup(ctx, "x", "y"); ok || err != nil {
		t.Error("nil credentials must have none")
	}
}

// A dockerAuth never prints its secrets, whatever the verb.
func TestDockerAuthPrintsNoSecret(t *testing.T) {
	a := dockerAuth{Username: "u", Password: "hunter2", IdentityToken: "refresh-xyz", Key: "reg.example", Source: "cfg.json"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		t.Run(verb, func(t *testing.T) {
			out := fmt.Sprintf(verb, a)
			if strings.Contains(out, "hunter2") || strings.Contains(out, "refresh-xyz") || !strings.Contains(out, "reg.example") {
				t.Errorf("%s: %q", verb, out)
			}
		})
	}
}

func TestDockerConfigErrorsNameTheFileAndPlace(t *testing.T) {
	dir := t.TempDir()
	_, err := loadDockerConfig(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want os.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "config.json")
	if err := os.WriteFile(bad, []byte("{\n  \"auths\": {\n    \"x\": {\"auth\": 12}\n  }\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadDockerConfig(bad)
	if err == nil || !strings.Contains(err.Error(), bad+":3:") {
		t.Fatalf("type error: %v, want file:line", err)
	}
	if err := os.WriteFile(bad, []byte("{\"auths\": {,}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadDockerConfig(bad)
	if err == nil || !strings.Contains(err.Error(), bad+":1:") {
		t.Fatalf("syntax error: %v, want file:line:col", err)
	}
}

func TestDefaultDockerConfigPath(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "/etc/dc")
	if got := defaultDockerConfigPath(); got != "/etc/dc/config.json" {
		t.Errorf("with DOCKER_CONFIG: %q", got)
	}
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("HOME", "/home/u")
	if got := defaultDockerConfigPath(); got != "/home/u/.docker/config.json" {
		t.Errorf("from HOME: %q", got)
	}
}
