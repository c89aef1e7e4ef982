package slo

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a config file, located as precisely as
// the file allows.
type Problem struct {
	File string
	Line int    // 0 when unknown
	Path string // e.g. slos[0].objective
	Msg  string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ConfigError carries every problem found in a config file, so that a user
// fixes them in one go rather than one run at a time.
type ConfigError struct {
	File     string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems for one file and finds their line numbers.
type problems struct {
	file string
	pos  *positions
	list []Problem
	// rename maps a native path to where the value sits in the source file
	// (OpenSLO, Sloth); the second result is the path shown to the user.
	rename func(path string) (source, shown string)
}

func (ps *problems) add(path, format string, args ...any) {
	source, shown := path, path
	if ps.rename != nil {
		source, shown = ps.rename(path)
	}
	ps.list = append(ps.list, Problem{File: ps.file, Line: ps.pos.line(source), Path: shown, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool { return ps.list[i].Line < ps.list[j].Line })
	return &ConfigError{File: ps.file, Problems: ps.list}
}

// positions maps paths such as "slos[0].objective" to the line they are on.
type positions struct {
	lines map[string]int
	keys  map[int][]string // line -> paths of keys on that line
}

func newPositions(doc *yaml.Node, prefix string) *positions {
	p := &positions{lines: map[string]int{}, keys: map[int][]string{}}
	if doc != nil {
		p.walk(doc, prefix)
	}
	return p
}

func (p *positions) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			p.walk(c, path)
		}
	case yaml.MappingNode:
		if path != "" {
			p.setIfAbsent(path, n.Line)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			p.lines[child] = k.Line
			p.keys[k.Line] = append(p.keys[k.Line], child)
			p.walk(v, child)
		}
	case yaml.SequenceNode:
		p.setIfAbsent(path, n.Line)
		for i, c := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			p.lines[child] = c.Line
			p.walk(c, child)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			p.walk(n.Alias, path)
		}
	}
}

func (p *positions) setIfAbsent(path string, line int) {
	if _, ok := p.lines[path]; !ok {
		p.lines[path] = line
	}
}

// line returns the line of path, or of its closest ancestor that exists.
func (p *positions) line(path string) int {
	if p == nil {
		return 0
	}
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// keyAt returns the path of the key named key on line, if any.
func (p *positions) keyAt(line int, key string) string {
	for _, path := range p.keys[line] {
		if path == key || strings.HasSuffix(path, "."+key) {
			return path
		}
	}
	if ks := p.keys[line]; len(ks) > 0 {
		return ks[0]
	}
	return ""
}

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	cannotDecode = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// yamlProblems turns a yaml.v3 error into Problems with lines and paths.
func yamlProblems(file string, err error, pos *positions) []Problem {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		pr := Problem{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			pr.Line, _ = strconv.Atoi(g[1])
			pr.Msg = g[2]
			if f := unknownField.FindStringSubmatch(g[2]); f != nil {
				pr.Path = pos.keyAt(pr.Line, f[1])
				pr.Msg = fmt.Sprintf("unknown key %q", f[1])
			} else if c := cannotDecode.FindStringSubmatch(g[2]); c != nil {
				pr.Path = pos.keyAt(pr.Line, "")
				pr.Msg = fmt.Sprintf("%q is not a %s", c[2], goTypeWord(c[3]))
			}
		}
		out = append(out, pr)
	}
	return out
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "float"), strings.HasPrefix(t, "int"):
		return "number"
	case t == "bool":
		return "boolean (true or false)"
	case t == "string":
		return "string"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "slo."):
		return "mapping"
	}
	return t
}
