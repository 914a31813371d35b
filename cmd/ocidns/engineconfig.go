package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ocidns/ocidns/discovery"
)

func init() {
	register(command{
		name:    "engine-config",
		summary: "print the files that send an engine's pulls through ocidns serve",
		usage:   "ocidns engine-config containerd|docker|podman [--listen ADDR] [--domain D]...",
		run:     runEngineConfig,
	})
}

// configFile is one file an engine reads: where it goes, what it does,
// and its text.
type configFile struct {
	path    string
	comment string
	text    string
}

func runEngineConfig(_ context.Context, args []string, stdio IO) int {
	fs := newFlagSet("engine-config")
	listen := fs.String("listen", "127.0.0.1:5080", "the address ocidns serve listens on, as engines reach it")
	domains := fs.StringArray("domain", nil, "a domain whose names go through ocidns (repeatable; podman needs at least one)")
	synopsis := "ocidns engine-config containerd|docker|podman [--listen ADDR] [--domain D]..."
	if code, done := parseFlags(fs, synopsis, engineConfigAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stdio, "engine-config", "name one engine: containerd, docker or podman")
	}
	files, err := engineConfig(fs.Arg(0), *listen, *domains)
	if err != nil {
		return usageError(stdio, "engine-config", "%v", err)
	}
	writeConfigFiles(stdio.Out, files)
	return exitOK
}

// writeConfigFiles prints each file after comment lines saying where it
// goes and what it does.
func writeConfigFiles(w io.Writer, files []configFile) {
	for i, f := range files {
		if i > 0 {
			io.WriteString(w, "\n")
		}
		fmt.Fprintf(w, "# ---- %s ----\n", f.path)
		for _, line := range strings.Split(f.comment, "\n") {
			fmt.Fprintf(w, "# %s\n", line)
		}
		io.WriteString(w, f.text)
	}
}

// engineConfig returns the files that point engine at the front door on
// listen, for every name (containerd's _default) or for domains.
func engineConfig(engine, listen string, domains []string) ([]configFile, error) {
	addr, err := checkListen(listen)
	if err != nil {
		return nil, err
	}
	for _, d := range domains {
		name, usesDNS, err := discovery.ParseHost(d)
		if err != nil || !usesDNS || name != strings.ToLower(d) {
			return nil, fmt.Errorf("--domain %q: want a DNS name without port, as image names start with it", d)
		}
	}
	switch engine {
	case "containerd":
		return containerdConfig(addr, domains), nil
	case "docker":
		return dockerConfig(addr, domains), nil
	case "podman", "skopeo", "buildah", "cri-o", "containers":
		if len(domains) == 0 {
			return nil, fmt.Errorf("%s needs --domain: containers/image mirrors one prefix at a time, and a wildcard prefix loses the host", engine)
		}
		return podmanConfig(addr, domains), nil
	}
	return nil, fmt.Errorf("engine %q: want containerd, docker or podman", engine)
}

// checkListen accepts host:port with a host engines can connect to.
func checkListen(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: want HOST:PORT", listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("--listen %q: port must be 1 to 65535", listen)
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		return "", fmt.Errorf("--listen %q: give the address engines connect to, not the one serve binds", listen)
	}
	return net.JoinHostPort(host, port), nil
}

func containerdConfig(addr string, domains []string) []configFile {
	hostBlock := fmt.Sprintf("[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", addr)
	how := "containerd reads it when its CRI registry config_path points at /etc/containerd/certs.d\n" +
		"(config.toml: [plugins.\"io.containerd.grpc.v1.cri\".registry] config_path = \"/etc/containerd/certs.d\"),\n" +
		"and ctr and nerdctl with --hosts-dir /etc/containerd/certs.d. Restarting containerd is not needed."
	if len(domains) == 0 {
		return []configFile{{
			path: "/etc/containerd/certs.d/_default/hosts.toml",
			comment: "Every pull asks ocidns serve first (HEAD/GET /v2/...?ns=HOST). For a name whose host publishes\n" +
				"no delegation it answers 404 and containerd goes to the host itself.\n" + how,
			text: hostBlock,
		}}
	}
	var files []configFile
	for _, d := range domains {
		files = append(files, configFile{
			path:    "/etc/containerd/certs.d/" + d + "/hosts.toml",
			comment: "Pulls of " + d + "/... ask ocidns serve first, then https://" + d + " itself.\n" + how,
			text:    fmt.Sprintf("server = \"https://%s\"\n\n%s", d, hostBlock),
		})
	}
	return files
}

func dockerConfig(addr string, domains []string) []configFile {
	example := "example.com/org/app:v1"
	if len(domains) > 0 {
		example = domains[0] + "/org/app:v1"
	}
	host, _, _ := net.SplitHostPort(addr)
	loopback := host == "localhost"
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		loopback = true
	}
	daemon := "{\n  \"insecure-registries\": [\"" + addr + "\"]\n}\n"
	note := "Docker's registry-mirrors apply to docker.io only: name the image through ocidns instead,\n" +
		"  docker pull " + addr + "/" + example + "\n" +
		"(the front door takes the first path component as the host). ocidns serve speaks plain HTTP:\n"
	if loopback {
		note += "Docker already treats 127.0.0.0/8 as insecure, so daemon.json needs nothing for " + addr + ";\n" +
			"the entry below is for a listener reached under another name."
	} else {
		note += "merge this into /etc/docker/daemon.json and restart dockerd."
	}
	files := []configFile{{path: "/etc/docker/daemon.json", comment: note, text: daemon}}
	for _, f := range containerdConfig(addr, domains) {
		f.path = strings.Replace(f.path, "/etc/containerd/", "/etc/docker/", 1)
		f.comment = "With the containerd image store, dockerd reads hosts.toml files under /etc/docker/certs.d:\n" +
			"plain `docker pull " + example + "` then goes through ocidns as with containerd."
		files = append(files, f)
	}
	return files
}

func podmanConfig(addr string, domains []string) []configFile {
	var b strings.Builder
	for i, d := range domains {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[[registry]]\nprefix = %q\nlocation = %q\n\n[[registry.mirror]]\nlocation = %q\ninsecure = true\n",
			d, d, addr+"/"+d)
	}
	return []configFile{{
		path: "/etc/containers/registries.conf.d/50-ocidns.conf",
		comment: "podman, skopeo, buildah and CRI-O (containers/image) try the mirror, ocidns serve, first and\n" +
			"fall back to the host itself. One [[registry]] per domain: a wildcard prefix would lose the host.\n" +
			"For one user: ~/.config/containers/registries.conf.d/; for one command: CONTAINERS_REGISTRIES_CONF=FILE\n" +
			"(that file then needs unqualified-search-registries = [] at the top). insecure: serve speaks plain HTTP.",
		text: b.String(),
	}}
}

const engineConfigAbout = "Prints the configuration files that make a container engine pull through the registry front door of ocidns serve (/v2/ on --listen), each after a comment saying where it goes. containerd: certs.d/_default/hosts.toml (every name), or one hosts.toml per --domain. docker: how to name images through the front door, daemon.json, and the hosts.toml of the containerd image store. podman (also skopeo, buildah, CRI-O): a registries.conf drop-in with one [[registry]] and mirror per --domain. Nothing is written: redirect the output or copy the parts."
