package static

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

var at = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// values decodes recorded values written in YAML, as a config holds them.
func values(t *testing.T, src string) map[string]Series {
	t.Helper()
	var v map[string]Series
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func cfg(t *testing.T, src string) Config {
	return Config{Name: "recorded", Values: values(t, src)}
}

const good = `
checkout:
  service:
    30d: {bad: 1296, total: 2592000}
    5m: {good: 297, total: 300}
    1h: {slices: [true, false, true]}
  canary:
    5m: {bad: 1, total: 10}
latency:
  service:
    5m: {value: 0.25}
    1h: {slices: [true, false]}
`

var (
	events    = slo.SLI{}
	threshold = slo.SLI{Op: "<", Value: 0.3}
)

func TestCounts(t *testing.T) {
	p, err := New(cfg(t, good), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		q       providers.Query
		want    providers.Counts
		wantErr error
		msg     string
	}{
		"bad events with total": {
			q:    providers.Query{SLO: "checkout", SLI: events, Window: 30 * 24 * time.Hour},
			want: providers.Counts{Good: 2592000 - 1296, Total: 2592000, Resolved: []string{"values.checkout.service.30d"}},
		},
		"good events with total": {
			q:    providers.Query{SLO: "checkout", SLI: events, Window: 5 * time.Minute},
			want: providers.Counts{Good: 297, Total: 300, Resolved: []string{"values.checkout.service.5m"}},
		},
		"the canary's readings": {
			q:    providers.Query{SLO: "checkout", SLI: events, Scope: providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"track": "canary"}}, Window: 5 * time.Minute},
			want: providers.Counts{Good: 9, Total: 10, Resolved: []string{"values.checkout.canary.5m"}},
		},
		"a threshold value": {
			q:    providers.Query{SLO: "latency", SLI: threshold, Window: 5 * time.Minute},
			want: providers.Counts{Value: 0.25, Total: 1, Resolved: []string{"values.latency.service.5m"}},
		},
		"a missing SLO is no data": {
			q:       providers.Query{SLO: "search", SLI: events, Window: 5 * time.Minute},
			wantErr: providers.ErrNoData, msg: `provider "recorded": query "values.search.service.5m": no data: nothing recorded there`,
		},
		"a missing scope is no data": {
			q:       providers.Query{SLO: "checkout", SLI: events, Scope: providers.Scope{Name: providers.ScopeBaseline}, Window: 5 * time.Minute},
			wantErr: providers.ErrNoData, msg: `query "values.checkout.baseline.5m": no data`,
		},
		"a missing window is no data": {
			q:       providers.Query{SLO: "checkout", SLI: events, Window: 6 * time.Hour},
			wantErr: providers.ErrNoData, msg: `query "values.checkout.service.6h": no data`,
		},
		"slices are not a reading over the window": {
			q:       providers.Query{SLO: "checkout", SLI: events, Window: time.Hour},
			wantErr: providers.ErrBadQuery, msg: `query "values.checkout.service.1h": bad query: holds slices, not a reading over the window`,
		},
		"a value for an event SLI is a bad query": {
			q:       providers.Query{SLO: "latency", SLI: events, Window: 5 * time.Minute},
			wantErr: providers.ErrBadQuery, msg: "holds a value, but the SLI counts events: record total with good or bad",
		},
		"events for a threshold SLI are a bad query": {
			q:       providers.Query{SLO: "checkout", SLI: threshold, Window: 5 * time.Minute},
			wantErr: providers.ErrBadQuery, msg: "holds events, but the SLI is a threshold (op, value): record value",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := p.Counts(context.Background(), tc.q, at)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v, want %v containing %q", err, tc.wantErr, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Start, tc.want.End = at.Add(-tc.q.Window), at
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Counts = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSlices(t *testing.T) {
	p, err := New(cfg(t, good), "")
	if err != nil {
		t.Fatal(err)
	}
	hour := providers.Range{Start: at.Add(-time.Hour), End: at, Step: 20 * time.Minute}
	got, err := p.Slices(context.Background(), providers.Query{SLO: "checkout", SLI: events, Window: 20 * time.Minute}, hour)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{1, 0, 1} {
		end := at.Add(-time.Duration(2-i) * 20 * time.Minute)
		if c := got[i]; c.Good != want || c.Total != 1 || !c.End.Equal(end) || !c.Start.Equal(end.Add(-20*time.Minute)) {
			t.Errorf("slice %d = %+v, want good %v of 1 ending %v", i, c, want, end)
		}
	}

	half := providers.Range{Start: at.Add(-time.Hour), End: at, Step: 30 * time.Minute}
	got, err = p.Slices(context.Background(), providers.Query{SLO: "latency", SLI: threshold}, half)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !threshold.Good(got[0].Value) || threshold.Good(got[1].Value) {
		t.Errorf("threshold slices %+v: want a passing then a failing value", got)
	}

	tests := map[string]struct {
		q       providers.Query
		r       providers.Range
		wantErr error
		msg     string
	}{
		"a length that does not match the range is a bad query": {
			q: providers.Query{SLO: "checkout", SLI: events}, r: providers.Range{Start: at.Add(-time.Hour), End: at, Step: 5 * time.Minute},
			wantErr: providers.ErrBadQuery, msg: `query "values.checkout.service.1h": bad query: holds 3 slices, want 12 (1h / 5m)`,
		},
		"a reading over the window is not slices": {
			q: providers.Query{SLO: "checkout", SLI: events}, r: providers.Range{Start: at.Add(-5 * time.Minute), End: at, Step: time.Minute},
			wantErr: providers.ErrBadQuery, msg: "holds a reading over the window, not slices",
		},
		"a zero step is a bad query, not a panic": {
			q: providers.Query{SLO: "checkout", SLI: events}, r: providers.Range{Start: at.Add(-time.Hour), End: at},
			wantErr: providers.ErrBadQuery, msg: "slice step must be longer than zero",
		},
		"a missing window is no data": {
			q: providers.Query{SLO: "checkout", SLI: events}, r: providers.Range{Start: at.Add(-2 * time.Hour), End: at, Step: time.Hour},
			wantErr: providers.ErrNoData, msg: `query "values.checkout.service.2h": no data`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := p.Slices(context.Background(), tc.q, tc.r)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want %v containing %q", err, tc.wantErr, tc.msg)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	tests := map[string]struct {
		values string
		want   string
	}{
		"total alone":                       {`s: {service: {5m: {total: 10}}}`, `provider "recorded": values.s.service.5m: give good or bad with total`},
		"good and bad both":                 {`s: {service: {5m: {total: 10, good: 5, bad: 5}}}`, `values.s.service.5m: give good or bad with total`},
		"good alone":                        {`s: {service: {5m: {good: 5}}}`, `values.s.service.5m: give one of total (with good or bad), value, or slices`},
		"total and value":                   {`s: {service: {5m: {total: 10, good: 5, value: 1}}}`, `values.s.service.5m: give one of total (with good or bad), value, or slices`},
		"good with a value":                 {`s: {service: {5m: {value: 1, good: 1}}}`, `values.s.service.5m: good and bad go with total, not with value or slices`},
		"bad with slices":                   {`s: {service: {5m: {slices: [true], bad: 1}}}`, `values.s.service.5m: good and bad go with total, not with value or slices`},
		"a negative total":                  {`s: {service: {5m: {total: -1, good: 0}}}`, `values.s.service.5m: total must not be negative`},
		"more good than total":              {`s: {service: {5m: {total: 10, good: 11}}}`, `values.s.service.5m: good and bad must be between 0 and total`},
		"negative bad":                      {`s: {service: {5m: {total: 10, bad: -1}}}`, `values.s.service.5m: good and bad must be between 0 and total`},
		"a NaN total":                       {`s: {service: {5m: {total: .nan, good: 0}}}`, `values.s.service.5m: values must be finite numbers`},
		"an infinite value":                 {`s: {service: {5m: {value: .inf}}}`, `values.s.service.5m: values must be finite numbers`},
		"no slices":                         {`s: {service: {1h: {slices: []}}}`, `values.s.service.1h: slices must not be empty`},
		"an unknown scope":                  {`s: {canry: {5m: {value: 1}}}`, `values.s.canry: unknown scope: use service, canary, baseline`},
		"a window that is no duration":      {`s: {service: {5 minutes: {value: 1}}}`, `values.s.service.5 minutes: "5 minutes" is not a duration`},
		"the same window written twice":     {`s: {service: {1h: {value: 1}, 60m: {value: 2}}}`, `the window 1h is given twice`},
		"every problem is reported, sorted": {`{a: {service: {5m: {total: 1}}}, b: {canry: {}}}`, "provider \"recorded\": values.a.service.5m: give good or bad with total\nprovider \"recorded\": values.b.canry: unknown scope"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg(t, tc.values), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWindowsAreDurations(t *testing.T) {
	p, err := New(cfg(t, `s: {service: {720h: {good: 1, total: 2}, 90m: {good: 3, total: 4}}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	for w, total := range map[time.Duration]float64{30 * 24 * time.Hour: 2, 90 * time.Minute: 4} {
		c, err := p.Counts(context.Background(), providers.Query{SLO: "s", Window: w}, at)
		if err != nil || c.Total != total {
			t.Errorf("window %v: %+v, %v; want total %v", w, c, err, total)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("values.yaml", "checkout:\n  service:\n    5m: {good: 9, total: 10}\nsearch:\n  service:\n    5m: {good: 1, total: 1}\n")
	write("values.json", `{"checkout": {"service": {"5m": {"bad": 2, "total": 10}}}}`)
	write("empty.yaml", "")
	write("typo.yaml", "checkout:\n  service:\n    5m: {goood: 9, total: 10}\n")
	read := func(p *Provider, slo string) float64 {
		t.Helper()
		c, err := p.Counts(context.Background(), providers.Query{SLO: slo, Window: 5 * time.Minute}, at)
		if err != nil {
			t.Fatal(err)
		}
		return c.Good
	}

	p, err := New(Config{Name: "recorded", File: "values.yaml"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if g := read(p, "checkout"); g != 9 {
		t.Errorf("file relative to the config's directory: good %v, want 9", g)
	}
	p, err = New(Config{Name: "recorded", File: filepath.Join(dir, "values.json")}, "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if g := read(p, "checkout"); g != 8 {
		t.Errorf("absolute JSON file: good %v, want 8", g)
	}
	c := cfg(t, `checkout: {service: {5m: {good: 5, total: 10}}}`)
	c.File = "values.yaml"
	p, err = New(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	if g, s := read(p, "checkout"), read(p, "search"); g != 5 || s != 1 {
		t.Errorf("inline values win SLO by SLO: checkout good %v (want 5), search good %v (want 1)", g, s)
	}
	if names := p.Names(); !reflect.DeepEqual(names, []string{"checkout", "search"}) {
		t.Errorf("Names() = %v", names)
	}
	p, err = New(Config{Name: "recorded", File: "empty.yaml"}, dir)
	if err != nil || len(p.Names()) != 0 {
		t.Errorf("an empty file: %v, %v; want no values", p, err)
	}

	for file, want := range map[string]string{
		"missing.yaml": `provider "recorded": file ` + filepath.Join(dir, "missing.yaml") + ": no such file or directory",
		"/dev/zero":    `provider "recorded": file /dev/zero: not a regular file: it is a character device`,
		"typo.yaml":    `provider "recorded": file ` + filepath.Join(dir, "typo.yaml") + ": yaml: unmarshal errors:\n  line 3: field goood not found in type static.Value",
	} {
		if _, err := New(Config{Name: "recorded", File: file}, dir); err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %s", file, err, want)
		}
	}
}

func TestNewDoesNotShareTheConfigsMaps(t *testing.T) {
	c := cfg(t, `s: {service: {5m: {value: 1}}}`)
	p, err := New(c, "")
	if err != nil {
		t.Fatal(err)
	}
	delete(c.Values["s"]["service"], "5m")
	if _, err := p.Counts(context.Background(), providers.Query{SLO: "s", SLI: threshold, Window: 5 * time.Minute}, at); err != nil {
		t.Errorf("changing the config changed the provider: %v", err)
	}
}

func TestCheckNamesRejectsValuesForNoSLO(t *testing.T) {
	p, err := New(cfg(t, `checkout-availability: {service: {30d: {good: 5, total: 10}}}
chekout-latency: {service: {30d: {value: 1}}}
orphan: {service: {30d: {value: 1}}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckNames([]string{"checkout-availability", "chekout-latency", "orphan"}); err != nil {
		t.Errorf("values for known SLOs: %v", err)
	}
	err = p.CheckNames([]string{"checkout-availability", "checkout-latency"})
	want := `provider "recorded": values.chekout-latency: no SLO of this provider has that name: did you mean checkout-latency?` + "\n" +
		`provider "recorded": values.orphan: no SLO of this provider has that name: its SLOs are checkout-availability, checkout-latency`
	if err == nil || err.Error() != want {
		t.Errorf("CheckNames error:\n%v\nwant:\n%s", err, want)
	}
}
