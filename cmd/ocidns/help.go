package main

import (
	"context"
	"fmt"
)

func init() {
	register(command{
		name:    "help",
		summary: "list the commands, or show a command's usage",
		usage:   helpUsage,
		run:     runHelp,
	})
}

const helpUsage = "ocidns help [COMMAND]"

const helpAbout = `Without COMMAND, list the commands. With one, print its usage and flags,
as "ocidns COMMAND --help" does.`

func runHelp(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("help")
	if code, done := parseFlags(fs, helpUsage, helpAbout, args, stdio); done {
		return code
	}
	switch fs.NArg() {
	case 0:
		usage(stdio.Out)
		return exitOK
	case 1:
	default:
		return usageError(stdio, "help", "give at most one COMMAND")
	}
	c, ok := commands[fs.Arg(0)]
	if !ok {
		fmt.Fprintf(stdio.Err, "ocidns: no help for unknown command %q\n\n", fs.Arg(0))
		usage(stdio.Err)
		return exitUsage
	}
	return c.run(ctx, []string{"--help"}, stdio)
}
