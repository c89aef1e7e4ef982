package report

import (
	"fmt"
	"io"
	"strings"
)

// Markdown renders GitHub-flavoured markdown for job summaries and PRs.
type Markdown struct{}

var icons = map[string]string{Pass: "✅", Fail: "❌", Inconclusive: "⚠️", Overridden: "🟠", Error: "🛑",
	RolledBack: "↩️", RollbackFailed: "🛑", RollbackDryRun: "📝", NotRolledBack: "⚠️"}

// Render implements Renderer.
func (Markdown) Render(w io.Writer, d *Decision) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s sloguard %s: %s\n\n", icons[d.Outcome()], d.Command, d.Outcome())
	fmt.Fprintf(&b, "%s\n\n", EscapeMarkdown(d.Reason))
	if d.Override != "" {
		fmt.Fprintf(&b, "> **Overridden:** %s\n\n", EscapeMarkdown(d.Override))
	}
	if d.Canary != nil {
		watchMarkdown(&b, d)
	} else if len(d.SLOs) > 0 {
		b.WriteString("| SLO | Objective | SLI | Budget left | Burn rates | Verdict | Why |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, s := range d.SLOs {
			why := EscapeMarkdown(strings.Join(s.Reasons, "; "))
			if why == "" {
				why = "–"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s %s | %s |\n", s.Name, objective(s), pct(s.SLI, 3), pct(s.ErrorBudgetRemaining, 1), burns(s.BurnRates, ", "), icons[s.Decision], s.Decision, why)
		}
	}
	actionsMarkdown(&b, d.Actions)
	if !d.EvaluatedAt.IsZero() {
		fmt.Fprintf(&b, "\n<sub>Evaluated at %s.</sub>\n", d.EvaluatedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// EscapeMarkdown keeps text from breaking a table row or turning into markup:
// backslashes (so that a "\\" before a "|" cannot unescape it), pipes, line
// breaks, angle brackets (which GitHub would read as HTML tags), and the
// characters of links, images, code spans and emphasis ([, ], `, *, _,
// ~), escaped with a backslash, which markdown drops when it renders: a
// backend's body of ![x](https://evil.example/t.png) shows as that text,
// never as an image it would fetch or a link to click. A
// quote escaped the Go way (a query quoted with %q: {service=\"checkout\"})
// stays as it is, so that markdown reads it as the quote it stands for,
// not as \\" (the text would show the escaping twice).
func EscapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteString(`\\\\`) // an escaped backslash: both kept
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '"':
			b.WriteString(`\"`)
			i++
		case c == '\\':
			b.WriteString(`\\`)
		case c == '|':
			b.WriteString(`\|`)
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			b.WriteByte(' ')
			i++
		case c == '\r', c == '\n':
			b.WriteByte(' ')
		case c == '_' && i > 0 && i+1 < len(s) && alnum(s[i-1]) && alnum(s[i+1]):
			b.WriteByte(c) // within a word (on_no_data, a metric's name): never emphasis
		case strings.IndexByte("[]`*_~", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
