package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .txt and .md files from the renderers' output")

// goldenCases lists testdata/<case>.json: each is a decision record that
// renders to <case>.txt (Text) and <case>.md (Markdown) and that JSON
// renders back byte for byte.
func goldenCases(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	for _, want := range []string{"all-pass", "budget-and-burn", "no-data", "overridden", "pipe-newline"} {
		if !contains(names, want) {
			t.Errorf("testdata/%s.json is missing", want)
		}
	}
	return names
}

// checkGolden compares a renderer's output with its golden file, which
// -update rewrites.
func checkGolden(t *testing.T, golden string, r any, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%T output differs from %s (go test ./report -update to accept):\n--- got\n%s\n--- want\n%s", r, golden, got, want)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func loadCase(t *testing.T, name string) ([]byte, *Decision) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Decision
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("testdata/%s.json: %v", name, err)
	}
	return raw, &d
}

func TestGolden(t *testing.T) {
	renderers := map[string]Renderer{".txt": Text{}, ".md": Markdown{}}
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			raw, d := loadCase(t, name)
			before, _ := json.Marshal(d)
			for ext, r := range renderers {
				var got bytes.Buffer
				if err := r.Render(&got, d); err != nil {
					t.Fatalf("%T: %v", r, err)
				}
				checkGolden(t, filepath.Join("testdata", name+ext), r, got.Bytes())
			}
			var got bytes.Buffer
			if err := (JSON{}).Render(&got, d); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(raw) {
				t.Errorf("JSON round trip differs from testdata/%s.json:\n--- got\n%s\n--- want\n%s", name, got.String(), raw)
			}
			if after, _ := json.Marshal(d); !bytes.Equal(before, after) {
				t.Errorf("rendering changed the caller's record")
			}
		})
	}
}

// TestJSONIsTheRecord checks the field names DESIGN.md promises, and that
// the output is one JSON document ending with one newline.
func TestJSONIsTheRecord(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			_, d := loadCase(t, name)
			var out bytes.Buffer
			if err := (JSON{}).Render(&out, d); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			if !strings.HasSuffix(s, "}\n") || strings.HasSuffix(s, "\n\n") {
				t.Errorf("want one document ending with exactly one newline, got tail %q", s[max(0, len(s)-8):])
			}
			dec := json.NewDecoder(strings.NewReader(s))
			var rec map[string]any
			if err := dec.Decode(&rec); err != nil {
				t.Fatal(err)
			}
			if dec.More() {
				t.Error("more than one JSON document")
			}
			for _, k := range []string{"schema", "command", "decision", "reason", "slos", "started_at", "finished_at"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("record has no %q", k)
				}
			}
			if rec["schema"] != "sloguard.decision/v1" || rec["decision"] != d.Decision || rec["reason"] != d.Reason {
				t.Errorf("schema/decision/reason: got %v/%v/%v", rec["schema"], rec["decision"], rec["reason"])
			}
			slos, _ := rec["slos"].([]any)
			if len(slos) != len(d.SLOs) {
				t.Fatalf("slos: got %d, want %d", len(slos), len(d.SLOs))
			}
			for i, raw := range slos {
				s := raw.(map[string]any)
				for _, k := range []string{"name", "objective", "window", "sli", "error_budget_remaining", "burn_rates", "decision", "reasons"} {
					if _, ok := s[k]; !ok {
						t.Errorf("slos[%d] has no %q", i, k)
					}
				}
				if _, ok := s["reasons"].([]any); !ok {
					t.Errorf("slos[%d].reasons: want a list, got %v", i, s["reasons"])
				}
				if _, ok := s["burn_rates"].(map[string]any); !ok {
					t.Errorf("slos[%d].burn_rates: want an object, got %v", i, s["burn_rates"])
				}
				if d.SLOs[i].SLI == nil && s["sli"] != nil {
					t.Errorf("slos[%d].sli: want null without data, got %v", i, s["sli"])
				}
			}
		})
	}
}

func TestJSONNeverNullLists(t *testing.T) {
	d := &Decision{Schema: Schema, Command: "check", Decision: Pass, SLOs: []SLO{{Name: "a", Decision: Pass}}}
	var out bytes.Buffer
	if err := (JSON{}).Render(&out, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"reasons": []`, `"burn_rates": {}`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("want %s in\n%s", want, out.String())
		}
	}
	if d.SLOs[0].Reasons != nil || d.SLOs[0].BurnRates != nil {
		t.Error("rendering changed the caller's record")
	}
	out.Reset()
	if err := (JSON{}).Render(&out, &Decision{Schema: Schema}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"slos": []`) {
		t.Errorf("want \"slos\": [] in\n%s", out.String())
	}
}

func TestMarkdownTableRowsStayRows(t *testing.T) {
	_, d := loadCase(t, "pipe-newline")
	var out bytes.Buffer
	if err := (Markdown{}).Render(&out, d); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "|") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 2+len(d.SLOs) {
		t.Fatalf("want header, rule and %d row(s), got %d:\n%s", len(d.SLOs), len(rows), out.String())
	}
	for _, r := range rows {
		if n := cells(r); n != 7 {
			t.Errorf("row has %d cells, want 7: %s", n, r)
		}
	}
}

// cells counts a GFM table row's cells the way cmark-gfm splits them: a
// backslash escapes the next character, so only bare pipes separate cells.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

func TestBurnRatesOrderIsStable(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	m := map[string]*float64{"1h": v(1), "60m": v(2), "5m": v(3), "3600s": v(4), "30m": nil}
	want := "5m=3.00 30m=? 1h=1.00 3600s=4.00 60m=2.00"
	for i := 0; i < 50; i++ {
		if got := burns(m, " "); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestFailingAndUnsure(t *testing.T) {
	d := &Decision{SLOs: []SLO{{Name: "a", Decision: Pass}, {Name: "b", Decision: Fail}, {Name: "c", Decision: Inconclusive}, {Name: "d", Decision: Fail}}}
	names := func(ss []SLO) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	if got := names(d.Failing()); !reflect.DeepEqual(got, []string{"b", "d"}) {
		t.Errorf("Failing: %v", got)
	}
	if got := names(d.Unsure()); !reflect.DeepEqual(got, []string{"c"}) {
		t.Errorf("Unsure: %v", got)
	}
	low, ok := (&Decision{SLOs: []SLO{{ErrorBudgetRemaining: ptr(30)}, {}, {ErrorBudgetRemaining: ptr(-5)}}}).LowestBudget()
	if !ok || low != -5 {
		t.Errorf("LowestBudget: %v %v, want -5 true", low, ok)
	}
	if _, ok := (&Decision{SLOs: []SLO{{}}}).LowestBudget(); ok {
		t.Error("LowestBudget without data: want ok=false")
	}
}

func ptr(v float64) *float64 { return &v }

// A rollback by hand leads with what its actions did; every other record
// with its decision.
func TestOutcome(t *testing.T) {
	acts := func(statuses ...string) []Action {
		var out []Action
		for _, s := range statuses {
			out = append(out, Action{Type: "command", Status: s})
		}
		return out
	}
	for name, tc := range map[string]struct {
		d          Decision
		want, text string
	}{
		"every action succeeded": {Decision{Command: "rollback", Decision: Fail, Actions: acts("succeeded", "succeeded")}, RolledBack, "sloguard rollback: ROLLED BACK\n"},
		"one failed":             {Decision{Command: "rollback", Decision: Fail, Actions: acts("succeeded", "failed")}, RollbackFailed, "sloguard rollback: ROLLBACK FAILED\n"},
		"a dry run":              {Decision{Command: "rollback", Decision: Fail, Actions: acts("dry-run")}, RollbackDryRun, "sloguard rollback: DRY RUN\n"},
		"every action skipped":   {Decision{Command: "rollback", Decision: Fail, Actions: acts("skipped")}, NotRolledBack, "sloguard rollback: NOTHING ROLLED BACK\n"},
		"a config error":         {Decision{Command: "rollback", Decision: Error}, Error, "sloguard rollback: ERROR\n"},
		"a watch that breached":  {Decision{Command: "watch", Decision: Fail, Actions: acts("succeeded")}, Fail, "sloguard watch: FAIL\n"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := tc.d.Outcome(); got != tc.want {
				t.Errorf("Outcome() = %q, want %q", got, tc.want)
			}
			var b bytes.Buffer
			if err := (Text{}).Render(&b, &tc.d); err != nil {
				t.Fatal(err)
			}
			if first, _, _ := strings.Cut(b.String(), "\n"); first+"\n" != tc.text {
				t.Errorf("text headline %q, want %q", first, tc.text)
			}
		})
	}
}

// A query quoted with %q in a reason keeps its escaped quotes as they are:
// markdown reads \" as the quote itself, so the summary shows the query
// as written, never \\" (escaped twice). Backslashes that markdown would
// eat, and pipes, are still escaped.
func TestEscapeMD(t *testing.T) {
	for in, want := range map[string]string{
		fmt.Sprintf("query %q: unknown metric", `sum(rate(x{service="checkout"}[5m]))`): `query "sum(rate(x{service=\"checkout\"}\[5m\]))": unknown metric`,
		// A backend's body cannot render an image, a link, code or emphasis
		// (before, it did); the backslashes markdown drops when it renders.
		"![x](https://evil.example/t.png) [click](javascript:alert(1))": `!\[x\](https://evil.example/t.png) \[click\](javascript:alert(1))`,
		"`code` *bold* _em_ ~~gone~~ **b**":                             "\\`code\\` \\*bold\\* \\_em\\_ \\~\\~gone\\~\\~ \\*\\*b\\*\\*",
		"on_no_data: http_requests_total _x":                            `on_no_data: http_requests_total \_x`,
		`a\[b`:                                                          `a\\\[b`,
		`a\|b`:                                                          `a\\\|b`,
		`C:\dir`:                                                        `C:\\dir`,
		`"a\\"`:                                                         `"a\\\\"`,
		`re "\\d+\"x"`:                                                  `re "\\\\d+\"x"`,
		"two\r\nlines\n":                                                "two lines ",
		"p99 < 300ms":                                                   "p99 &lt; 300ms",
		`\`:                                                             `\\`,
	} {
		if got := EscapeMarkdown(in); got != want {
			t.Errorf("EscapeMarkdown(%s) = %s, want %s", in, got, want)
		}
	}
}
