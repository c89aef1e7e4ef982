package backtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

var t0 = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// history is a backend with counters that are functions of time: 10 rps on
// the canary and 90 on the baseline, 0.05 % errors, except that the
// canary's errors run at 5 % from badFrom to badTo (its latency at 0.5 s
// instead of 0.1 s). It reads any past time, one at a time.
type history struct {
	badFrom, badTo time.Time
	err            error // every read fails with it, when set
	rollup         bool  // see Slices

	mu             sync.Mutex
	counts, slices int
}

func (h *history) counter(scope string, t time.Time) (bad, total float64) {
	secs := max(t.Sub(t0).Seconds(), 0) // no traffic before t0
	rps := 10.0
	if scope == providers.ScopeBaseline {
		rps = 90
	}
	total, bad = rps*secs, rps*secs*0.0005
	if scope == providers.ScopeCanary {
		lo, hi := maxTime(h.badFrom, t0), minTime(h.badTo, t)
		if hi.After(lo) {
			bad += rps * hi.Sub(lo).Seconds() * (0.05 - 0.0005)
		}
	}
	return bad, total
}

func (h *history) Counts(_ context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	h.mu.Lock()
	h.counts++
	h.mu.Unlock()
	if h.err != nil {
		return providers.Counts{}, h.err
	}
	c := providers.Counts{Start: at.Add(-q.Window), End: at, Resolved: []string{q.Scope.Name}}
	if q.SLI.Kind() == slo.KindThreshold {
		c.Value, c.Total = 0.1, 1
		if q.Scope.Name == providers.ScopeCanary && !at.Before(h.badFrom) && at.Before(h.badTo) {
			c.Value = 0.5
		}
		return c, nil
	}
	b1, t1 := h.counter(q.Scope.Name, at)
	b0, t0 := h.counter(q.Scope.Name, at.Add(-q.Window))
	c.Good, c.Total = (t1-t0)-(b1-b0), t1-t0
	return c, nil
}

// Slices reads the counters' increase over each slice; with rollup, a
// range over three hours long reads coarser, as some backends do.
func (h *history) Slices(_ context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	h.mu.Lock()
	h.slices++
	h.mu.Unlock()
	if h.err != nil {
		return nil, h.err
	}
	n := int(r.End.Sub(r.Start) / r.Step)
	out := make([]providers.Counts, n)
	for i := range out {
		end := r.End.Add(-time.Duration(n-1-i) * r.Step)
		b1, t1 := h.counter(q.Scope.Name, end)
		b0, t0 := h.counter(q.Scope.Name, end.Add(-r.Step))
		if h.rollup && r.End.Sub(r.Start) > 3*time.Hour {
			b1, t1 = 2*b1, 2*t1
		}
		out[i] = providers.Counts{Start: end.Add(-r.Step), End: end, Good: (t1 - t0) - (b1 - b0), Total: t1 - t0, Resolved: []string{q.Scope.Name}}
	}
	return out, nil
}

// ranged adds range reads that are Counts at each time, as the contract
// says, or fail with rangeErr.
type ranged struct {
	*history
	rangeErr error
	ranges   int
}

func (r *ranged) CountsRange(ctx context.Context, q providers.Query, t providers.Times) ([]providers.Reading, error) {
	r.mu.Lock()
	r.ranges++
	r.mu.Unlock()
	if r.rangeErr != nil {
		return nil, r.rangeErr
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]providers.Reading, t.N)
	for i := range out {
		out[i].Counts, out[i].Err = r.history.Counts(ctx, q, t.At(i))
	}
	return out, nil
}

// presentOnly is a backend with no past.
type presentOnly struct{ *history }

func (presentOnly) NoHistory() string { return "it has no past" }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func availability() slo.SLO {
	return slo.SLO{Name: "availability", Provider: "h", Objective: 99, Window: 30 * 24 * time.Hour, SLI: slo.SLI{ErrorQuery: "e", TotalQuery: "t"}}
}

func latency() slo.SLO {
	return slo.SLO{Name: "latency", Provider: "h", Objective: 99, Window: 30 * 24 * time.Hour, SLI: slo.SLI{Query: "q", Op: "<", Value: 0.3}}
}

func policy() slo.CanaryPolicy {
	p := slo.DefaultCanary()
	p.Canary = slo.Scope{Labels: map[string]string{"track": "canary"}}
	p.Baseline = &slo.Scope{Labels: map[string]string{"track": "stable"}}
	return p
}

// sixHours is a backtest of the default 10-minute windows at 30 s over six
// hours, with the canary bad from the second hour to the third.
func sixHours(p providers.Provider) *Backtest {
	return &Backtest{
		SLOs: []slo.SLO{availability(), latency()}, Providers: map[string]providers.Provider{"h": p},
		Policy: policy(), From: t0.Add(time.Hour), To: t0.Add(7 * time.Hour),
	}
}

func badHour() *history {
	return &history{badFrom: t0.Add(3 * time.Hour), badTo: t0.Add(4 * time.Hour)}
}

// watchEach decides every window the way `watch --since START` started at
// START does: the engine, a clock that starts at START, the backend itself.
func watchEach(t *testing.T, b *Backtest, p providers.Provider) []*report.Decision {
	t.Helper()
	var out []*report.Decision
	every := b.every()
	for since := b.From; !since.Add(b.Policy.Duration).After(b.To); since = since.Add(every) {
		w := &rollout.Watch{SLOs: b.SLOs, Providers: map[string]providers.Provider{"h": p}, Policy: b.Policy, Since: since, Clock: rollout.NewJumpClock(since)}
		d, err := w.Run(t.Context())
		if err != nil {
			t.Fatalf("watch from %s: %v", since, err)
		}
		out = append(out, d)
	}
	return out
}

func sameAsWatch(t *testing.T, rec *report.Backtest, want []*report.Decision) {
	t.Helper()
	if rec.Windows != len(want) || len(rec.Runs) != len(want) {
		t.Fatalf("%d windows, %d runs; watch decided %d windows", rec.Windows, len(rec.Runs), len(want))
	}
	for i, d := range want {
		r := rec.Runs[i]
		if !r.Since.Equal(d.Canary.Since) || r.Decision != d.Decision || r.Reason != d.Reason || fmt.Sprint(r.DecidedAt) != fmt.Sprint(d.Canary.DecidedAt) {
			t.Errorf("window %d: backtest %s %s at %v (%s); watch %s %s at %v (%s)", i, r.Since, r.Decision, r.DecidedAt, r.Reason, d.Canary.Since, d.Decision, d.Canary.DecidedAt, d.Reason)
		}
	}
}

func TestEveryWindowIsDecidedAsWatchWouldHave(t *testing.T) {
	h := badHour()
	rp := &ranged{history: h}
	b := sixHours(rp)
	var progress []int
	b.Progress = func(done, total int) { progress = append(progress, done) }
	rec, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := watchEach(t, b, h)
	sameAsWatch(t, rec, want)

	if rec.Windows != 36 || len(progress) != 36 || progress[35] != 36 {
		t.Errorf("6 h of 10-minute windows: got %d windows, progress %v", rec.Windows, progress)
	}
	// The canary is bad from 03:00 to 04:00: the windows that start in that
	// hour roll back, those that end before it pass.
	for _, r := range rec.Runs {
		bad := !r.Since.Before(h.badFrom) && r.Since.Before(h.badTo)
		before := !r.Since.Add(10 * time.Minute).After(h.badFrom)
		switch {
		case bad && r.Decision != report.Fail:
			t.Errorf("window %s in the bad hour: %s (%s), want fail", r.Since, r.Decision, r.Reason)
		case bad && (r.DecidedAt == nil || r.DecidedAfter == "10m"):
			t.Errorf("window %s: decided at %v after %s, want a time before the end", r.Since, r.DecidedAt, r.DecidedAfter)
		case before && r.Decision != report.Pass:
			t.Errorf("healthy window %s: %s (%s), want pass", r.Since, r.Decision, r.Reason)
		}
	}
	if got := rec.Decisions; got.Pass+got.Fail+got.Inconclusive != 36 || got.Fail < 6 {
		t.Errorf("tally %+v: want 36 windows, at least the 6 in the bad hour failing", got)
	}
	// 20 ticks × 2 scopes × 2 SLOs, whatever the number of windows, and the
	// history before the windows (how bursty availability's errors are) in
	// one long slice read, checked once against the first window's own.
	if rec.Reads.Range != 81 || rec.Reads.Point != 1 || rp.ranges != 80 {
		t.Errorf("reads %+v, range reads made %d: want 80 range reads (one per query and tick offset), one shared history read and one history read of its own", rec.Reads, rp.ranges)
	}
	if rec.Schema != report.BacktestSchema || rec.Every != "10m" || rec.Duration != "10m" || rec.Interval != "30s" || len(rec.SLOs) != 2 {
		t.Errorf("record header %+v", rec)
	}
}

// TestAWatchStartedLateDecidesAsTheBacktest: `watch --since START` started
// twelve hours after the last window ended reads each of its intervals at
// once, at its own time, and decides every window exactly as the backtest
// does, the bad hour's rollbacks included.
func TestAWatchStartedLateDecidesAsTheBacktest(t *testing.T) {
	h := badHour()
	b := sixHours(&ranged{history: h})
	rec, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	late := b.To.Add(12 * time.Hour)
	var want []*report.Decision
	for _, r := range rec.Runs {
		clock := rollout.NewJumpClock(late)
		w := &rollout.Watch{SLOs: b.SLOs, Providers: map[string]providers.Provider{"h": h}, Policy: b.Policy, Since: r.Since, Clock: clock}
		d, err := w.Run(t.Context())
		if err != nil {
			t.Fatalf("watch from %s: %v", r.Since, err)
		}
		if now := clock.Now(); !now.Equal(late) {
			t.Errorf("watch from %s waited until %s: its window was past", r.Since, now)
		}
		want = append(want, d)
	}
	sameAsWatch(t, rec, want)
	if rec.Decisions.Fail < 6 {
		t.Errorf("tally %+v: want at least the 6 windows in the bad hour rolled back", rec.Decisions)
	}
}

func TestABackendWithoutRangeReadsIsReadOneIntervalAtATime(t *testing.T) {
	h := badHour()
	b := sixHours(h)
	b.To = t0.Add(3 * time.Hour) // 12 windows
	rec, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameAsWatch(t, rec, watchEach(t, b, badHour()))
	if rec.Reads.Range != 0 || rec.Reads.Point != 12*81 {
		t.Errorf("reads %+v: want 972 point reads (12 windows × (20 ticks × 4 queries + the history))", rec.Reads)
	}
}

func TestAServerThatMovesRangeTimesIsReadOneIntervalAtATime(t *testing.T) {
	h := badHour()
	rp := &ranged{history: h, rangeErr: fmt.Errorf("provider %q: %w", "h", providers.ErrNoRangeReads)}
	b := sixHours(rp)
	rec, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameAsWatch(t, rec, watchEach(t, b, badHour()))
	if rec.Reads.Point == 0 || rp.ranges == 0 {
		t.Errorf("reads %+v after %d refused range reads: want point reads", rec.Reads, rp.ranges)
	}
}

func TestFailures(t *testing.T) {
	outage := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	bad := &providers.QueryError{Provider: "h", Query: "t", Err: providers.BadQuery("parse error")}
	tests := map[string]struct {
		p        providers.Provider
		wantRead bool
		wantIs   error
		wantNoH  bool
		wantMsg  string
	}{
		"an unreachable backend is a read error": {
			p: &ranged{history: &history{err: outage}}, wantRead: true, wantMsg: "cannot read the history: provider \"h\": dial tcp",
		},
		"an error that names the provider is not prefixed twice": {
			p:        &ranged{history: &history{err: &providers.QueryError{Provider: "h", Query: "t", Err: outage}}},
			wantRead: true, wantMsg: `cannot read the history: provider "h": query "t": dial tcp`,
		},
		"an unreachable backend without range reads is a read error too": {
			p: &history{err: outage}, wantRead: true, wantMsg: "connection refused",
		},
		"a bad query stops the backtest as a config error": {
			p: &ranged{history: &history{err: bad}}, wantIs: providers.ErrBadQuery, wantMsg: "window from 2026-11-23T01:00:00Z",
		},
		"a backend with no past is refused, saying why": {
			p: presentOnly{&history{}}, wantNoH: true, wantMsg: `provider "h" cannot be backtested: it has no past`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := sixHours(tc.p).Run(t.Context())
			var re *ReadError
			var nh *NoHistoryError
			switch {
			case err == nil:
				t.Fatal("no error")
			case errors.As(err, &re) != tc.wantRead:
				t.Errorf("read error %v, want %v: %v", !tc.wantRead, tc.wantRead, err)
			case errors.As(err, &nh) != tc.wantNoH:
				t.Errorf("no-history error %v, want %v: %v", !tc.wantNoH, tc.wantNoH, err)
			case tc.wantIs != nil && !errors.Is(err, tc.wantIs):
				t.Errorf("error %v is not %v", err, tc.wantIs)
			case !strings.Contains(err.Error(), tc.wantMsg):
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
}

func TestCancellingStopsWithNoRecord(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b := sixHours(&ranged{history: badHour()})
	b.Progress = func(done, _ int) {
		if done == 2 {
			cancel()
		}
	}
	rec, err := b.Run(ctx)
	if !errors.Is(err, ErrInterrupted) || rec != nil || !strings.Contains(err.Error(), "after 2 of 36 windows") {
		t.Errorf("got %v, %v; want ErrInterrupted after 2 of 36 windows", rec, err)
	}
}

func TestCheck(t *testing.T) {
	good := func() *Backtest { return sixHours(&ranged{history: &history{}}) }
	tests := map[string]struct {
		mutate func(*Backtest)
		want   string
	}{
		"from after to":               {func(b *Backtest) { b.From = b.To.Add(time.Hour) }, "--from 2026-11-23T08:00:00Z is not before --to 2026-11-23T07:00:00Z"},
		"from equal to to":            {func(b *Backtest) { b.From = b.To }, "is not before --to"},
		"no times":                    {func(b *Backtest) { b.From = time.Time{} }, "--from and --to are both required"},
		"no window fits":              {func(b *Backtest) { b.To = b.From.Add(5 * time.Minute) }, "no window fits: --from 2026-11-23T01:00:00Z plus the duration 10m is after --to 2026-11-23T01:05:00Z"},
		"every under a second":        {func(b *Backtest) { b.Every = time.Millisecond }, "--every 1ms: must be at least 1s"},
		"interval over duration":      {func(b *Backtest) { b.Policy.Interval = time.Hour }, "interval 1h is longer than duration 10m"},
		"zero duration":               {func(b *Backtest) { b.Policy.Duration = 0 }, "--duration 0s: must be longer than zero"},
		"too many windows":            {func(b *Backtest) { b.Every = time.Second; b.To = b.From.Add(48 * time.Hour) }, "172201 windows (one every 1s from 2026-11-23T01:00:00Z to 2026-11-25T01:00:00Z) are more than 100000"},
		"an SLO without its provider": {func(b *Backtest) { b.Providers = map[string]providers.Provider{} }, `slo "availability": no provider "h"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := good()
			tc.mutate(b)
			err := b.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if _, runErr := b.Run(t.Context()); runErr == nil || runErr.Error() != err.Error() {
				t.Errorf("Run: %v, want the Check error", runErr)
			}
		})
	}
	if err := good().Check(); err != nil {
		t.Errorf("a good backtest: %v", err)
	}
}

func TestWindows(t *testing.T) {
	tests := map[string]struct {
		from, to        time.Time
		every, duration time.Duration
		want            int
	}{
		"a day of back-to-back 10-minute windows": {t0, t0.Add(24 * time.Hour), 10 * time.Minute, 10 * time.Minute, 144},
		"overlapping windows every 5 minutes":     {t0, t0.Add(time.Hour), 5 * time.Minute, 10 * time.Minute, 11},
		"a window that ends exactly at --to fits": {t0, t0.Add(10 * time.Minute), time.Hour, 10 * time.Minute, 1},
		"one that would end after --to does not":  {t0, t0.Add(29 * time.Minute), 10 * time.Minute, 10 * time.Minute, 2},
		"none when the range is too short":        {t0, t0.Add(9 * time.Minute), 10 * time.Minute, 10 * time.Minute, 0},
		"none without a step":                     {t0, t0.Add(time.Hour), 0, 10 * time.Minute, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Windows(tc.from, tc.to, tc.every, tc.duration); got != tc.want {
				t.Errorf("got %d windows, want %d", got, tc.want)
			}
		})
	}
}

// TestManyWindowsAreReadInBlocks: one range read serves at most a block of
// windows, so that memory stays bounded; every window still reads what
// watch reads.
func TestManyWindowsAreReadInBlocks(t *testing.T) {
	rp := &ranged{history: badHour()}
	b := sixHours(rp)
	b.block = 10
	rec, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameAsWatch(t, rec, watchEach(t, b, badHour()))
	if rec.Reads.Range != 4*81 || rec.Reads.Point != 4 || rp.ranges != 4*80 {
		t.Errorf("reads %+v: want 36 windows in 4 blocks of 80 range reads and a history read, each checked once", rec.Reads)
	}
}

// TestSliceReadsAreSharedWhenExact: the slices a window reads before its
// start (the history an engine may estimate burstiness from) come from one
// long read per grid of windows, equal to the window's own read; a backend
// whose slices depend on the range asked, and a window without traffic in
// its slices, are read window by window.
func TestSliceReadsAreSharedWhenExact(t *testing.T) {
	tests := map[string]struct {
		every                  time.Duration
		rollup                 bool
		wantRange, wantOwnRead int
	}{
		"windows on the slices' grid share one long read":   {every: 10 * time.Minute, wantRange: 1, wantOwnRead: 4 + 1},
		"windows on two grids share two":                    {every: time.Minute, wantRange: 2, wantOwnRead: 31 + 2},
		"a backend whose slices depend on the range is not": {every: 10 * time.Minute, rollup: true, wantRange: 1, wantOwnRead: 36},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &history{rollup: tc.rollup}
			from := t0.Add(-30 * time.Minute) // the slices of the windows that start by t0 have no traffic
			n := Windows(from, from.Add(6*time.Hour), tc.every, 10*time.Minute)
			n = min(n, 36)
			reads := &counters{}
			r := newReplay("h", &ranged{history: h}, tc.every, n, block, func(err error) { t.Fatal(err) }, reads, slog.New(slog.DiscardHandler))
			q := providers.Query{SLO: "availability", SLI: availability().SLI, Scope: providers.Scope{Name: providers.ScopeBaseline}, Window: 2 * time.Minute}
			for j := range n {
				since := from.Add(time.Duration(j) * tc.every)
				rg := providers.Range{Start: since.Add(-time.Hour), End: since, Step: 2 * time.Minute}
				got, err := window{r: r, j: j, since: since}.Slices(t.Context(), q, rg)
				want, _ := (&history{rollup: tc.rollup}).Slices(t.Context(), q, rg)
				if err != nil || !sameSlices(got, want) || len(got) != 30 {
					t.Fatalf("window %d: %d slices, %v; want its own read's %d", j, len(got), err, len(want))
				}
			}
			if got := int(reads.rangeReads.Load()); got != tc.wantRange {
				t.Errorf("%d long reads, want %d", got, tc.wantRange)
			}
			// Own reads: one per window whose slices all lack traffic (every
			// window that starts by t0), and one per long read, by the first
			// window with traffic, to check it.
			if got := int(reads.pointReads.Load()); got != tc.wantOwnRead {
				t.Errorf("%d reads of a window's own slices, want %d", got, tc.wantOwnRead)
			}
		})
	}
}

func TestTheEnginesWarningsAreSaidOnce(t *testing.T) {
	var buf strings.Builder
	log := logOnce(slog.New(slog.NewTextHandler(&buf, nil)))
	for range 3 {
		log.Warn("little history before the window", "slo", "a")
		log.With("provider", "p").Warn("the backend is slow")
	}
	if got := strings.Count(buf.String(), "\n"); got != 2 {
		t.Errorf("%d lines, want each message once:\n%s", got, buf.String())
	}
}
