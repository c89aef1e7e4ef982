package scrape

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

const (
	errIncrease   = `sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))`
	totalIncrease = `sum(increase(http_requests_total[{{.window}}]))`
)

func eventsSLI() slo.SLI { return slo.SLI{ErrorQuery: errIncrease, TotalQuery: totalIncrease} }

// Counters a target starts from, so that the suite's counts are increases.
const baseOK, baseErr = 4000, 1000

// exposition renders one target's /metrics page: the reply's counts on top
// of the base counters.
func exposition(w http.ResponseWriter, _ *http.Request, _ string, rep conformance.Reply) {
	if rep.Kind == conformance.Status {
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		http.Error(w, http.StatusText(rep.Status), rep.Status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")
	if rep.Kind == conformance.Empty {
		fmt.Fprint(w, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1.7639e+09\n")
		return
	}
	ok, bad := fmt.Sprint(baseOK+rep.Total-rep.Bad), fmt.Sprint(baseErr+rep.Bad)
	if rep.Kind == conformance.NaN {
		ok, bad = "NaN", "NaN"
	}
	fmt.Fprintf(w, "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\",handler=\"/checkout\"} %s\n", ok)
	if !rep.NoBad {
		fmt.Fprintf(w, "http_requests_total{code=\"500\",handler=\"/checkout\"} %s\n", bad)
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Name:    "scrape",
		SLI:     eventsSLI(),
		Network: true,
		Start: func(t *testing.T, s conformance.Setup) (providers.Provider, error) {
			// The provider counts increases between its own scrapes: the
			// target first serves the base counters (or nothing, when the
			// script has nothing either), scraped half a window earlier.
			primed := s
			if len(s.Replies) > 0 {
				prime := conformance.Reply{Kind: conformance.Values, NoBad: s.Replies[0].NoBad}
				if s.Replies[0].Kind == conformance.Empty {
					prime.Kind = conformance.Empty
				}
				primed.Replies = append([]conformance.Reply{prime}, s.Replies...)
			}
			f := conformance.NewFake(t, primed, []string{"target"}, conformance.Handler{
				Queue: func(r *http.Request, _ []byte) string {
					return map[bool]string{true: "target"}[r.URL.Path == "/metrics"]
				},
				Authorized: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+s.Secret },
				Render:     exposition,
			})
			cfg := Config{Name: "scrape", Targets: map[string][]string{"service": {f.URL + "/metrics"}}, HTTP: httpconf.HTTP{
				Auth: httpconf.Auth{BearerTokenEnv: "METRICS_TOKEN"}, Transport: httpconf.Transport{Timeout: slo.Duration(s.Timeout), Retries: s.Retries}}}
			p, err := New(t.Context(), cfg, providers.Env{Getenv: func(k string) string { return map[string]string{"METRICS_TOKEN": s.Secret}[k] }})
			if err != nil {
				return nil, err
			}
			if len(s.Replies) > 0 {
				q := providers.Query{SLO: s.SLO, SLI: eventsSLI(), Scope: providers.Scope{Name: providers.ScopeService}, Window: s.Window}
				if _, err := p.Counts(t.Context(), q, s.At.Add(-s.Window/2)); err == nil {
					t.Fatalf("the first scrape read counts: want no data until a second scrape")
				}
				if n := len(f.Requests()); n != 1 {
					t.Fatalf("priming took %d requests, want 1", n)
				}
			}
			return p, nil
		},
	})
}

func TestFirstScrapeOnlyStartsTheCount(t *testing.T) {
	f := conformance.NewFake(t, conformance.Setup{Replies: []conformance.Reply{{Kind: conformance.Values, Total: 10, Bad: 1}}}, []string{"target"}, conformance.Handler{
		Queue:  func(*http.Request, []byte) string { return "target" },
		Render: exposition,
	})
	p, err := New(t.Context(), Config{Name: "s", Targets: map[string][]string{"canary": {f.URL + "/metrics"}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	q := providers.Query{SLO: "s", SLI: eventsSLI(), Scope: providers.Scope{Name: providers.ScopeCanary}, Window: time.Minute}
	_, err = p.Counts(t.Context(), q, time.Unix(1000, 0))
	if err == nil || err.Error() != `provider "s": query "sum(increase(http_requests_total[1m]))": no data: fewer than two scrapes bound the window: the scrape provider counts increases between its own scrapes, so the first reading only starts the count` {
		t.Errorf("err = %v", err)
	}
}

func TestSlicesReadTheHistory(t *testing.T) {
	s := conformance.Setup{Replies: []conformance.Reply{
		{Kind: conformance.Values}, {Kind: conformance.Values, Bad: 2, Total: 40}, {Kind: conformance.Values, Bad: 5, Total: 100},
	}}
	f := conformance.NewFake(t, s, []string{"target"}, conformance.Handler{
		Queue:  func(*http.Request, []byte) string { return "target" },
		Render: exposition,
	})
	p, err := New(t.Context(), Config{Name: "s", Targets: map[string][]string{"canary": {f.URL + "/metrics"}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	for _, at := range []time.Time{t0, t0.Add(time.Minute)} {
		if err := p.Prime(t.Context(), at); err != nil {
			t.Fatal(err)
		}
	}
	q := providers.Query{SLO: "s", SLI: eventsSLI(), Scope: providers.Scope{Name: providers.ScopeCanary}}
	// Slices scrape once more at the range's end.
	got, err := p.Slices(t.Context(), q, providers.Range{Start: t0, End: t0.Add(3 * time.Minute), Step: time.Minute})
	if err != nil {
		t.Fatalf("Slices: %v", err)
	}
	want := [][2]float64{{38, 40}, {0, 0}, {57, 60}} // nothing scraped in the second slice: no data there
	for i, c := range got {
		if c.Good != want[i][0] || c.Total != want[i][1] {
			t.Errorf("slice %d = %v of %v, want %v of %v", i, c.Good, c.Total, want[i][0], want[i][1])
		}
	}
}
