package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/sloguard/sloguard/serve"
	"github.com/sloguard/sloguard/serve/store"
)

// ServeOptions are the flags of `sloguard serve`.
type ServeOptions struct {
	Config        string
	PrometheusURL string
	Listen        string
	State         string
	LogLevel      string
}

// Serve loads and checks everything, then serves until ctx is done
// (SIGTERM, SIGINT): a graceful stop is exit 0.
func Serve(ctx context.Context, d *App, opts ServeOptions) error {
	cfg, err := d.Load(opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	sc, err := serve.ParseConfig(cfg)
	if err != nil {
		return err
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--log-level %q: use debug, info, warn or error", opts.LogLevel)}
	}
	log := slog.New(slog.NewJSONHandler(d.stderr, &slog.HandlerOptions{Level: l})).With("service", "sloguard")
	d.log = log // the service logs JSON, its backends' warnings too
	job, err := d.Select(ctx, cfg, nil, nil)
	if err != nil {
		return err
	}
	st, err := store.Open(opts.State)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--state: %w", err)}
	}
	defer st.Close()
	srv, err := serve.New(serve.Options{Config: cfg, Serve: sc, Providers: job.Providers, Store: st, Getenv: d.getenv, Log: log, Secrets: d.redact.Masks()})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--listen %s: %w", opts.Listen, err)}
	}
	if err := srv.Run(ctx, ln); err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("serve: %w", err)}
	}
	return nil
}
