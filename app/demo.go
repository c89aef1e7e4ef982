package app

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/internal/sim"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

//go:embed demo.yaml
var demoConfig []byte

// maxFault keeps the demo's worst SLO (3× the errors of a 0.05 % stable
// track) below a ratio of 1.
const maxFault = 100

// DemoOptions are the flags of `sloguard demo`.
type DemoOptions struct {
	Fault   float64 // the canary's error ratio as a multiple of the stable track's
	Seed    uint64
	NoSplit bool // a deploy without a traffic split, judged against its own past
}

// Demo tells the story on simulated traffic; clock is nil except in
// tests. The demo succeeds (exit 0) when the story ran, whatever the
// canary did; the watch's own exit code is printed.
func Demo(ctx context.Context, d *App, opts DemoOptions, clock rollout.Clock) error {
	// A negative ratio, NaN or a ratio past 1 (the slowest SLO reads 3×
	// the errors) would feed the simulation nonsense.
	if !(opts.Fault >= 0 && opts.Fault <= maxFault) {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--fault %g: want a number from 0 to %g: the canary's error ratio as a multiple of the stable track's (1: a healthy canary)", opts.Fault, float64(maxFault))}
	}
	cfg, err := slo.Parse("demo.yaml", demoConfig, d.loadOptions(""))
	if err != nil {
		return err
	}
	if clock == nil {
		clock = rollout.RealClock{}
	}
	start := clock.Now().UTC().Truncate(time.Second)
	story := splitStory(start, opts, cfg.Canary)
	if opts.NoSplit {
		story = noSplitStory(start, opts, cfg.Canary)
	}
	provs := map[string]providers.Provider{"simulated": story.service}

	fmt.Fprintf(d.stdout, "sloguard demo: a simulated checkout service (5,000 requests/s), no setup needed.\n\n")
	fmt.Fprintf(d.stdout, "1/2 Before the release: sloguard check reads 30 days of history.\n\n")
	dec, err := gate.Check(ctx, cfg, provs, gate.Options{At: start})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := (report.Text{}).Render(&b, dec); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "%s\n", indent(b.String()))

	pol := story.policy
	for _, line := range story.intro {
		fmt.Fprintln(d.stdout, line)
	}
	fmt.Fprintln(d.stdout)
	progress := ci.NewProgress(d.stderr, true)
	w := &rollout.Watch{
		SLOs: cfg.SLOs, Providers: provs, Policy: pol, Clock: clock, Log: d.log, Since: start,
		Progress: func(st rollout.Status) {
			progress.Show(report.StatusLines(st.Elapsed, st.Remaining, st.SLOs, st.Error))
		},
	}
	wd, err := w.Run(ctx)
	progress.Done()
	if err != nil {
		return err
	}
	wd.Config = "demo.yaml (embedded)"
	if wd.Decision == report.Fail {
		a := &rollback.Actions{Config: cfg.Rollback, DryRun: true, Getenv: d.getenv, Out: d.stdout, Log: d.log}
		wd.Actions = a.Run(context.WithoutCancel(ctx), wd, "", nil)
	}
	b.Reset()
	if err := (report.Text{}).Render(&b, wd); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "\n%s\n", indent(b.String()))
	fmt.Fprintf(d.stdout, "sloguard watch would exit %d here.", decisionCode(wd))
	for _, line := range story.outro {
		fmt.Fprintf(d.stdout, "%s\n", line)
	}
	return nil
}

// demoStory is one way to release the simulated service: its traffic, the
// watch policy, and what the demo says before and after the watch.
type demoStory struct {
	service      providers.Provider
	policy       slo.CanaryPolicy
	intro, outro []string
}

func splitStory(start time.Time, opts DemoOptions, pol slo.CanaryPolicy) demoStory {
	return demoStory{
		service: demoService(start, opts),
		policy:  pol,
		intro: []string{
			fmt.Sprintf("2/2 The canary takes 10 %% of traffic; after 20 s its error ratio turns %g× the stable track's.", opts.Fault),
			fmt.Sprintf("    sloguard watch checks it every %s for up to %s, against the SLO and the stable baseline.", pol.Interval, pol.Duration),
		},
		outro: []string{" Try: sloguard demo --fault 1 (a healthy canary), sloguard demo --fault 3, sloguard demo --no-split."},
	}
}

// demoService is a month of mostly good history with one bad hour ten
// days ago, and a canary that turns bad 20 s into the watch.
func demoService(start time.Time, opts DemoOptions) *sim.Service {
	const rps, base = 5000.0, 0.0005
	s := sim.NewService(start, opts.Seed)
	s.History = []sim.Phase{
		{From: -31 * 24 * time.Hour, Track: sim.Track{RPS: rps, ErrorRatio: base}},
		{From: -10 * 24 * time.Hour, Track: sim.Track{RPS: rps, ErrorRatio: 0.02}},
		{From: -10*24*time.Hour + time.Hour, Track: sim.Track{RPS: rps, ErrorRatio: base}},
	}
	stable := sim.Track{RPS: rps * 0.9, ErrorRatio: base}
	s.Baseline = []sim.Phase{{Track: stable}}
	s.Canary = []sim.Phase{
		{Track: sim.Track{RPS: rps * 0.1, ErrorRatio: base}},
		{From: 20 * time.Second, Track: sim.Track{RPS: rps * 0.1, ErrorRatio: base * opts.Fault}},
	}
	s.BadShare = map[string]float64{"checkout-latency": 3}
	return s
}

func indent(s string) string {
	var b bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimRight([]byte(s), "\n"), []byte("\n")) {
		b.WriteString("    ")
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}
