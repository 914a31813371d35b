package main

import (
	"bufio"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// contribDir is the systemd unit and config file shipped in the
// repository (.ci/run also checks the unit with systemd-analyze).
const contribDir = "../../contrib/systemd"

// readUnit parses a systemd unit file into section → key → values (a key
// may repeat), with comments and blank lines skipped.
func readUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not KEY=VALUE in a section: %q", path, n, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return unit
}

// The unit runs serve with the config file shipped beside it, which
// serve's own loader accepts and which listens on loopback; it reloads
// with SIGHUP; and it keeps its hardening.
func TestContribSystemdUnitAndConfig(t *testing.T) {
	unit := readUnit(t, filepath.Join(contribDir, "ocidns.service"))
	svc := unit["Service"]
	start := strings.Fields(strings.Join(svc["ExecStart"], " "))
	if len(start) < 4 || filepath.Base(start[0]) != "ocidns" || start[1] != "serve" {
		t.Fatalf("ExecStart %q: want ocidns serve --config FILE", start)
	}
	args := start[2:]
	var shipped string
	for i, a := range args {
		if a == "--config" && i+1 < len(args) {
			shipped = args[i+1]
			// The file the unit expects, as shipped.
			args[i+1] = filepath.Join(contribDir, filepath.Base(shipped))
		}
	}
	if shipped != "/etc/ocidns/ocidns.toml" {
		t.Errorf("ExecStart reads %q, want /etc/ocidns/ocidns.toml (the path the docs and the file's own comment give)", shipped)
	}
	s, err := settingsFrom(args...)
	if err != nil {
		t.Fatalf("the shipped config file: %v", err)
	}
	if _, err := s.resolverOptions(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("the shipped config file's resolver settings: %v", err)
	}
	host, _, err := net.SplitHostPort(s.listen)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		t.Errorf("the shipped config listens on %q: want a loopback address", s.listen)
	}

	want := map[string]string{
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"DynamicUser":             "yes",
		"StateDirectory":          "ocidns",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"CapabilityBoundingSet":   "",
		"SystemCallArchitectures": "native",
		"RestrictSUIDSGID":        "yes",
		"MemoryDenyWriteExecute":  "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectControlGroups":    "yes",
		"RestrictNamespaces":      "yes",
		"LockPersonality":         "yes",
		"SystemCallErrorNumber":   "EPERM",
		"ProtectKernelModules":    "yes",
		"ProtectClock":            "yes",
		"UMask":                   "0077",
		"Environment":             "HOME=%S/ocidns",
		"RestrictRealtime":        "yes",
		"ProtectHostname":         "yes",
		"ProtectKernelLogs":       "yes",
		"AmbientCapabilities":     "",
		"ProtectProc":             "invisible",
		"PrivateUsers":            "yes",
		"RemoveIPC":               "yes",
		"PrivateMounts":           "yes",
		"ProcSubset":              "pid",
		"Type":                    "exec",
		"Restart":                 "on-failure",
		"RestartSec":              "2s",
	}
	for k, v := range want {
		if got := svc[k]; len(got) != 1 || got[0] != v {
			t.Errorf("[Service] %s = %q, want %q", k, got, v)
		}
	}
	if got := strings.Join(svc["SystemCallFilter"], " | "); got != "@system-service | ~@privileged" {
		t.Errorf("[Service] SystemCallFilter %q, want @system-service without @privileged", got)
	}
	if got := unit["Install"]["WantedBy"]; len(got) != 1 || got[0] != "multi-user.target" {
		t.Errorf("[Install] WantedBy %q", got)
	}
}
