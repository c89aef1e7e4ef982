package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBacktestGolden renders testdata/backtest/<case>.json as text and
// markdown (golden files, -update to rewrite) and back to JSON byte for
// byte, without touching the caller's record.
func TestBacktestGolden(t *testing.T) {
	renderers := map[string]BacktestRenderer{".txt": Text{}, ".md": Markdown{}}
	for _, name := range []string{"mixed", "all-pass"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "backtest", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var b Backtest
			if err := dec.Decode(&b); err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(&b)
			for ext, r := range renderers {
				var got bytes.Buffer
				if err := r.RenderBacktest(&got, &b); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", "backtest", name+ext), r, got.Bytes())
			}
			var got bytes.Buffer
			if err := (JSON{}).RenderBacktest(&got, &b); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(raw) {
				t.Errorf("JSON round trip differs:\n--- got\n%s\n--- want\n%s", got.String(), raw)
			}
			if after, _ := json.Marshal(&b); !bytes.Equal(before, after) {
				t.Error("rendering changed the caller's record")
			}
		})
	}
}

// manyWindows is a day of 10-minute windows, every seventh failing after
// 2 minutes.
func manyWindows(n int) *Backtest {
	t0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	b := &Backtest{Schema: BacktestSchema, Windows: n, From: t0, To: t0.Add(time.Duration(n) * 10 * time.Minute), Every: "10m", Duration: "10m", Interval: "30s"}
	for i := range n {
		r := BacktestRun{Since: t0.Add(time.Duration(i) * 10 * time.Minute), Decision: Pass, DecidedAfter: "10m", Reason: "healthy"}
		if i%7 == 0 {
			at := r.Since.Add(2 * time.Minute)
			r.Decision, r.DecidedAt, r.DecidedAfter, r.Reason = Fail, &at, "2m", "breached"
		}
		b.Decisions.Add(r.Decision)
		b.Runs = append(b.Runs, r)
	}
	return b
}

func TestBacktestMarkdownStaysSmall(t *testing.T) {
	b := manyWindows(2016) // two weeks: 288 failing windows
	var md bytes.Buffer
	if err := (Markdown{}).RenderBacktest(&md, b); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	if rows := strings.Count(out, "| ❌ fail |"); rows != maxBacktestRows {
		t.Errorf("%d failing rows, want the first %d", rows, maxBacktestRows)
	}
	if !strings.Contains(out, "88 more window(s) not shown: the JSON record lists every window.") {
		t.Error("the rows left out are not counted")
	}
	xaxis := out[strings.Index(out, "x-axis ["):]
	xaxis = xaxis[:strings.Index(xaxis, "\n")]
	if labels := strings.Count(xaxis, `"`) / 2; labels > maxPoints || labels < maxPoints/2 {
		t.Errorf("the chart has %d buckets, want at most %d", labels, maxPoints)
	}
	if !strings.Contains(out, `title "Decisions per 34 windows (UTC start)"`) || !strings.Contains(out, "| 2016 | 288 (14.3 %) | 1728 (85.7 %) | 0 (0.0 %) | 2m |") {
		t.Errorf("summary or chart title:\n%s", out[:600])
	}
	if len(out) > 64<<10 {
		t.Errorf("the summary is %d bytes", len(out))
	}
}

func TestMedianTimeToFail(t *testing.T) {
	b := manyWindows(3) // one failing run, after 2m
	if m, ok := b.MedianTimeToFail(); !ok || m != 2*time.Minute {
		t.Errorf("median %v %v, want 2m", m, ok)
	}
	at := b.Runs[1].Since.Add(4 * time.Minute)
	b.Runs[1].Decision, b.Runs[1].DecidedAt = Fail, &at
	if m, _ := b.MedianTimeToFail(); m != 3*time.Minute {
		t.Errorf("median of 2m and 4m is %v, want 3m", m)
	}
	if _, ok := (&Backtest{}).MedianTimeToFail(); ok {
		t.Error("a median without failing runs")
	}
}
