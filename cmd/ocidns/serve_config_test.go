package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ocidns/ocidns/internal/testkit"
)

// writeConfig writes a config file for the test and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ocidns.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// settingsFrom parses args (with --config) as serve does at start.
func settingsFrom(args ...string) (*serveSettings, error) {
	fs, s := newServeFlags()
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return s, s.finish(fs)
}

// Every flag of serve is a key of its config file, taking what the flag
// takes: a file setting each key gives the settings the flags give.
func TestServeConfigFileHasEveryFlag(t *testing.T) {
	fs, _ := newServeFlags()
	var toml strings.Builder
	var args []string
	fs.VisitAll(func(f *pflag.Flag) {
		if notInConfig[f.Name] {
			return
		}
		switch f.Value.Type() {
		case "string":
			v := "value-of-" + f.Name
			fmt.Fprintf(&toml, "%s = %q\n", f.Name, v)
			args = append(args, "--"+f.Name, v)
		case "duration":
			fmt.Fprintf(&toml, "%s = \"7s\"\n", f.Name)
			args = append(args, "--"+f.Name, "7s")
		case "bool":
			def, _ := strconv.ParseBool(f.DefValue)
			fmt.Fprintf(&toml, "%s = %t\n", f.Name, !def)
			args = append(args, "--"+f.Name+"="+strconv.FormatBool(!def))
		case "int":
			fmt.Fprintf(&toml, "%s = 7\n", f.Name)
			args = append(args, "--"+f.Name, "7")
		case "stringArray":
			fmt.Fprintf(&toml, "%s = [\"a.example:1\", \"b.example:2\"]\n", f.Name)
			args = append(args, "--"+f.Name, "a.example:1", "--"+f.Name, "b.example:2")
		default:
			t.Errorf("flag --%s of type %s: the test does not know it", f.Name, f.Value.Type())
		}
	})
	path := writeConfig(t, toml.String())
	fromFile, err := settingsFrom("--config", path)
	if err != nil {
		t.Fatalf("config file:\n%s\n%v", toml.String(), err)
	}
	fromFlags, err := settingsFrom(args...)
	if err != nil {
		t.Fatal(err)
	}
	fromFile.config = ""
	if !reflect.DeepEqual(fromFile, fromFlags) {
		t.Errorf("from the file %+v\nfrom the flags %+v", fromFile, fromFlags)
	}
	if fromFile.listen != "value-of-listen" || fromFile.maxInFlight != 7 || fromFile.timeout != 7*time.Second || len(fromFile.dns) != 2 {
		t.Errorf("settings %+v", fromFile)
	}
}

// A flag on the command line wins over the file; a repeatable one
// replaces the file's list rather than adding to it.
func TestServeFlagsOverrideConfigFile(t *testing.T) {
	path := writeConfig(t, `listen = "127.0.0.1:6000"
dns = ["192.0.2.1:53", "192.0.2.2:53"]
max-in-flight = 10
trust-ad = true
`)
	s, err := settingsFrom("--config", path, "--listen", "127.0.0.1:7000", "--dns", "192.0.2.9:53", "--trust-ad=false")
	if err != nil {
		t.Fatal(err)
	}
	if s.listen != "127.0.0.1:7000" || strings.Join(s.dns, ",") != "192.0.2.9:53" || s.trustAD || s.maxInFlight != 10 {
		t.Errorf("listen %q dns %q trust-ad %v max-in-flight %d", s.listen, s.dns, s.trustAD, s.maxInFlight)
	}
}

// Mistakes in the file are errors naming the file and the line.
func TestServeConfigFileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown keys", "listen = \"127.0.0.1:1\"\n# a comment\nlisen = \"x\"\n\nmax-inflight = 3\n",
			[]string{":3: unknown setting \"lisen\": not a flag of ocidns serve", ":5: unknown setting \"max-inflight\""}},
		{"a table", "listen = \"127.0.0.1:1\"\n[server]\nlisten = \"x\"\n", []string{":2: unknown setting \"server\""}},
		{"the config key itself", "config = \"/etc/other.toml\"\n", []string{":1: unknown setting \"config\""}},
		{"wrong type", "listen = \"127.0.0.1:1\"\nmax-in-flight = \"many\"\n", []string{":2:17: max-in-flight takes an integer"}},
		{"a list for a single value", "dnssec = [\"on\"]\n", []string{":1:10: dnssec takes a string"}},
		{"a single value for a list", "\ndns = \"192.0.2.1:53\"\n", []string{":2:7: dns takes an array of strings"}},
		{"bad duration", "\ntimeout = \"30x\"\n", []string{":2: timeout = \"30x\": ", "must be a duration"}},
		{"syntax", "listen = \"127.0.0.1:1\nx\n", []string{":1:"}},
		{"a value serve refuses", "max-in-flight = 0\n", []string{"--max-in-flight must be positive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			_, err := settingsFrom("--config", path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || (strings.HasPrefix(w, ":") && !strings.Contains(err.Error(), path+w)) {
					t.Errorf("error %q, want %q after the file name", err, w)
				}
			}
		})
	}
	if _, err := settingsFrom("--config", filepath.Join(t.TempDir(), "absent.toml")); err == nil || !strings.Contains(err.Error(), "absent.toml") {
		t.Errorf("missing file: %v", err)
	}
}

// serve itself refuses a bad file as a usage error, before listening.
func TestServeRefusesBadConfigFile(t *testing.T) {
	path := writeConfig(t, "listen = \"127.0.0.1:0\"\ndnsec = \"on\"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errOut testkit.SyncBuffer
	code := runServe(ctx, []string{"--config", path}, IO{In: strings.NewReader(""), Out: &errOut, Err: &errOut})
	if code != exitUsage || !strings.Contains(errOut.String(), path+":2: unknown setting \"dnsec\"") {
		t.Errorf("exit %d, output %q", code, errOut.String())
	}
}
