// Package serve is `sloguard serve`: one HTTP server that GitHub (custom
// deployment protection rules, through a GitHub App) and Azure DevOps
// ("Invoke REST API" environment checks) ask before a deployment, so that
// the gate is the platform's and no pipeline can skip it. Every request is
// authenticated before any work, admitted into the state file, answered
// at once, evaluated with the same engine as the CLI (Evaluate), and
// answered back on the platform.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/internal/safefile"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/serve/azdo"
	"github.com/sloguard/sloguard/serve/ghapp"
	"github.com/sloguard/sloguard/serve/store"
	"github.com/sloguard/sloguard/slo"
)

// Limits of what the server accepts.
const (
	maxGitHubBody = 1 << 20  // deployment_protection_rule events are a few KiB
	maxAzureBody  = 64 << 10 // the check's body is the few fields sloguard reads
	maxPending    = 5000     // beyond this, 503: a flood must not exhaust memory
	syncWait      = 2 * time.Second
	retention     = 90 * 24 * time.Hour
)

// Options are what New needs; secrets are read through Getenv and
// ReadFile, never from the config itself.
type Options struct {
	Config    *slo.Config
	Serve     *Config
	Providers map[string]providers.Provider
	Store     *store.Store
	Getenv    func(string) string
	ReadFile  func(string) ([]byte, error)
	Log       *slog.Logger
	Clock     rollout.Clock // nil: the wall clock
	// Retries bounds the retries of one call to GitHub or Azure DevOps
	// (default 3); the runner retries failed answers for minutes more.
	Retries int
	// Secrets are the values the caller knows to be secret (the
	// providers', as their backends tell them): masked in every text
	// serve sends, like its own.
	Secrets []string
}

// Server is the running service.
type Server struct {
	cfg      *slo.Config
	sc       *Config
	provs    map[string]providers.Provider
	st       *store.Store
	log      *slog.Logger
	clock    rollout.Clock
	metrics  *metrics
	redact   *strings.Replacer
	gh       *githubSide
	az       *azureSide
	decToken string

	evalCtx  context.Context
	stopEval context.CancelFunc
	wg       sync.WaitGroup
	draining atomic.Bool
	pending  atomic.Int64

	mu      sync.Mutex
	waiters map[string]chan struct{} // closed when the evaluation is done
	backoff []time.Duration
}

type githubSide struct {
	secret []byte
	app    *ghapp.App
}

type azureSide struct {
	user, password string
	client         *azdo.Client
}

// New reads the secrets the serve: block names and builds the clients.
// A missing secret is an error that names its variable or file.
func New(o Options) (*Server, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.ReadFile == nil {
		o.ReadFile = func(name string) ([]byte, error) { return safefile.Read(name, safefile.MaxCredential) }
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = rollout.RealClock{}
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	sec := &secrets{getenv: o.Getenv, readFile: o.ReadFile, dir: filepath.Dir(o.Config.Source)}
	s := &Server{
		cfg: o.Config, sc: o.Serve, provs: o.Providers, st: o.Store, log: o.Log, clock: o.Clock, metrics: newMetrics(),
		waiters: map[string]chan struct{}{},
		backoff: []time.Duration{0, 2 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute},
	}
	s.evalCtx, s.stopEval = context.WithCancel(context.Background())
	hc, err := httpclient.New(httpclient.Options{Retries: o.Retries, Logger: o.Log})
	if err != nil {
		return nil, err
	}
	var errs []error
	if g := o.Serve.GitHub; g != nil {
		gs, err := newGitHubSide(g, sec, httpclient.Standard(hc).Transport)
		errs = append(errs, err)
		s.gh = gs
	}
	if a := o.Serve.Azure; a != nil {
		user, err1 := sec.readPlain("serve.azure.username_env", a.UsernameEnv, "")
		pass, err2 := sec.read("serve.azure.password_env", a.PasswordEnv, "")
		errs = append(errs, err1, err2)
		s.az = &azureSide{user: user, password: pass, client: azdo.NewClient(httpclient.Standard(hc), a.AllowedOrgs)}
	}
	if o.Serve.DecisionsTokenEnv != "" {
		s.decToken, err = sec.read("serve.decisions_token_env", o.Serve.DecisionsTokenEnv, "")
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rb := redact.New()
	rollback.Redact(rb, o.Config.Rollback, o.Getenv)
	s.redact = sec.replacer(nil, append(rb.Masks(), o.Secrets...))
	return s, nil
}

func newGitHubSide(g *GitHubConfig, sec *secrets, base http.RoundTripper) (*githubSide, error) {
	idText, err := sec.readPlain("serve.github.app_id_env", g.AppIDEnv, "")
	if err != nil {
		return nil, err
	}
	var appID int64
	if _, err := fmt.Sscan(idText, &appID); err != nil {
		return nil, fmt.Errorf("serve.github.app_id_env: %s holds %q, not the App's numeric ID", g.AppIDEnv, idText)
	}
	key, err := sec.read("serve.github.private_key_env", g.PrivateKeyEnv, g.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	secret, err := sec.read("serve.github.webhook_secret_env", g.WebhookSecretEnv, g.WebhookSecretFile)
	if err != nil {
		return nil, err
	}
	app, err := ghapp.New(g.APIURL, appID, []byte(key), base)
	if err != nil {
		return nil, fmt.Errorf("serve.github: %w", err)
	}
	return &githubSide{secret: []byte(secret), app: app}, nil
}

// Handler routes the endpoints of the contract.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/github/webhook", s.githubWebhook)
	mux.HandleFunc("POST /v1/azure/check", s.azureAsync)
	mux.HandleFunc("GET /v1/azure/check", s.azureSync)
	mux.HandleFunc("GET /v1/decisions", s.decisions)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.metrics.handler())
	return s.metrics.instrument(mux)
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "pending": s.pending.Load()})
}

// Resume starts every evaluation the state file holds as pending (left by
// a restart or a crash), and drops finished ones past the retention.
func (s *Server) Resume() error {
	if n, err := s.st.Prune(s.clock.Now().Add(-retention)); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("pruned finished evaluations past the retention", "count", n, "retention", slo.FormatDuration(retention))
	}
	list, err := s.st.Pending()
	if err != nil {
		return err
	}
	for _, e := range list {
		s.log.Info("resuming a pending evaluation", "id", e.ID, "platform", e.Platform, "environment", e.Environment)
		s.spawn(e)
	}
	return nil
}

// Run serves on ln until ctx is done, then shuts down gracefully: no new
// connections, requests in flight answered (each admission is in the
// state file before its 2xx), evaluations stopped where they stand (they
// stay pending and resume at the next start). It returns nil after a
// graceful stop.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if err := s.Resume(); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go s.pruneHourly(ctx)
	s.log.Info("serving", "address", ln.Addr().String(), "github", s.gh != nil, "azure", s.az != nil, "environments", len(s.sc.Environments))
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.draining.Store(true)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	s.Stop()
	left, perr := s.st.Pending()
	s.log.Info("stopped", "pending", len(left), "note", "pending evaluations are in the state file and resume at the next start")
	err = errors.Join(err, perr)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// pruneHourly drops finished evaluations past the retention while the
// server runs (Resume does it at the start).
func (s *Server) pruneHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.st.Prune(s.clock.Now().Add(-retention)); err != nil {
				s.log.Error("cannot prune the state file", "error", err)
			} else if n > 0 {
				s.log.Info("pruned finished evaluations past the retention", "count", n)
			}
		}
	}
}

// Stop cancels the evaluations in progress and waits for them to return;
// what they had not finished stays pending in the state file.
func (s *Server) Stop() {
	s.draining.Store(true)
	s.stopEval()
	s.wg.Wait()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}
