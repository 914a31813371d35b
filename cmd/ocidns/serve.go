package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ocidns/ocidns/internal/daemon"
	"github.com/ocidns/ocidns/resolver"
)

func init() {
	register(command{
		name:    "serve",
		summary: "run the resolver daemon for engines (HTTP API on loopback)",
		usage:   "ocidns serve [--listen ADDR] [flags]",
		run:     runServe,
	})
}

func runServe(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("serve")
	var f resolverFlags
	addResolverFlags(fs, &f)
	listen := fs.String("listen", "127.0.0.1:5080", "address to listen on (loopback unless you mean otherwise)")
	maxInFlight := fs.Int("max-in-flight", daemon.DefaultMaxInFlight, "concurrent requests before answering 503; also bounds client connections (4 times as many) and the resolutions, discovery lookups and dials running upstream")
	reqTimeout := fs.Duration("request-timeout", daemon.DefaultRequestTimeout, "bound on each request")
	allowLocal := fs.StringArray("allow-local-registry", nil, "connect to HOST[:PORT] even when its address is loopback, link-local or private (repeatable)")
	denyPrivate := fs.Bool("deny-private-networks", false, "also refuse private addresses (RFC 1918, 100.64.0.0/10, fc00::/7): for a serve exposed to untrusted callers")
	allowedHosts := fs.StringArray("allowed-host", nil, "also answer requests whose Host header is NAME or NAME:PORT (repeatable; IP addresses, localhost and the --listen host always are)")
	if code, done := parseFlags(fs, "ocidns serve [--listen ADDR] [flags]", serveAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stdio, "serve", "unexpected arguments %q", fs.Args())
	}
	if *maxInFlight <= 0 {
		return usageError(stdio, "serve", "--max-in-flight must be positive, not %d", *maxInFlight)
	}
	if *reqTimeout <= 0 {
		return usageError(stdio, "serve", "--request-timeout must be positive, not %v", *reqTimeout)
	}
	for _, h := range *allowedHosts {
		if err := checkAllowedHost(h); err != nil {
			return usageError(stdio, "serve", "--allowed-host %q: %v", h, err)
		}
	}
	// Callers choose the names serve resolves, and so the hosts it
	// connects to: never local addresses unless the operator allows them.
	r, ok := f.newResolver("serve", stdio, resolver.WithMaxUpstream(*maxInFlight),
		resolver.WithAddressPolicy(resolver.AddressPolicy{Allow: *allowLocal, DenyPrivate: *denyPrivate}))
	if !ok {
		return exitUsage
	}
	defer r.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns serve:", err)
		return exitFailed
	}
	ln = daemon.NewListener(ln, daemon.ConnsPerInFlight**maxInFlight)
	logger := slog.New(slog.NewTextHandler(stdio.Err, nil))
	h := daemon.New(daemon.Config{
		Resolver:       r,
		MaxInFlight:    *maxInFlight,
		RequestTimeout: *reqTimeout,
		ListenAddr:     ln.Addr().String(),
		AllowedHosts:   *allowedHosts,
		Logger:         logger,
	})
	srv := daemon.NewServer(h)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger.Info("listening", "addr", ln.Addr().String())
	if err := daemon.Serve(ctx, srv, func() error { return srv.Serve(ln) }, 10*time.Second); err != nil {
		fmt.Fprintln(stdio.Err, "ocidns serve:", err)
		return exitFailed
	}
	logger.Info("stopped")
	return exitOK
}

// checkAllowedHost accepts NAME or NAME:PORT, as a Host header carries them.
func checkAllowedHost(v string) error {
	host := v
	if h, port, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1-65535", port)
		}
		host = h
	}
	if host == "" || strings.ContainsAny(host, "/ @") {
		return fmt.Errorf("want NAME or NAME:PORT")
	}
	return nil
}

const serveAbout = "Runs the resolver daemon for container engines: GET /v1/resolve?ref=REF[&platform=P], /v1/trace?ref=REF, /healthz and /metrics (Prometheus text). Listens on loopback unless told otherwise; answers only requests whose Host header is an IP address, localhost, the --listen host or an --allowed-host (DNS rebinding); stops gracefully on SIGINT/SIGTERM. Never connects to loopback, link-local, unspecified or multicast addresses (nor private ones with --deny-private-networks) unless the host is named by --allow-local-registry."
