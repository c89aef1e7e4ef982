package slo

import (
	"bytes"
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Section is a top-level block of a native config file that another
// package owns and validates (serve:). slo only accepts the key and keeps
// what that package needs to decode the block strictly and to report its
// problems with file:line, like the rest of the config.
type Section struct {
	File string // the config file
	Key  string // the block's top-level key

	data []byte
	pos  *positions
}

// Decode decodes the block strictly into v (a pointer to a struct):
// unknown keys (with a "did you mean"), duplicate keys and values of the
// wrong type come back as problems with their lines, and v keeps what
// could be decoded, so that validation can go on and report everything.
func (s *Section) Decode(v any) []Problem {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return []Problem{{File: s.File, Msg: fmt.Sprintf("decode %s: want a pointer to a struct, got %T", s.Key, v)}}
	}
	// The whole file is decoded again into {<key>: v, everything else}, so
	// that yaml.v3 reports lines of the file and refuses unknown keys
	// inside the block while the other blocks stay the native reader's.
	wrapper := reflect.StructOf([]reflect.StructField{
		{Name: "Section", Type: rv.Type(), Tag: reflect.StructTag(fmt.Sprintf("yaml:%q", s.Key))},
		{Name: "Rest", Type: reflect.TypeFor[map[string]yaml.Node](), Tag: `yaml:",inline"`},
	})
	w := reflect.New(wrapper)
	w.Elem().Field(0).Set(rv)
	dec := yaml.NewDecoder(bytes.NewReader(s.data))
	dec.KnownFields(true)
	err := dec.Decode(w.Interface())
	if err == nil {
		return nil
	}
	known := map[string][]string{}
	typeKeys(rv.Type(), known)
	return yamlProblemsKeys(s.File, s.data, err, s.pos, known)
}

// Problem locates a problem at path inside the block, e.g.
// "environments[0].slos", with the line it is on.
func (s *Section) Problem(path, format string, args ...any) Problem {
	full := s.Key
	if path != "" {
		full += "." + path
	}
	return Problem{File: s.File, Line: s.pos.line(full), Path: full, Msg: fmt.Sprintf(format, args...)}
}

// typeKeys records the YAML keys of every struct reachable from t, by the
// type name yaml.v3 puts in its "field not found" errors.
func typeKeys(t reflect.Type, out map[string][]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	if _, seen := out[t.String()]; seen {
		return
	}
	out[t.String()] = structKeys(t)
	for i := 0; i < t.NumField(); i++ {
		typeKeys(t.Field(i).Type, out)
	}
}
