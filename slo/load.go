package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/internal/safefile"
)

// Options adjust loading.
type Options struct {
	// Types are the backend types a provider may have, each decoding its
	// own block (the app layer passes every registered backend's).
	Types []ProviderType
	// Actions are the kinds of rollback action, each decoding its own
	// block under rollback:, in the order they run.
	Actions []ActionType
	// Default supplies the backend for files that name none (Sloth
	// files, OpenSLO files without a DataSource url, native files without
	// providers): the command line's --prometheus-url.
	Default *DefaultProvider
}

// MaxConfigSize bounds a config file: real ones are a few KiB, and a path
// such as /dev/zero must fail with a message, not exhaust memory.
const MaxConfigSize = 10 << 20

// Load reads and validates a config file in any supported format. Only a
// regular file is read: a FIFO would block forever and a device never end.
func Load(path string, opts Options) (*Config, error) {
	data, err := safefile.Read(path, MaxConfigSize)
	if err != nil {
		msg := "cannot read the file: " + err.Error()
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			msg = "no such file: create it (see README, Config) or pass -c PATH"
		case errors.Is(err, safefile.ErrNotRegular):
			msg = "cannot read the file: " + err.Error() + ": pass the path of a config file"
		case errors.Is(err, safefile.ErrTooLarge):
			msg = "cannot read the file: " + err.Error() + ": a config is a few KiB; is this the right path?"
		case errors.As(err, &pe):
			msg = "cannot read the file: " + pe.Err.Error()
		}
		return nil, &ConfigError{File: path, Problems: []Problem{{File: path, Msg: msg}}}
	}
	return Parse(path, data, opts)
}

// Parse validates config data; name is used in error messages.
func Parse(name string, data []byte, opts Options) (*Config, error) {
	format, err := detect(name, data)
	if err != nil {
		return nil, err
	}
	var cfg *Config
	switch format {
	case FormatOpenSLO:
		cfg, err = parseOpenSLO(name, data, opts)
	case FormatSloth:
		cfg, err = parseSloth(name, data, opts)
	default:
		cfg, err = parseNative(name, data, opts)
	}
	if ce, ok := err.(*ConfigError); ok && ce.Partial != nil {
		ce.Partial.Source, ce.Partial.Format = name, format
	}
	if err != nil {
		return nil, err
	}
	cfg.Source = name
	cfg.Format = format
	return cfg, nil
}

const unknownFormat = "unknown format: expected a sloguard file (version: 1), an OpenSLO file (apiVersion: openslo/v1) or a Sloth file (version: prometheus/v1)"

// detect tells the formats apart by their header keys.
func detect(name string, data []byte) (string, error) {
	fail := func(line int, path, format string, args ...any) (string, error) {
		return "", &ConfigError{File: name, Problems: []Problem{{File: name, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}}}
	}
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && emptyDoc(&doc)) {
		return fail(0, "", "the file is empty: it needs version: 1 and a list of slos")
	}
	if err != nil {
		return "", &ConfigError{File: name, Problems: yamlProblems(name, data, err, nil)}
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		what := "a single value"
		if top.Kind == yaml.SequenceNode {
			what = "a list"
		}
		return fail(top.Line, "", "%s; the top level of this file is %s, not a mapping of keys", unknownFormat, what)
	}
	if k := complexKey(top); k != nil {
		return "", &ConfigError{File: name, Problems: []Problem{complexKeyProblem(name, k)}}
	}
	var head struct {
		Version    any `yaml:"version"`
		APIVersion any `yaml:"apiVersion"`
		SLOs       any `yaml:"slos"`
	}
	pos := newPositions(&doc, "")
	if err := doc.Decode(&head); err != nil {
		return "", &ConfigError{File: name, Problems: yamlProblems(name, data, err, pos)}
	}
	api, _ := head.APIVersion.(string)
	v := fmt.Sprint(head.Version)
	switch {
	case head.APIVersion != nil && strings.HasPrefix(api, "openslo/"):
		if api != "openslo/v1" {
			return fail(pos.line("apiVersion"), "apiVersion", "%q is not supported: sloguard reads openslo/v1", api)
		}
		return FormatOpenSLO, nil
	case head.APIVersion != nil:
		return fail(pos.line("apiVersion"), "apiVersion", "%s, got apiVersion %q", unknownFormat, fmt.Sprint(head.APIVersion))
	case strings.HasPrefix(v, "prometheus/"):
		if v != "prometheus/v1" {
			return fail(pos.line("version"), "version", "%q is not supported: sloguard reads Sloth's prometheus/v1", v)
		}
		return FormatSloth, nil
	case head.Version != nil || head.SLOs != nil:
		return FormatNative, nil
	}
	return fail(0, "", unknownFormat)
}

// emptyDoc reports whether a decoded document holds nothing (only "---",
// "~" or comments).
func emptyDoc(doc *yaml.Node) bool {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return true
	}
	c := doc.Content[0]
	return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null"
}

// complexKey finds a mapping key that is itself a mapping or a list, as in
// total_query: {{.window}} left unquoted, which YAML reads as a mapping
// whose key is a mapping. Aliases are not followed.
func complexKey(n *yaml.Node) *yaml.Node {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if k := complexKey(c); k != nil {
				return k
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind != yaml.ScalarNode && k.Kind != yaml.AliasNode {
				return k
			}
			if k := complexKey(n.Content[i+1]); k != nil {
				return k
			}
		}
	}
	return nil
}

func complexKeyProblem(file string, k *yaml.Node) Problem {
	return Problem{File: file, Line: k.Line, Msg: "invalid YAML: a value that starts with { or [ is read as a mapping or a list; put it in quotes, e.g. '{{.window}}'"}
}

// decodeStrict decodes the only YAML document of data into v, rejecting
// unknown keys, and returns the document's node for positions. Values that
// do not fit v (unknown keys, a string where a number goes) are returned as
// problems beside a partly filled v, so that validation can go on and
// report everything at once; broken YAML is an error.
func decodeStrict(name string, data []byte, v any) (*yaml.Node, []Problem, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, &ConfigError{File: name, Problems: yamlProblems(name, data, err, nil)}
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, nil, &ConfigError{File: name, Problems: yamlProblems(name, data, err, nil)}
	case !emptyDoc(&more):
		return nil, nil, &ConfigError{File: name, Problems: []Problem{{File: name, Line: more.Line,
			Msg: "a second YAML document (after ---): this format holds one document; remove the --- line or split the file"}}}
	}
	pos := newPositions(&doc, "")
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	err := strict.Decode(v)
	if err == nil {
		return &doc, nil, nil
	}
	if _, ok := err.(*yaml.TypeError); ok {
		return &doc, yamlProblems(name, data, err, pos), nil
	}
	return nil, nil, &ConfigError{File: name, Problems: yamlProblems(name, data, err, pos)}
}
