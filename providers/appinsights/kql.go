package appinsights

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// ResolveQuery implements providers.Settings: query as Counts sends it for q (window, scope
// filter) without sending anything: validate checks every query and scope
// with it.
func (c *Config) ResolveQuery(query string, q providers.Query) (string, error) {
	return resolve(query, q.Window, q.Scope)
}

// resolve turns an SLI query into the KQL sent: {{.window}} replaced by a
// KQL timespan literal, and the scope's filter inserted after the first
// table reference.
func resolve(query string, window time.Duration, scope providers.Scope) (string, error) {
	q := slo.WindowVar().ReplaceAllLiteralString(query, timespanLiteral(window))
	return scopeKQL(q, scope)
}

// timespanLiteral writes a duration as a KQL timespan literal in its
// largest whole unit: 30d, 1h, 90m, 15s, 250ms.
func timespanLiteral(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d%u.unit == 0 {
			return fmt.Sprintf("%d%s", d/u.unit, u.name)
		}
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

var (
	column   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	ident    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
	notTable = map[string]bool{
		"union": true, "search": true, "find": true, "print": true, "range": true, "datatable": true,
		"evaluate": true, "externaldata": true, "materialize": true, "view": true, "toscalar": true,
	}
)

// scopeKQL inserts `| where <column> == "<value>"` (one condition per
// label, sorted, joined with and) right after the first table reference
// of the query's tabular expression, past any let, set or declare
// statements. Dotted columns (customDimensions.version) are compared
// through tostring(). A query that does not start with a plain table name
// cannot be scoped safely and is a bad query.
func scopeKQL(q string, scope providers.Scope) (string, error) {
	if len(scope.Labels) == 0 {
		return q, nil
	}
	keys := make([]string, 0, len(scope.Labels))
	for k := range scope.Labels {
		if !column.MatchString(k) {
			return q, &providers.ScopeError{Scope: scope.Name, Label: k, Msg: "not a KQL column name: use letters, digits and _, dotted for dynamic fields such as customDimensions.version"}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	conds := make([]string, len(keys))
	for i, k := range keys {
		col := k
		if strings.Contains(k, ".") {
			col = "tostring(" + k + ")"
		}
		conds[i] = col + " == " + kqlString(scope.Labels[k])
	}
	filter := " | where " + strings.Join(conds, " and ")

	i := skipStatements(q)
	if i < 0 {
		return q, providers.BadQuery("cannot find the query's table after its let/set/declare statements: end each with ;")
	}
	rest := q[i:]
	var name string
	switch {
	case strings.HasPrefix(rest, "['") || strings.HasPrefix(rest, `["`):
		quote := rest[1]
		end := strings.IndexByte(rest[2:], quote)
		if end < 0 || len(rest) < end+4 || rest[end+3] != ']' {
			return q, providers.BadQuery("unclosed [%c table name", quote)
		}
		name = rest[:end+4]
	default:
		name = ident.FindString(rest)
	}
	after := strings.TrimLeft(rest[len(name):], " \t\r\n")
	if name == "" || notTable[name] || strings.HasPrefix(after, "(") || strings.HasPrefix(after, ".") || strings.HasPrefix(after, ",") {
		what := name
		if what == "" {
			what = firstWord(rest)
		}
		return q, providers.BadQuery("sloguard narrows a query to the %s by inserting a where after its first table, but this query starts with %q: start it with a table name, e.g. requests | where … | summarize count()", scope.Name, what)
	}
	return q[:i] + name + filter + q[i+len(name):], nil
}

// skipStatements returns the index of the query's tabular expression:
// past whitespace, // comments and let/set/declare/alias statements, each
// ending with a semicolon outside strings and brackets. -1 means a
// statement never ends.
func skipStatements(q string) int {
	i := 0
	for {
		i = skipBlank(q, i)
		w := ident.FindString(q[i:])
		if w != "let" && w != "set" && w != "declare" && w != "alias" {
			return i
		}
		end := statementEnd(q, i)
		if end < 0 {
			return -1
		}
		i = end + 1
	}
}

// statementEnd finds the ; that ends the statement at i.
func statementEnd(q string, i int) int {
	depth := 0
	for j := i; j < len(q); j++ {
		switch c := q[j]; c {
		case '"', '\'':
			j = stringEnd(q, j)
			if j < 0 {
				return -1
			}
		case '/':
			if j+1 < len(q) && q[j+1] == '/' {
				nl := strings.IndexByte(q[j:], '\n')
				if nl < 0 {
					return -1
				}
				j += nl
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ';':
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// stringEnd returns the index of the quote closing the string at i.
func stringEnd(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case quote:
			return j
		}
	}
	return -1
}

func skipBlank(q string, i int) int {
	for i < len(q) {
		switch {
		case q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r':
			i++
		case strings.HasPrefix(q[i:], "//"):
			nl := strings.IndexByte(q[i:], '\n')
			if nl < 0 {
				return len(q)
			}
			i += nl + 1
		default:
			return i
		}
	}
	return i
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// kqlString quotes a value as a KQL string literal.
func kqlString(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
