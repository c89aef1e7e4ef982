package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// JSON renders the decision record exactly, indented, newline-terminated.
// Lists the schema promises (slos, reasons, burn_rates) are never null, and
// text such as "p99 < 300ms" is kept as written rather than \u003c-escaped.
type JSON struct{}

// Render implements Renderer.
func (JSON) Render(w io.Writer, d *Decision) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalized(d)); err != nil { // Encode ends with one newline
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// normalized returns a shallow copy of d whose nil lists and maps are empty,
// leaving the caller's record untouched.
func normalized(d *Decision) *Decision {
	c := *d
	c.SLOs = make([]SLO, len(d.SLOs))
	for i, s := range d.SLOs {
		if s.Reasons == nil {
			s.Reasons = []string{}
		}
		if s.BurnRates == nil {
			s.BurnRates = map[string]*float64{}
		}
		c.SLOs[i] = s
	}
	return &c
}

// Text renders a table for a terminal.
type Text struct{}

// Render implements Renderer.
func (Text) Render(w io.Writer, d *Decision) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sloguard %s: %s\n", d.Command, strings.ToUpper(d.Outcome()))
	fmt.Fprintf(&b, "%s\n\n", d.Reason)
	if d.Canary != nil {
		if err := watchText(&b, d); err != nil {
			return err
		}
	} else if len(d.SLOs) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SLO\tOBJECTIVE\tSLI\tBUDGET LEFT\tBURN RATES\tVERDICT\tWHY")
		for _, s := range d.SLOs {
			why := oneLine(strings.Join(s.Reasons, "; "))
			if why == "" {
				why = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(s.Name), objective(s), pct(s.SLI, 3), pct(s.ErrorBudgetRemaining, 1), burns(s.BurnRates, " "), s.Decision, why)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	actionsText(&b, d.Actions)
	if d.Override != "" {
		fmt.Fprintf(&b, "\noverride: %s\n", oneLine(d.Override))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps a table cell on its row and in its column: line breaks and
// tabs (which tabwriter reads as column breaks) become spaces.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

func objective(s SLO) string {
	return fmt.Sprintf("%s%% / %s", trim(s.Objective), s.Window)
}

func pct(v *float64, prec int) string {
	if v == nil {
		return "no data"
	}
	return fmt.Sprintf("%.*f%%", prec, *v)
}

// trim prints an objective as written: 99.9, 99.99999 (not rounded to 100).
func trim(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// burns lists burn rates shortest window first: "5m=0.2 1h=0.2"; "?"
// for a window without a burn rate (no data).
func burns(m map[string]*float64, sep string) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		di, dj := parseDur(keys[i]), parseDur(keys[j])
		if di != dj {
			return di < dj
		}
		return keys[i] < keys[j] // 60m and 1h: a fixed order, not the map's
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=?"
		if v := m[k]; v != nil {
			parts[i] = fmt.Sprintf("%s=%s", k, rate(*v))
		}
	}
	return strings.Join(parts, sep)
}

func rate(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// parseDur orders Prometheus-style durations (5m, 1h, 3d) without
// depending on the slo package.
func parseDur(s string) time.Duration {
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}
	var total, n time.Duration
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + time.Duration(c-'0')
		case c == 'm' && i+1 < len(s) && s[i+1] == 's':
			total += n * time.Millisecond
			n = 0
			i++
		default:
			total += n * units[c]
			n = 0
		}
	}
	return total
}
