// Command ocidns resolves OCI image names through DNS-based delegation, and
// helps operators publish and debug those delegations. Run "ocidns help"
// for the list of commands.
//
// Each command lives in its own file and registers itself from init with
// register; run dispatches to it. Exit status: 0 success, 1 a reference
// failed (to parse, discover or resolve), 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Exit statuses shared by every command.
const (
	exitOK     = 0 // everything asked for was done
	exitFailed = 1 // a reference failed to parse, discover or resolve
	exitUsage  = 2 // the command line itself is wrong
)

// IO is where a command reads and writes. main passes the process's
// standard streams; tests pass buffers and call run in-process.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// command is one "ocidns NAME" subcommand. run receives the arguments after
// NAME and returns the exit status; it prints its own usage for --help.
type command struct {
	name    string
	summary string // one line for "ocidns help"
	usage   string // synopsis, e.g. "ocidns parse [--normalize] [REF...]"
	run     func(ctx context.Context, args []string, io IO) int
}

var commands = map[string]command{}

// register adds a command; call it from an init function in the command's
// file. A duplicate name is a programming error and panics at start-up.
func register(c command) {
	if c.name == "" || c.run == nil {
		panic("ocidns: register: command needs a name and a run function")
	}
	if _, dup := commands[c.name]; dup {
		panic("ocidns: register: duplicate command " + strconv.Quote(c.name))
	}
	commands[c.name] = c
}

func main() {
	os.Exit(run(os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}

// run dispatches args (without the program name) to a command and returns
// the exit status.
func run(args []string, stdio IO) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if len(args) == 0 {
		usage(stdio.Err)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" {
		usage(stdio.Out)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		if strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stdio.Err, "ocidns: flags go after the command: %q\n\n", args[0])
		} else {
			fmt.Fprintf(stdio.Err, "ocidns: unknown command %q\n\n", args[0])
		}
		usage(stdio.Err)
		return exitUsage
	}
	return c.run(ctx, args[1:], stdio)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: ocidns COMMAND [FLAGS] [ARGS]\n\n")
	b.WriteString("ocidns turns OCI image names into manifest digests through DNS-based delegation.\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	b.WriteString("\nRun \"ocidns help COMMAND\" or \"ocidns COMMAND --help\" for a command's flags.\n")
	b.WriteString("Exit status: 0 success, 1 a reference failed, 2 usage error.\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a pflag set for a command that reports errors instead
// of exiting and prints nothing by itself; parseFlags does the talking.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments. synopsis is the usage line
// after "usage: ", about a paragraph that explains the command. When done
// is true the command must return code: --help printed usage to stdout
// (exit 0), or a flag error went to stderr with the usage (exit 2).
func parseFlags(fs *pflag.FlagSet, synopsis, about string, args []string, stdio IO) (code int, done bool) {
	err := fs.Parse(args)
	if err == nil {
		return exitOK, false
	}
	text := "usage: " + synopsis + "\n\n" + about + "\n"
	if flags := fs.FlagUsages(); flags != "" {
		text += "\nflags:\n" + flags
	}
	if errors.Is(err, pflag.ErrHelp) {
		io.WriteString(stdio.Out, text)
		return exitOK, true
	}
	fmt.Fprintf(stdio.Err, "ocidns %s: %v\n\n%s", fs.Name(), err, text)
	return exitUsage, true
}

// usageError reports a command-line mistake found after flag parsing.
func usageError(stdio IO, cmd, format string, a ...any) int {
	fmt.Fprintf(stdio.Err, "ocidns %s: %s\n(run \"ocidns %s --help\" for usage)\n", cmd, fmt.Sprintf(format, a...), cmd)
	return exitUsage
}

// refError prints one line to stderr about a reference that failed.
func refError(stdio IO, cmd, ref string, err error) {
	fmt.Fprintf(stdio.Err, "ocidns %s: %s: %v\n", cmd, strconv.QuoteToGraphic(ref), err)
}
