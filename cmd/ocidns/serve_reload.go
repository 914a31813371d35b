package main

import (
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/ocidns/ocidns/resolver"
)

// reloadOnHangup reloads serve's settings on each SIGHUP: the command line
// args again, with the config file as it is now, into r (see
// resolver.Resolver.Reload). A reload that fails keeps the settings in
// force and logs why. The listener and the request bounds stay as they
// started: a change to them is logged as needing a restart. The returned
// function stops listening for SIGHUP.
func reloadOnHangup(args []string, running *serveSettings, r *resolver.Resolver, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-hup:
			}
			next, err := reloadServe(args, r, logger)
			if err != nil {
				logger.Error("reload failed; the settings in force stay", "config", running.config, "err", err.Error())
				continue
			}
			for _, name := range restartOnly(running, next) {
				logger.Warn("setting changed; it takes effect at the next start", "setting", name)
			}
			logger.Info("reloaded", "config", running.config)
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}

// reloadServe reads serve's settings again and swaps them into r.
func reloadServe(args []string, r *resolver.Resolver, logger *slog.Logger) (*serveSettings, error) {
	fs, next := newServeFlags()
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := next.finish(fs); err != nil {
		return nil, err
	}
	opts, err := next.resolverOptions(logger)
	if err != nil {
		return nil, err
	}
	if err := r.Reload(opts...); err != nil {
		return nil, err
	}
	return next, nil
}

// restartOnly names the settings that differ between a and b and that
// only a restart applies: the listener and the daemon's own bounds.
func restartOnly(a, b *serveSettings) []string {
	var names []string
	if a.listen != b.listen {
		names = append(names, "listen")
	}
	if a.maxInFlight != b.maxInFlight {
		names = append(names, "max-in-flight")
	}
	if a.reqTimeout != b.reqTimeout {
		names = append(names, "request-timeout")
	}
	if !slices.Equal(a.allowedHosts, b.allowedHosts) {
		names = append(names, "allowed-host")
	}
	if a.maxStreams != b.maxStreams {
		names = append(names, "max-blob-streams")
	}
	return names
}
