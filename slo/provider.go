package slo

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Provider is one metrics backend of the config. slo knows its name and
// type; every other key of its block belongs to the backend type, which
// decoded it into Settings (the backend package's own type).
type Provider struct {
	Name     string
	Type     string
	Settings any
}

// ProviderType is what loading needs to know of one backend type. Each
// backend package describes itself with one (inside its
// providers.Backend); the app layer hands the list to Load in Options, so
// that slo itself names no backend.
type ProviderType struct {
	Name string
	// Keys are the keys its block takes (besides name and type); a key
	// of another type is reported as not used by this one.
	Keys []string
	// Decode reads and checks the block, reporting every problem on b,
	// and returns the settings the backend is built from, defaults
	// applied.
	Decode func(b *Block) any
	// Queries says what the SLIs it reads must hold.
	Queries QueryRules
	// NoHistory says why it cannot read a baseline from the past ("" when
	// it can), and LiveBaseline where a live baseline goes instead, e.g.
	// ", targets.baseline".
	NoHistory, LiveBaseline string
	// OpenSLO maps an OpenSLO DataSource onto this type; nil when no
	// DataSource becomes one.
	OpenSLO *OpenSLOSource
}

// QueryRules are what an SLI read through a backend type must hold.
type QueryRules struct {
	// Windowed: queries hold {{.window}} as their range (PromQL), unless
	// they select raw counters.
	Windowed bool
	// Recorded: no queries at all, the values are recorded per SLO.
	Recorded bool
	// SLOObject: the SLI may name the vendor's own SLO object
	// (datadog_slo_id) instead of queries.
	SLOObject bool
}

// OpenSLOSource maps an OpenSLO DataSource onto a backend type.
type OpenSLOSource struct {
	Type string // the DataSource's spec.type, e.g. Prometheus
	// Keys maps connectionDetails keys onto the block's keys, the first
	// one written winning: {"url": "url", "address": "url"}.
	Keys [][2]string
	// Required rewords a block key's "required" problem in OpenSLO's
	// terms, by block key.
	Required map[string]string
}

// DefaultProvider is the backend of a file that names none (Sloth files,
// OpenSLO files without a DataSource, native files without providers):
// a provider called "default" whose block holds Keys. A DataSource of its
// type takes from Keys what its connectionDetails leave out.
type DefaultProvider struct {
	Type string
	Keys map[string]string
	Flag string // the flag it came from, which its problems name
}

// types finds the backend types by name.
type types struct {
	list   []ProviderType
	byName map[string]*ProviderType
	keys   map[string]bool // every key any type takes
	order  []string        // those keys, name and type first, for suggestions
}

func newTypes(list []ProviderType) *types {
	t := &types{list: list, byName: map[string]*ProviderType{}, keys: map[string]bool{}, order: []string{"name", "type"}}
	for i := range list {
		t.byName[list[i].Name] = &list[i]
		for _, k := range list[i].Keys {
			if !t.keys[k] {
				t.keys[k] = true
				t.order = append(t.order, k)
			}
		}
	}
	return t
}

func (t *types) names() string {
	n := make([]string, len(t.list))
	for i, p := range t.list {
		n[i] = p.Name
	}
	return strings.Join(n, ", ")
}

// historyNames lists the types that read a baseline from the past.
func (t *types) historyNames() string {
	var n []string
	for _, p := range t.list {
		if p.NoHistory == "" {
			n = append(n, p.Name)
		}
	}
	return strings.Join(n, ", ")
}

// block prepares a provider's block for its type's Decode.
func (t *types) block(pt *ProviderType, node *yaml.Node, path string, ps *problems) *Block {
	own := map[string]bool{}
	for _, k := range pt.Keys {
		own[k] = true
	}
	foreign := map[string]bool{}
	for k := range t.keys {
		if !own[k] {
			foreign[k] = true
		}
	}
	return &Block{path: path, node: node, ps: ps, skip: map[string]bool{"name": true, "type": true},
		owner: fmt.Sprintf("a %s provider", pt.Name), foreign: foreign, suggest: t.order}
}

// mappingNode builds a block's node from keys, placed at line (where they
// came from: an OpenSLO DataSource, or the command line).
func mappingNode(keys [][2]string, line int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	for _, kv := range keys {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[0], Line: line},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[1], Line: line})
	}
	return n
}
