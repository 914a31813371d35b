package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/ocidns/ocidns/internal/demo"
	"github.com/ocidns/ocidns/resolver"
)

func init() {
	register(command{
		name:    "demo",
		summary: "run the whole path on embedded DNS, HTTPS and registry servers",
		usage:   "ocidns demo [--keep]",
		run:     runDemo,
	})
}

func runDemo(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("demo")
	keep := fs.Bool("keep", false, "leave the servers running and print how to reach them; Ctrl-C stops them")
	if code, done := parseFlags(fs, "ocidns demo [--keep]", demoAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stdio, "demo", "unexpected arguments %q", fs.Args())
	}
	fmt.Fprintln(stdio.Out, "Starting the lab on loopback: a DNS server for example.test, acme.test, tools.acme.test (signed with keys made now)")
	fmt.Fprintln(stdio.Out, "and insecure.test, vendor.test (unsigned), an HTTPS server with a well-known document, and an OCI registry (CA made now).")
	lab, err := demo.Start(ctx)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns demo:", err)
		return exitFailed
	}
	defer lab.Close()
	fmt.Fprintf(stdio.Out, "DNS %s, registry https://%s, well-known https://%s\n", lab.DNS.Addr(), lab.RegistryHost, lab.WellKnownHost)

	r, err := resolver.New(lab.Options()...)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns demo:", err)
		return exitFailed
	}
	defer r.Close()
	status := exitOK
	if err := lab.Run(ctx, stdio.Out, r); err != nil {
		fmt.Fprintln(stdio.Err, "ocidns demo:", err)
		status = exitFailed
	}
	if err := lab.PullThroughFrontDoor(ctx, stdio.Out, r); err != nil {
		fmt.Fprintln(stdio.Out, "FAILED:", err)
		fmt.Fprintln(stdio.Err, "ocidns demo: the pull through the front door:", err)
		status = exitFailed
	}
	if !*keep {
		return status
	}
	fmt.Fprintf(stdio.Out, "\nThe lab keeps running. From another shell, in this directory:\n  %s\n", lab.CommandLine())
	fmt.Fprintf(stdio.Out, "  for example REF = example.test/org/app:v1.0.0 example.test/partners/acme/tool:1.0 %s/site:1.0\n", lab.WellKnownHost)
	fmt.Fprintf(stdio.Out, "or run the daemon (its servers are on loopback, so allowed by name):\n  %s\n", lab.ServeCommandLine())
	fmt.Fprintln(stdio.Out, "and open its trace page, http://127.0.0.1:5080/?ref=example.test/vendor/scanner:1.0")
	fmt.Fprintln(stdio.Out, "Press Ctrl-C to stop.")
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(stdio.Out, "stopping")
	return status
}

const demoAbout = "Starts an authoritative DNS server (zones signed with keys made at start), an HTTPS server with a well-known document (CA made at start) and an OCI registry, all on loopback, then resolves twelve scripted names (two under the owner's published signing key: one signed, verified; one unsigned, refused) and shows each answer with a compact trace, and finally pulls a whole two-platform image (index, manifests, configs, layers) through the registry front door of ocidns serve with go-containerregistry's client, checking every digest."
