package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sloguard/sloguard/internal/promtest"
)

// TestScriptPrometheus runs testdata/promscript/*.txtar against a real
// Prometheus holding two hours of http_requests_total{service, code} for
// two services, checkout (0.1 % errors) and search (none), ending an hour
// ago: $PROM_URL is its URL, $AT the end of the data, for --at, and
// $AT_STOPPED 40 minutes later (the data stopped: the exporter is down),
// $AT_HOUR_AGO an hour before the end (for backtest --from).
func TestScriptPrometheus(t *testing.T) {
	h := promtest.New(time.Now().Add(-time.Hour),
		promtest.Service{Name: "checkout", Rate: 10, ErrorRatio: 0.001},
		promtest.Service{Name: "search", Rate: 10},
	)
	h.Span = 2 * time.Hour
	srv := promtest.Start(t, h)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "promscript"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                scriptCmds(),
		Setup: func(e *testscript.Env) error {
			e.Setenv("PROM_URL", srv.URL)
			e.Setenv("AT", h.End.Format(time.RFC3339))
			e.Setenv("AT_STOPPED", h.End.Add(40*time.Minute).Format(time.RFC3339))
			e.Setenv("AT_HOUR_AGO", h.End.Add(-time.Hour).Format(time.RFC3339))
			return nil
		},
	})
}
