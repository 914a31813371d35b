package main

import (
	"strings"
	"testing"
)

// engine-config prints each engine's files with where they go; bad input
// is a usage error naming it. The e2e tests feed these files to real
// containerd, skopeo and podman.
func TestEngineConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"containerd default", []string{"containerd"}, 0, []string{
			"# ---- /etc/containerd/certs.d/_default/hosts.toml ----",
			"[host.\"http://127.0.0.1:5080\"]\n  capabilities = [\"pull\", \"resolve\"]\n"}},
		{"containerd per domain", []string{"containerd", "--listen", "127.0.0.1:6000", "--domain", "example.com", "--domain", "example.org"}, 0, []string{
			"# ---- /etc/containerd/certs.d/example.com/hosts.toml ----", "server = \"https://example.com\"",
			"# ---- /etc/containerd/certs.d/example.org/hosts.toml ----", "[host.\"http://127.0.0.1:6000\"]"}},
		{"podman", []string{"podman", "--domain", "example.com", "--domain", "example.org"}, 0, []string{
			"/etc/containers/registries.conf.d/50-ocidns.conf",
			"[[registry]]\nprefix = \"example.com\"\nlocation = \"example.com\"\n\n[[registry.mirror]]\nlocation = \"127.0.0.1:5080/example.com\"\ninsecure = true\n",
			"prefix = \"example.org\""}},
		{"docker", []string{"docker", "--domain", "example.com"}, 0, []string{
			"docker pull 127.0.0.1:5080/example.com/org/app:v1", "/etc/docker/daemon.json", "/etc/docker/certs.d/example.com/hosts.toml"}},
		{"podman without a domain", []string{"podman"}, 2, []string{"needs --domain"}},
		{"unknown engine", []string{"rkt"}, 2, []string{`engine "rkt"`}},
		{"no engine", nil, 2, []string{"name one engine"}},
		{"unspecified listen", []string{"containerd", "--listen", "0.0.0.0:5080"}, 2, []string{"engines connect to"}},
		{"bad listen", []string{"containerd", "--listen", "5080"}, 2, []string{"HOST:PORT"}},
		{"domain with a port", []string{"podman", "--domain", "example.com:5000"}, 2, []string{"--domain"}},
		{"domain is an IP", []string{"podman", "--domain", "10.0.0.1"}, 2, []string{"--domain"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"engine-config"}, tc.args...)...)
			text := out
			if tc.code != 0 {
				text = errOut
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
