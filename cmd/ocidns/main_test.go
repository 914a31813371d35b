package main

import (
	"strings"
	"testing"
)

// TestDispatcher pins the command line's top level: help, unknown
// commands, exit statuses.
func TestDispatcher(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		stdout   string // substring
		stderr   string // substring
		noStdout bool
	}{
		{args: nil, code: 2, stderr: "usage: ocidns COMMAND", noStdout: true},
		{args: []string{"help"}, code: 0, stdout: "  parse          parse and explain"},
		{args: []string{"--help"}, code: 0, stdout: "usage: ocidns COMMAND"},
		{args: []string{"-h"}, code: 0, stdout: "commands:"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, noStdout: true},
		{args: []string{"--normalize", "parse"}, code: 2, stderr: "flags go after the command", noStdout: true},
		{args: []string{"help", "parse"}, code: 0, stdout: "usage: ocidns parse"},
		{args: []string{"help", "nope"}, code: 2, stderr: `unknown command "nope"`, noStdout: true},
		{args: []string{"help", "help"}, code: 0, stdout: "usage: ocidns help [COMMAND]"},
		{args: []string{"help", "--help"}, code: 0, stdout: "usage: ocidns help [COMMAND]"},
		{args: []string{"help", "parse", "check"}, code: 2, stderr: "one COMMAND", noStdout: true},
	}
	for _, tt := range tests {
		t.Run("ocidns "+strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) || (tt.noStdout && out != "") {
				t.Errorf("ocidns %q: exit %d\nstdout %q\nstderr %q", tt.args, code, out, errOut)
			}
		})
	}
}

// TestEveryCommandHelpExitsZero: "ocidns COMMAND --help" and "ocidns help
// COMMAND" print the command's usage to stdout and exit 0, for every
// command (help included), without doing anything else.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	if len(commands) < 2 {
		t.Fatalf("%d commands registered", len(commands))
	}
	for name := range commands {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := runCLI(t, "", args...)
				if code != 0 || !strings.HasPrefix(out, "usage: ocidns "+name) || errOut != "" {
					t.Errorf("ocidns %q: exit %d\nstdout %q\nstderr %q", args, code, out, errOut)
				}
			})
		}
	}
}

// TestRegisterRefusesDuplicates: two files claiming one name is a bug
// caught at start-up.
func TestRegisterRefusesDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering parse twice did not panic")
		}
	}()
	register(command{name: "parse", run: runParse})
}
