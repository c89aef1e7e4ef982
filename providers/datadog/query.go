package datadog

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// rollupIntervals are the bucket lengths sloguard asks for, shortest
// first: the shortest that keeps a window under maxPoints buckets.
var rollupIntervals = []int{60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600, 43200, 86400}

// maxPoints keeps a request under the number of points Datadog returns per
// series before it coarsens the rollup on its own.
const maxPoints = 1500

// rollupFor picks the bucket length for a window.
func rollupFor(window time.Duration) int {
	secs := int(window / time.Second)
	for _, r := range rollupIntervals {
		if secs/r <= maxPoints {
			return r
		}
	}
	return rollupIntervals[len(rollupIntervals)-1]
}

// resolve turns an SLI query into the one sent to Datadog: {{.window}}
// replaced by the window in seconds, the scope's tags added to every
// metric's {…} scope, and .rollup(agg, interval) appended to every metric
// that has no rollup of its own.
func resolve(query string, window time.Duration, agg string, rollup int, scope providers.Scope) (string, error) {
	q := slo.WindowVar().ReplaceAllLiteralString(query, strconv.Itoa(int(window/time.Second)))
	tags := scopeTags(scope)
	for _, t := range tags {
		if !tagKey.MatchString(t[0]) {
			return q, &providers.ScopeError{Scope: scope.Name, Label: t[0], Msg: "not a Datadog tag key: start with a letter and use letters, digits and _ . / -"}
		}
		if !tagValue.MatchString(t[1]) {
			return q, &providers.ScopeError{Scope: scope.Name, Label: t[0], Msg: fmt.Sprintf("the value %q is not a Datadog tag value: use letters, digits and _ . / : -", t[1])}
		}
	}
	return rewrite(q, tags, agg, rollup)
}

func scopeTags(scope providers.Scope) [][2]string {
	keys := make([]string, 0, len(scope.Labels))
	for k := range scope.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([][2]string, len(keys))
	for i, k := range keys {
		tags[i] = [2]string{k, scope.Labels[k]}
	}
	return tags
}

var (
	tagKey   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_./-]*$`)
	tagValue = regexp.MustCompile(`^[A-Za-z0-9_./:-]+$`)
	boolOps  = regexp.MustCompile(`(?i)(^|[\s(])(AND|OR|NOT)[\s(]|[()]`)
)

// rewrite walks a metrics query (one metric, a formula of several, or a
// comma-separated list) and edits each metric term
// agg:name{scope} [by {tags}] [.fn(…)]…: tags go into its scope, and a
// rollup goes at the end of its function chain when it has none (agg ""
// adds none). A by {…} group is never taken for a scope.
func rewrite(q string, tags [][2]string, agg string, rollup int) (string, error) {
	var b strings.Builder
	terms := 0
	i := 0
	for i < len(q) {
		c := q[i]
		if c != '{' {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(q[i:], '}')
		if end < 0 {
			return q, providers.BadQuery("unbalanced { in %q", q)
		}
		end += i
		if precededBy(q[:i], "by") {
			b.WriteString(q[i : end+1]) // a group-by list, not a scope
			i = end + 1
			continue
		}
		if !precededByMetric(q[:i]) {
			return q, providers.BadQuery("the scope {%s} follows no metric name: write agg:metric.name{scope}", q[i+1:end])
		}
		terms++
		scope, err := addTags(q[i+1:end], tags)
		if err != nil {
			return q, err
		}
		b.WriteString("{" + scope + "}")
		i = end + 1
		// Copy an optional by {…} and the function chain, then add the
		// rollup after it.
		j := skipSpace(q, i)
		if strings.HasPrefix(q[j:], "by") {
			k := skipSpace(q, j+2)
			if k < len(q) && q[k] == '{' {
				e := strings.IndexByte(q[k:], '}')
				if e < 0 {
					return q, providers.BadQuery("unbalanced { in %q", q)
				}
				b.WriteString(q[i : k+e+1])
				i = k + e + 1
			}
		}
		hasRollup := false
		for i < len(q) && q[i] == '.' {
			name, next, err := method(q, i)
			if err != nil {
				return q, err
			}
			if name == "rollup" {
				hasRollup = true
			}
			b.WriteString(q[i:next])
			i = next
		}
		if !hasRollup && agg != "" {
			fmt.Fprintf(&b, ".rollup(%s, %d)", agg, rollup)
		}
	}
	if terms == 0 {
		return q, providers.BadQuery("no metric scope in %q: write each metric as agg:metric.name{scope}, e.g. sum:trace.http.request.hits{service:checkout}.as_count() ({*} for all)", q)
	}
	return b.String(), nil
}

// addTags adds tags to a scope's contents: {*} becomes the tags, a list
// of tags gets them appended, and a boolean filter gets them ANDed. A tag
// key the scope already filters on would fight the canary scope: that is
// an error, not something to guess about.
func addTags(scope string, tags [][2]string) (string, error) {
	s := strings.TrimSpace(scope)
	if len(tags) == 0 {
		return scope, nil
	}
	for _, t := range tags {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '(' || r == ')' }) {
			part = strings.TrimLeft(part, "!-")
			if k, _, ok := strings.Cut(part, ":"); ok && strings.EqualFold(k, t[0]) {
				return scope, providers.BadQuery("scope {%s} already filters on tag %q, which sloguard sets to select the canary or baseline: remove it from the query", s, t[0])
			}
		}
	}
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = t[0] + ":" + t[1]
	}
	switch {
	case s == "*" || s == "":
		return strings.Join(parts, ","), nil
	case boolOps.MatchString(s):
		return "(" + s + ") AND " + strings.Join(parts, " AND "), nil
	default:
		return s + "," + strings.Join(parts, ","), nil
	}
}

// method reads .name(args) at q[i] and returns the name and the index
// after the closing parenthesis.
func method(q string, i int) (string, int, error) {
	j := i + 1
	for j < len(q) && (isWord(q[j])) {
		j++
	}
	name := q[i+1 : j]
	if name == "" || j >= len(q) || q[j] != '(' {
		return "", 0, providers.BadQuery("expected a function such as .as_count() after the metric scope in %q", q)
	}
	depth := 0
	for k := j; k < len(q); k++ {
		switch q[k] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return name, k + 1, nil
			}
		}
	}
	return "", 0, providers.BadQuery("unbalanced ( in %q", q)
}

func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func skipSpace(q string, i int) int {
	for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n') {
		i++
	}
	return i
}

// precededBy reports whether the text before a brace ends with the word w.
func precededBy(before, w string) bool {
	t := strings.TrimRight(before, " \t\n")
	if !strings.HasSuffix(t, w) {
		return false
	}
	rest := t[:len(t)-len(w)]
	return rest == "" || !isWord(rest[len(rest)-1]) && rest[len(rest)-1] != '.'
}

// precededByMetric reports whether the text before a brace ends with a
// metric name (letters, digits, _ and .).
func precededByMetric(before string) bool {
	return before != "" && (isWord(before[len(before)-1]) || before[len(before)-1] == '.')
}
