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

	"github.com/spf13/pflag"

	"github.com/ocidns/ocidns/internal/daemon"
	"github.com/ocidns/ocidns/internal/frontdoor"
	"github.com/ocidns/ocidns/resolver"
)

func init() {
	register(command{
		name:    "serve",
		summary: "run the resolver daemon and registry front door for engines (HTTP on loopback)",
		usage:   "ocidns serve [--config FILE] [--listen ADDR] [flags]",
		run:     runServe,
	})
}

func runServe(ctx context.Context, args []string, stdio IO) int {
	fs, s := newServeFlags()
	if code, done := parseFlags(fs, "ocidns serve [--config FILE] [--listen ADDR] [flags]", serveAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stdio, "serve", "unexpected arguments %q", fs.Args())
	}
	if err := s.finish(fs); err != nil {
		return usageError(stdio, "serve", "%v", err)
	}
	logger := slog.New(slog.NewTextHandler(stdio.Err, nil))
	opts, err := s.resolverOptions(logger)
	var r *resolver.Resolver
	if err == nil {
		r, err = resolver.New(opts...)
	}
	if err != nil {
		return usageError(stdio, "serve", "%v", err)
	}
	defer r.Close()
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns serve:", err)
		return exitFailed
	}
	ln = daemon.NewListener(ln, daemon.ConnsPerInFlight*s.maxInFlight)
	h := daemon.New(daemon.Config{
		Resolver:       r,
		MaxInFlight:    s.maxInFlight,
		RequestTimeout: s.reqTimeout,
		ListenAddr:     ln.Addr().String(),
		AllowedHosts:   s.allowedHosts,
		Logger:         logger,
		FrontDoor: frontdoor.New(frontdoor.Config{Resolver: r, MaxInFlight: s.maxInFlight, MaxStreams: s.maxStreams,
			RequestTimeout: s.reqTimeout, Logger: logger}),
	})
	srv := daemon.NewServer(h)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	defer reloadOnHangup(args, s, r, logger)()
	logger.Info("listening", "addr", ln.Addr().String())
	if err := daemon.Serve(ctx, srv, func() error { return srv.Serve(ln) }, 10*time.Second); err != nil {
		fmt.Fprintln(stdio.Err, "ocidns serve:", err)
		return exitFailed
	}
	logger.Info("stopped")
	return exitOK
}

// serveSettings are serve's flags, from the command line and --config.
type serveSettings struct {
	resolverFlags
	config       string
	listen       string
	maxInFlight  int
	reqTimeout   time.Duration
	allowLocal   []string
	denyPrivate  bool
	allowedHosts []string
	maxStreams   int
}

// newServeFlags returns serve's flag set and the settings it fills.
func newServeFlags() (*pflag.FlagSet, *serveSettings) {
	fs := newFlagSet("serve")
	s := &serveSettings{}
	fs.StringVar(&s.config, "config", "", "read settings from this TOML file: its keys are these flags' long names, and flags given here override it; SIGHUP reads it again")
	addResolverFlags(fs, &s.resolverFlags)
	fs.StringVar(&s.listen, "listen", "127.0.0.1:5080", "address to listen on (loopback unless you mean otherwise)")
	fs.IntVar(&s.maxInFlight, "max-in-flight", daemon.DefaultMaxInFlight, "concurrent requests before answering 503; also bounds client connections (4 times as many) and the resolutions, discovery lookups and dials running upstream")
	fs.DurationVar(&s.reqTimeout, "request-timeout", daemon.DefaultRequestTimeout, "bound on each request")
	fs.StringArrayVar(&s.allowLocal, "allow-local-registry", nil, "connect to HOST[:PORT] even when its address is loopback, link-local or private (repeatable)")
	fs.BoolVar(&s.denyPrivate, "deny-private-networks", false, "also refuse private addresses (RFC 1918, 100.64.0.0/10, fc00::/7): for a serve exposed to untrusted callers")
	fs.StringArrayVar(&s.allowedHosts, "allowed-host", nil, "also answer requests whose Host header is NAME or NAME:PORT (repeatable; IP addresses, localhost and the --listen host always are)")
	fs.IntVar(&s.maxStreams, "max-blob-streams", frontdoor.DefaultMaxStreams, "concurrent blob streams through the registry front door (/v2/)")
	return fs, s
}

// finish applies the config file to the flags the command line left
// unset, then refuses settings that cannot work.
func (s *serveSettings) finish(fs *pflag.FlagSet) error {
	if s.config != "" {
		if err := applyConfigFile(fs, s.config); err != nil {
			return err
		}
	}
	if s.maxInFlight <= 0 {
		return fmt.Errorf("--max-in-flight must be positive, not %d", s.maxInFlight)
	}
	if s.reqTimeout <= 0 {
		return fmt.Errorf("--request-timeout must be positive, not %v", s.reqTimeout)
	}
	if s.maxStreams <= 0 {
		return fmt.Errorf("--max-blob-streams must be positive, not %d", s.maxStreams)
	}
	for _, h := range s.allowedHosts {
		if err := checkAllowedHost(h); err != nil {
			return fmt.Errorf("--allowed-host %q: %v", h, err)
		}
	}
	return nil
}

// resolverOptions are the Resolver's options for s, at start and at each
// reload. Callers choose the names serve resolves, and so the hosts it
// connects to: never local addresses unless the operator allows them. That
// the DNS resolver cannot serve DNSSEC data is logged to logger (the other
// commands print it on stderr).
func (s *serveSettings) resolverOptions(logger *slog.Logger) ([]resolver.Option, error) {
	opts, err := s.options()
	if err != nil {
		return nil, err
	}
	return append(opts, resolver.WithMaxUpstream(s.maxInFlight),
		resolver.WithAddressPolicy(resolver.AddressPolicy{Allow: s.allowLocal, DenyPrivate: s.denyPrivate}),
		resolver.WithDNSSECWarning(func(msg string) { logger.Warn("dnssec unavailable", "reason", msg) })), nil
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

const serveAbout = "Runs the resolver daemon for container engines: GET /v1/resolve?ref=REF[&platform=P], /v1/trace?ref=REF, /healthz and /metrics (Prometheus text), and the registry front door under /v2/ (the OCI distribution API, read-only) through which containerd, Docker, podman and skopeo pull federated names (see ocidns engine-config). Listens on loopback unless told otherwise; answers only requests whose Host header is an IP address, localhost, the --listen host or an --allowed-host (DNS rebinding); stops gracefully on SIGINT/SIGTERM. SIGHUP reloads the settings (trust anchors, allow-lists, credentials files and the --config file) without dropping cached answers or requests in flight; a reload that fails keeps the settings in force and logs why. Never connects to loopback, link-local, unspecified or multicast addresses (nor private ones with --deny-private-networks) unless the host is named by --allow-local-registry."
