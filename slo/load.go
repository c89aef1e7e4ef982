package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options adjust loading.
type Options struct {
	// PrometheusURL supplies the backend for files that name none (Sloth
	// files, OpenSLO files without a DataSource url, native files without
	// providers). It becomes a prometheus provider called "default".
	PrometheusURL string
}

// Load reads and validates a config file in any supported format.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &ConfigError{File: path, Problems: []Problem{{File: path, Msg: "no such file: create it (see README, Config) or pass -c PATH"}}}
		}
		return nil, &ConfigError{File: path, Problems: []Problem{{File: path, Msg: err.Error()}}}
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
	if err != nil {
		return nil, err
	}
	cfg.Source = name
	cfg.Format = format
	return cfg, nil
}

// detect tells the formats apart by their header keys.
func detect(name string, data []byte) (string, error) {
	var head struct {
		Version    any    `yaml:"version"`
		APIVersion string `yaml:"apiVersion"`
		SLOs       any    `yaml:"slos"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&head); err != nil {
		if errors.Is(err, io.EOF) {
			return "", &ConfigError{File: name, Problems: []Problem{{File: name, Msg: "the file is empty: it needs version: 1 and a list of slos"}}}
		}
		return "", &ConfigError{File: name, Problems: yamlProblems(name, err, nil)}
	}
	v := fmt.Sprint(head.Version)
	switch {
	case strings.HasPrefix(head.APIVersion, "openslo/"):
		if head.APIVersion != "openslo/v1" {
			return "", &ConfigError{File: name, Problems: []Problem{{File: name, Line: 1, Path: "apiVersion", Msg: fmt.Sprintf("%q is not supported: sloguard reads openslo/v1", head.APIVersion)}}}
		}
		return FormatOpenSLO, nil
	case strings.HasPrefix(v, "prometheus/"):
		if v != "prometheus/v1" {
			return "", &ConfigError{File: name, Problems: []Problem{{File: name, Line: 1, Path: "version", Msg: fmt.Sprintf("%q is not supported: sloguard reads Sloth's prometheus/v1", v)}}}
		}
		return FormatSloth, nil
	case head.Version != nil || head.SLOs != nil:
		return FormatNative, nil
	}
	return "", &ConfigError{File: name, Problems: []Problem{{File: name, Msg: "unknown format: expected a sloguard file (version: 1), an OpenSLO file (apiVersion: openslo/v1) or a Sloth file (version: prometheus/v1)"}}}
}

// decodeStrict decodes one YAML document into v, rejecting unknown keys,
// and returns the document's node for positions.
func decodeStrict(name string, data []byte, v any) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, nil)}
	}
	pos := newPositions(&doc, "")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, pos)}
	}
	return &doc, nil
}
