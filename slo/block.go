package slo

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Block is a part of the config that another package owns: a provider's
// keys besides name and type, or a rollback action's. slo never reads
// it; it hands it to its owner, which decodes it (Decode) and says what is
// wrong with it (Problem), located with the file's lines and reported
// beside every other problem of the file, in the file's own terms
// (OpenSLO and Sloth included).
type Block struct {
	path string     // the block's native path, e.g. providers[2]
	node *yaml.Node // a mapping; nil for an empty block
	ps   *problems

	skip    map[string]bool // keys of the node that are not the block's (name, type)
	owner   string          // what the block is, for keys of other owners: "a prometheus provider"
	foreign map[string]bool // keys that other owners take: "not used by <owner>"
	suggest []string        // keys a misspelt top-level key may have meant
	flag    string          // the command-line flag the block came from, named in its problems
}

// Path is the block's native path, e.g. providers[2].
func (b *Block) Path() string { return b.path }

// File resolves a file name the block holds as sloguard reads it:
// relative to the config file's directory, as Prometheus does.
func (b *Block) File(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(b.ps.file), name)
}

// Has reports whether the block writes key.
func (b *Block) Has(key string) bool {
	return b.value(key) != nil
}

func (b *Block) value(key string) *yaml.Node {
	if b.node == nil || b.skip[key] {
		return nil
	}
	for i := 0; i+1 < len(b.node.Content); i += 2 {
		if b.node.Content[i].Value == key {
			return b.node.Content[i+1]
		}
	}
	return nil
}

// Problem reports a problem at key (a path below the block, such as
// basic_auth.password_env; "" for the block itself).
func (b *Block) Problem(key, format string, args ...any) {
	if b.flag != "" {
		b.ps.add("", "%s: %s", b.flag, fmt.Sprintf(format, args...))
		return
	}
	path := b.path
	if key != "" {
		path += "." + key
	}
	b.ps.add(path, format, args...)
}

// Decode decodes the block into v, a pointer (to a struct whose fields
// carry yaml tags, or to a list), strictly: a key v has no field for is a
// problem (with a "did you mean"), as is a value of the wrong type. v
// keeps what could be decoded, so that its owner can go on and report
// everything at once.
func (b *Block) Decode(v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("slo: Block.Decode wants a pointer, got %T", v))
	}
	if b.node == nil {
		return
	}
	n := b.node
	if n.Kind == yaml.MappingNode {
		n = b.own()
	}
	var list []Problem
	if err := n.Decode(v); err != nil {
		if te, ok := err.(*yaml.TypeError); ok {
			list = yamlProblemsKeys(b.ps.file, nil, te, b.ps.pos, nil)
		} else {
			list = []Problem{{File: b.ps.file, Line: n.Line, Path: b.path, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
		}
	}
	list = append(list, b.unknown(n, rv.Type().Elem(), b.path, 0)...)
	b.ps.addYAML(list)
}

// own is the block's node without the keys that are not its own.
func (b *Block) own() *yaml.Node {
	n := *b.node
	n.Content = nil
	for i := 0; i+1 < len(b.node.Content); i += 2 {
		if !b.skip[b.node.Content[i].Value] {
			n.Content = append(n.Content, b.node.Content[i], b.node.Content[i+1])
		}
	}
	return &n
}

// unknown lists the keys of n that t does not take. depth 0 is the
// block's own level, where keys of other owners are named as such.
func (b *Block) unknown(n *yaml.Node, t reflect.Type, path string, depth int) []Problem {
	if depth > 20 {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) || t == nodeType {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return b.unknown(n, t.Elem(), path, depth)
	case reflect.Slice, reflect.Array:
		var out []Problem
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				out = append(out, b.unknown(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1)...)
			}
		}
		return out
	case reflect.Map:
		var out []Problem
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				out = append(out, b.unknown(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value, depth+1)...)
			}
		}
		return out
	case reflect.Struct:
		return b.unknownFields(n, t, path, depth)
	}
	return nil
}

func (b *Block) unknownFields(n *yaml.Node, t reflect.Type, path string, depth int) []Problem {
	if n.Kind != yaml.MappingNode {
		return nil // a value of the wrong type: Decode reports it
	}
	fields, keys, inlineMap := yamlFields(t)
	var out []Problem
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch ft, ok := fields[k.Value]; {
		case k.Value == "<<":
			out = append(out, b.unknownMerge(v, t, path, depth)...)
		case ok:
			out = append(out, b.unknown(v, ft, path+"."+k.Value, depth+1)...)
		case inlineMap:
		case depth == 0 && b.foreign[k.Value]:
			out = append(out, Problem{File: b.ps.file, Line: k.Line, Path: path + "." + k.Value, Msg: fmt.Sprintf("not used by %s: remove it", b.owner)})
		case depth == 0 && b.suggest != nil:
			out = append(out, Problem{File: b.ps.file, Line: k.Line, Path: path + "." + k.Value, Msg: unknownKeyIn(b.suggest, k.Value)})
		default:
			out = append(out, Problem{File: b.ps.file, Line: k.Line, Path: path + "." + k.Value, Msg: unknownKeyIn(keys, k.Value)})
		}
	}
	return out
}

// unknownMerge checks the mappings a merge key (<<: *anchor) brings in.
func (b *Block) unknownMerge(v *yaml.Node, t reflect.Type, path string, depth int) []Problem {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind == yaml.SequenceNode {
		var out []Problem
		for _, c := range v.Content {
			out = append(out, b.unknownMerge(c, t, path, depth)...)
		}
		return out
	}
	return b.unknownFields(v, t, path, depth+1)
}

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	nodeType        = reflect.TypeFor[yaml.Node]()
)

// yamlFields maps the YAML keys of a struct type to their fields' types,
// inline structs included, in field order, and says whether an inline map
// takes every other key.
func yamlFields(t reflect.Type) (fields map[string]reflect.Type, keys []string, inlineMap bool) {
	fields = map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				inlineMap = true
				continue
			}
			sub, subKeys, subMap := yamlFields(ft)
			for k, v := range sub {
				fields[k] = v
			}
			keys = append(keys, subKeys...)
			inlineMap = inlineMap || subMap
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
		keys = append(keys, name)
	}
	return fields, keys, inlineMap
}

// Keys lists the YAML keys of v's struct type (inline structs included),
// in field order: what a block decoded into v takes.
func Keys(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	_, keys, _ := yamlFields(t)
	return keys
}
