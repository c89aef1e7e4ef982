package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/urfave/cli/v2"

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

func serveCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the gate as a service: GitHub deployment protection rules and Azure DevOps environment checks",
		Flags: []cli.Flag{
			configFlag(), prometheusURLFlag(),
			&cli.StringFlag{Name: "listen", Value: ":8080", Usage: "listen on this `ADDR` (host:port)", EnvVars: env("listen")},
			&cli.StringFlag{Name: "state", Value: "sloguard-state.db", Usage: "the state `FILE`: pending evaluations (resumed after a restart) and finished ones (GET /v1/decisions)", EnvVars: env("state")},
		},
		Action: func(c *cli.Context) error {
			level := "info" // a service logs each decision
			if c.IsSet("log-level") {
				level = c.String("log-level")
			}
			return runServe(c.Context, d, ServeOptions{
				Config: c.String("config"), PrometheusURL: c.String("prometheus-url"),
				Listen: c.String("listen"), State: c.String("state"), LogLevel: level,
			})
		},
	}
}

// runServe loads and checks everything, then serves until ctx is done
// (SIGTERM, SIGINT): a graceful stop is exit 0.
func runServe(ctx context.Context, d *deps, opts ServeOptions) error {
	cfg, err := loadConfig(d, opts.Config, opts.PrometheusURL)
	if err != nil {
		return err
	}
	sc, err := serve.ParseConfig(cfg)
	if err != nil {
		return err
	}
	// Its logs go through the redaction layer: tell it the config's secrets.
	addSecrets(d, cfg)
	var l slog.Level
	if err := l.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("--log-level %q: use debug, info, warn or error", opts.LogLevel)}
	}
	log := slog.New(slog.NewJSONHandler(d.stderr, &slog.HandlerOptions{Level: l})).With("service", "sloguard")
	provs, err := newProviders(ctx, d, cfg, cfg.SLOs, log)
	if err != nil {
		return err
	}
	st, err := store.Open(opts.State)
	if err != nil {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("--state: %w", err)}
	}
	defer st.Close()
	srv, err := serve.New(serve.Options{Config: cfg, Serve: sc, Providers: provs, Store: st, Getenv: d.getenv, Log: log, Secrets: d.redact.Masks()})
	if err != nil {
		return &exitError{Code: exitUsage, Err: err}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("--listen %s: %w", opts.Listen, err)}
	}
	if err := srv.Run(ctx, ln); err != nil {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("serve: %w", err)}
	}
	return nil
}
