package slo

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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
	// Partial is what could be built of a native file despite its
	// problems, so that validate can check the rest (queries, scopes)
	// and report everything in one run; Partial.Flawed says which parts
	// to leave alone. nil when the file could not be read or parsed, and
	// for OpenSLO and Sloth files.
	Partial *Config
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
	// (OpenSLO, Sloth) and may reword the message in that format's terms;
	// shown is the path printed to the user.
	rename func(path, msg string) (source, shown, newMsg string)
	// reported holds source paths that already have a problem (a value
	// YAML could not decode, a check of the format reader): problems at or
	// under them are not reported twice.
	reported []string
	// flawed holds the native paths problems were reported at.
	flawed []string
}

func (ps *problems) add(path, format string, args ...any) {
	ps.addAt(path, format, args...)
}

// addAt adds a problem and returns the source path it was reported at.
func (ps *problems) addAt(path, format string, args ...any) string {
	ps.flawed = append(ps.flawed, path)
	p, source := ps.locate(path, fmt.Sprintf(format, args...))
	for _, r := range ps.reported {
		if under(source, r) {
			return source
		}
	}
	for _, q := range ps.list {
		if q == p {
			return source // one OpenSLO document builds one SLO per objective
		}
	}
	ps.list = append(ps.list, p)
	return source
}

// locate places a problem at a native path in the file, in the file's own
// terms, and returns the source path it sits at.
func (ps *problems) locate(path, msg string) (Problem, string) {
	source, shown := path, path
	if ps.rename != nil {
		source, shown, msg = ps.rename(path, msg)
	}
	return Problem{File: ps.file, Line: ps.pos.line(source), Path: shown, Msg: msg}, source
}

// claim adds a problem and marks its path as reported: a format reader
// says it in that format's terms before the shared checks would.
func (ps *problems) claim(path, format string, args ...any) {
	ps.reported = append(ps.reported, ps.addAt(path, format, args...))
}

// addYAML records problems YAML found while decoding, and marks their
// paths as reported. A misspelt key also marks the key it was meant to be,
// so that "eror_query: did you mean error_query?" is not followed by
// "error_query: required".
func (ps *problems) addYAML(list []Problem) {
	for _, p := range list {
		ps.flawed = append(ps.flawed, p.Path) // a native path only when nothing renames paths: see errPartial
		if p.Path != "" {
			ps.reported = append(ps.reported, p.Path)
			if m := didYouMean.FindStringSubmatch(p.Msg); m != nil {
				parent := p.Path[:strings.LastIndexAny(p.Path, ".")+1]
				ps.reported = append(ps.reported, parent+m[1])
			}
		}
		ps.list = append(ps.list, p)
	}
}

var didYouMean = regexp.MustCompile(`^unknown key .*: did you mean (\S+)\?$`)

// under reports whether path is parent or lies below it.
func under(path, parent string) bool {
	if !strings.HasPrefix(path, parent) {
		return false
	}
	rest := path[len(parent):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool { return ps.list[i].Line < ps.list[j].Line })
	return &ConfigError{File: ps.file, Problems: ps.list}
}

// errPartial is err, carrying cfg as the partial config of a native file
// (whose problems sit at native paths) with the paths that have problems.
func (ps *problems) errPartial(cfg *Config) error {
	err := ps.err()
	if ce, ok := err.(*ConfigError); ok && ps.rename == nil {
		cfg.flawed = ps.flawed
		ce.Partial = cfg
	}
	return err
}

// positions maps paths such as "slos[0].objective" to the line they are on.
type positions struct {
	lines map[string]int
	keys  map[int][]string // line -> paths of keys on that line
	vals  map[int][]pathValue
}

type pathValue struct{ path, value string }

func newPositions(doc *yaml.Node, prefix string) *positions {
	p := &positions{lines: map[string]int{}, keys: map[int][]string{}, vals: map[int][]pathValue{}}
	if doc != nil {
		p.walk(doc, prefix)
	}
	return p
}

// merge adds the positions of another document of the same file.
func (p *positions) merge(o *positions) {
	for k, v := range o.lines {
		p.lines[k] = v
	}
	for k, v := range o.keys {
		p.keys[k] = append(p.keys[k], v...)
	}
	for k, v := range o.vals {
		p.vals[k] = append(p.vals[k], v...)
	}
}

// walk records where every key and value is. Aliases are not followed:
// they may refer to their own ancestors, or expand exponentially.
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
	case yaml.ScalarNode:
		p.vals[n.Line] = append(p.vals[n.Line], pathValue{path, n.Value})
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
	if p == nil {
		return ""
	}
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

// valueAt returns the path of the nth scalar (from 0) on line whose value
// is value, or starts with it when cut (YAML shortens long values in its
// messages, with "..."), if any:
// {good: 1, total: 1} has two values "1" on one line, and yaml.v3 reports
// them in order, without a column.
func (p *positions) valueAt(line int, value string, cut bool, nth int) string {
	if p == nil {
		return ""
	}
	for _, v := range p.vals[line] {
		if v.value == value || cut && strings.HasPrefix(v.value, value) {
			if nth == 0 {
				return v.path
			}
			nth--
		}
	}
	return ""
}
