package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/ocidns/ocidns/internal/daemon"
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
	maxInFlight := fs.Int("max-in-flight", daemon.DefaultMaxInFlight, "concurrent requests before answering 503")
	reqTimeout := fs.Duration("request-timeout", daemon.DefaultRequestTimeout, "bound on each request")
	if code, done := parseFlags(fs, "ocidns serve [--listen ADDR] [flags]", serveAbout, args, stdio); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stdio, "serve", "unexpected arguments %q", fs.Args())
	}
	r, ok := f.newResolver("serve", stdio)
	if !ok {
		return exitUsage
	}
	defer r.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stdio.Err, "ocidns serve:", err)
		return exitFailed
	}
	logger := slog.New(slog.NewTextHandler(stdio.Err, nil))
	h := daemon.New(daemon.Config{Resolver: r, MaxInFlight: *maxInFlight, RequestTimeout: *reqTimeout, Logger: logger})
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      *reqTimeout + 5*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
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

const serveAbout = "Runs the resolver daemon for container engines: GET /v1/resolve?ref=REF[&platform=P], /v1/trace?ref=REF, /healthz and /metrics (Prometheus text). Listens on loopback unless told otherwise; stops gracefully on SIGINT/SIGTERM."
