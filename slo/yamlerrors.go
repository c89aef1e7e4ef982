package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/internal/suggest"
)

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (.+) not found in type (\S+)$`)
	cannotDecode = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	duplicateKey = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// yamlProblems turns a yaml.v3 error into Problems with lines and paths.
// data is the file's content, for hints about the offending line.
func yamlProblems(file string, data []byte, err error, pos *positions) []Problem {
	return yamlProblemsKeys(file, data, err, pos, knownKeys)
}

// yamlProblemsKeys is yamlProblems with the known keys of the decoded
// types given, for sections that other packages own.
func yamlProblemsKeys(file string, data []byte, err error, pos *positions, known map[string][]string) []Problem {
	te, isType := err.(*yaml.TypeError)
	msgs := []string{err.Error()}
	if isType {
		msgs = te.Errors
	}
	out := make([]Problem, 0, len(msgs))
	seen := map[string]int{} // values already blamed, by line and value
	for _, m := range msgs {
		pr := Problem{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			pr.Line, _ = strconv.Atoi(g[1])
			pr.Msg = g[2]
		}
		switch f, c, d := unknownField.FindStringSubmatch(pr.Msg), cannotDecode.FindStringSubmatch(pr.Msg), duplicateKey.FindStringSubmatch(pr.Msg); {
		case d != nil:
			pr.Path = pos.keyAt(pr.Line, d[1])
			pr.Msg = fmt.Sprintf("%q is set twice (first on line %s): keep one", d[1], d[2])
		case f != nil:
			pr.Path = pos.keyAt(pr.Line, f[1])
			pr.Msg = unknownKeyIn(known[f[2]], f[1])
		case c != nil:
			value := strings.TrimSuffix(c[2], "...")
			if c[2] != "" {
				at := fmt.Sprintf("%d:%s", pr.Line, value)
				pr.Path = pos.valueAt(pr.Line, value, value != c[2], seen[at])
				seen[at]++
			}
			if pr.Path == "" {
				pr.Path = pos.keyAt(pr.Line, "")
			}
			pr.Msg = fmt.Sprintf("expected %s, got %s", goTypeWord(c[3]), yamlTagWord(c[1], c[2]))
		case isType && pr.Line > 0:
			// A value a type of another package refused (slo.Duration).
			pr.Path = pos.keyAt(pr.Line, "")
		case strings.Contains(pr.Msg, "excessive aliasing"):
			pr.Msg = "invalid YAML: " + pr.Msg + ": aliases (*name) expand to too much; write the values out"
		case !isType:
			// yaml.v3 reports where the enclosing block starts, and
			// leaves the line out of errors on the first line.
			if l := syntaxLine(data, max(pr.Line, 1)); l > 0 {
				pr.Line = l
			}
			pr.Msg = "invalid YAML: " + pr.Msg + syntaxHint(data, pr.Msg, pr.Line)
		}
		out = append(out, pr)
	}
	return out
}

// syntaxLine finds the line that breaks the YAML: the first line, from
// line from on, where the file up to that line no longer parses. It is 0
// when every such part parses.
func syntaxLine(data []byte, from int) int {
	end, line := 0, 1
	for line < from && end < len(data) {
		if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
			end += i + 1
			line++
		} else {
			end = len(data)
		}
	}
	for ; end < len(data) && line < from+200; line++ {
		if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(data)
		}
		if !yamlParses(string(data[:end])) {
			return line
		}
	}
	return 0
}

func yamlParses(s string) bool {
	dec := yaml.NewDecoder(strings.NewReader(s))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

// syntaxHint says how to fix the line, for the errors most people meet.
func syntaxHint(data []byte, msg string, line int) string {
	lines := strings.Split(string(data), "\n")
	switch {
	case strings.Contains(msg, "UTF-8"):
		return ": save the file as UTF-8 text"
	case strings.Contains(msg, "control characters"):
		return ": remove the control character (a stray byte from a copy and paste?)"
	case strings.Contains(msg, "directive"):
		return ": a line that starts with % is a YAML directive; quote the value"
	case line >= 1 && line <= len(lines) && strings.Contains(lines[line-1], "\t"):
		return ": indent with spaces, YAML does not allow tabs"
	}
	return ": check its indentation against the lines above, and quote a value that holds ': ' or starts with { [ * & ! @ %"
}

func goTypeWord(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "slo.Duration":
		return "a duration such as 30s"
	}
	return "a mapping"
}

func yamlTagWord(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "null":
		return "nothing"
	}
	return strconv.Quote(value)
}

// knownKeys lists the keys of the strictly decoded YAML shapes, by the type
// name yaml.v3 puts in its "field not found" errors.
var knownKeys = func() map[string][]string {
	m := map[string][]string{}
	for _, v := range []any{
		rawConfig{}, rawSLO{}, rawTimeslice{}, rawSLI{},
		rawBurnAlert{}, rawGate{}, rawScope{}, rawCanary{},
		slothFile{}, slothSLO{}, slothSLI{}, slothEvents{}, slothRaw{},
	} {
		t := reflect.TypeOf(v)
		m[t.String()] = structKeys(t)
	}
	return m
}()

// structKeys lists the YAML keys of a struct type's fields.
func structKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// unknownKeyMsg says what is wrong with an unknown key and what would fit.
func unknownKeyMsg(key, typ string) string {
	return unknownKeyIn(knownKeys[typ], key)
}

// unknownKeyIn is unknownKeyMsg for a type whose keys are given.
func unknownKeyIn(keys []string, key string) string {
	if len(keys) == 0 {
		return fmt.Sprintf("unknown key %q", key)
	}
	best, dist := "", 3
	for _, k := range keys {
		if d := suggest.Distance(strings.ToLower(key), k); d < dist && 2*d < len(k) {
			best, dist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q: did you mean %s?", key, best)
	}
	return fmt.Sprintf("unknown key %q: use one of %s", key, strings.Join(keys, ", "))
}
