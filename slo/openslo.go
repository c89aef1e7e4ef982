package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// OpenSLO v1 (https://github.com/OpenSLO/OpenSLO), read with small structs of
// our own: the SDK is not a dependency. Only the kinds sloguard acts on are
// read (SLO, SLI, DataSource); the other kinds of the spec (Service,
// AlertPolicy, ...) are accepted and ignored, as are fields sloguard has no
// use for.

type osloDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string `yaml:"name"`
		DisplayName string `yaml:"displayName"`
	} `yaml:"metadata"`
	Spec yaml.Node `yaml:"spec"`
}

type osloSLOSpec struct {
	Description     string   `yaml:"description"`
	Service         string   `yaml:"service"`
	Indicator       *osloSLI `yaml:"indicator"`
	IndicatorRef    string   `yaml:"indicatorRef"`
	BudgetingMethod string   `yaml:"budgetingMethod"`
	TimeWindow      []struct {
		Duration  string `yaml:"duration"`
		IsRolling *bool  `yaml:"isRolling"`
	} `yaml:"timeWindow"`
	Objectives []osloObjective `yaml:"objectives"`
}

type osloObjective struct {
	DisplayName     string   `yaml:"displayName"`
	Name            string   `yaml:"name"`
	Op              string   `yaml:"op"`
	Value           *float64 `yaml:"value"`
	Target          *float64 `yaml:"target"`
	TargetPercent   *float64 `yaml:"targetPercent"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
	TimeSliceWindow string   `yaml:"timeSliceWindow"`
}

type osloSLI struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec osloSLISpec `yaml:"spec"`
}

type osloSLISpec struct {
	RatioMetric *struct {
		Counter bool              `yaml:"counter"`
		Good    *osloMetricSource `yaml:"good"`
		Bad     *osloMetricSource `yaml:"bad"`
		Total   *osloMetricSource `yaml:"total"`
		RawType string            `yaml:"rawType"`
		Raw     *osloMetricSource `yaml:"raw"`
	} `yaml:"ratioMetric"`
	ThresholdMetric *osloMetricSource `yaml:"thresholdMetric"`
}

type osloMetricSource struct {
	MetricSource struct {
		MetricSourceRef string `yaml:"metricSourceRef"`
		Type            string `yaml:"type"`
		Spec            struct {
			Query  string `yaml:"query"`
			PromQL string `yaml:"promql"`
		} `yaml:"spec"`
	} `yaml:"metricSource"`
}

func (m *osloMetricSource) query() string {
	if m == nil {
		return ""
	}
	if q := m.MetricSource.Spec.Query; q != "" {
		return q
	}
	return m.MetricSource.Spec.PromQL
}

var osloOps = map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

// Kinds of the OpenSLO v1 spec that sloguard has no use for.
var osloIgnoredKinds = []string{"Service", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"}

type osloSLORef struct {
	base string // docs[i]
	spec osloSLOSpec
	name string
}

type osloSLIRef struct {
	base string
	sli  osloSLI
}

// osloSource is a DataSource read as a provider, and where it came from.
type osloSource struct {
	raw  rawProvider
	base string // docs[i]
	typ  *ProviderType
}

// osloReader reads the documents of an OpenSLO file one by one, then
// builds the native config they describe.
type osloReader struct {
	name    string
	data    []byte
	opts    Options
	ts      *types
	ps      *problems
	slos    []osloSLORef
	slis    map[string]osloSLIRef
	sources []osloSource
	sloDocs int
	broken  map[string]bool // names of documents skipped for a problem already reported
	origins []osloOrigin    // one per native slos[i]
}

func parseOpenSLO(name string, data []byte, opts Options) (*Config, error) {
	r := &osloReader{name: name, data: data, opts: opts, ts: newTypes(opts.Types),
		ps: &problems{file: name, pos: newPositions(nil, "")}, slis: map[string]osloSLIRef{}, broken: map[string]bool{}}
	r.ps.rename = r.rename
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for d := 0; ; d++ {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &ConfigError{File: name, Problems: yamlProblems(name, data, err, r.ps.pos)}
		}
		if emptyDoc(&node) {
			continue // "---" at the end of a file, or between two
		}
		if k := complexKey(&node); k != nil {
			return nil, &ConfigError{File: name, Problems: []Problem{complexKeyProblem(name, k)}}
		}
		if err := r.read(&node, fmt.Sprintf("docs[%d]", d)); err != nil {
			return nil, err
		}
	}
	return r.build()
}

// rename places a problem of the native config in the OpenSLO document
// it came from.
func (r *osloReader) rename(p, msg string) (string, string, string) {
	src := p
	if i, rest, ok := nativeIndex(p, "slos"); ok && i < len(r.origins) {
		src, msg = r.origins[i].source(rest, msg)
	} else if i, rest, ok := nativeIndex(p, "providers"); ok && i < len(r.sources) {
		src, msg = r.sources[i].source(rest, msg)
	} else if p == "providers" || p == "slos" {
		return p, "", msg // said of the whole file: no line, no path
	}
	return src, docPrefix.ReplaceAllString(src, ""), msg
}

// decode fills v from a node. Values that do not fit are reported and the
// rest is used, so that one run reports every problem.
func (r *osloReader) decode(n *yaml.Node, v any) error {
	err := n.Decode(v)
	if _, ok := err.(*yaml.TypeError); ok {
		for _, p := range yamlProblems(r.name, r.data, err, r.ps.pos) {
			if p.Path != "" {
				r.ps.reported = append(r.ps.reported, p.Path)
			}
			p.Path = docPrefix.ReplaceAllString(p.Path, "")
			r.ps.list = append(r.ps.list, p)
		}
		return nil
	}
	if err != nil {
		return &ConfigError{File: r.name, Problems: yamlProblems(r.name, r.data, err, r.ps.pos)}
	}
	return nil
}

// read reads one document: its header, then its spec by kind.
func (r *osloReader) read(node *yaml.Node, base string) error {
	r.ps.pos.merge(newPositions(node, base))
	var doc osloDoc
	if err := r.decode(node, &doc); err != nil {
		return err
	}
	if !r.header(doc, base) {
		return nil
	}
	switch doc.Kind {
	case "SLO":
		var spec osloSLOSpec
		if err := r.decode(&doc.Spec, &spec); err != nil {
			return err
		}
		r.slos = append(r.slos, osloSLORef{base: base, spec: spec, name: doc.Metadata.Name})
	case "SLI":
		var spec osloSLISpec
		if err := r.decode(&doc.Spec, &spec); err != nil {
			return err
		}
		if prev, dup := r.slis[doc.Metadata.Name]; dup {
			r.ps.add(base+".metadata.name", "an SLI named %q is defined already, on line %d", doc.Metadata.Name, r.ps.pos.line(prev.base))
			return nil
		}
		r.slis[doc.Metadata.Name] = osloSLIRef{base: base, sli: osloSLI{Spec: spec}}
	case "DataSource":
		return r.dataSource(doc, base)
	}
	return nil
}

// header checks what every document needs and says whether its spec is
// to be read: a kind sloguard acts on, with a spec (and a name, for the
// kinds SLOs refer to).
func (r *osloReader) header(doc osloDoc, base string) bool {
	skip := func() bool { r.broken[doc.Metadata.Name] = true; return false }
	switch {
	case doc.APIVersion == "":
		r.ps.add(base+".apiVersion", "required: openslo/v1 (in every document of an OpenSLO file)")
		return skip()
	case doc.APIVersion != "openslo/v1":
		r.ps.add(base+".apiVersion", "%q is not supported: every document must be openslo/v1", doc.APIVersion)
		return skip()
	case doc.Kind == "":
		r.ps.add(base+".kind", "required: SLO, SLI or DataSource (the other OpenSLO kinds are ignored)")
		return skip()
	case contains(osloIgnoredKinds, doc.Kind):
		return false
	case !contains([]string{"SLO", "SLI", "DataSource"}, doc.Kind):
		r.ps.add(base+".kind", "unknown kind %q: OpenSLO v1 has SLO, SLI, DataSource, %s", doc.Kind, strings.Join(osloIgnoredKinds, ", "))
		return skip()
	}
	if doc.Kind == "SLO" {
		r.sloDocs++
	}
	if doc.Kind == "DataSource" {
		r.ps.reported = append(r.ps.reported, "providers") // no "no backend" beside a problem with it
	}
	if doc.Spec.Kind == 0 || doc.Spec.ShortTag() == "!!null" {
		r.ps.add(base+".spec", "required: the %s's spec", doc.Kind)
		return skip()
	}
	if doc.Kind != "SLO" && doc.Metadata.Name == "" {
		ref := map[string]string{"SLI": "indicatorRef", "DataSource": "metricSourceRef"}[doc.Kind]
		r.ps.add(base+".metadata.name", "required: SLOs refer to this %s by name with %s", doc.Kind, ref)
		return false
	}
	return true
}

// dataSource reads a DataSource as a provider of the backend type whose
// OpenSLO type it names, its connectionDetails as the provider's keys.
func (r *osloReader) dataSource(doc osloDoc, base string) error {
	var spec struct {
		Type              string            `yaml:"type"`
		ConnectionDetails map[string]string `yaml:"connectionDetails"`
	}
	if err := r.decode(&doc.Spec, &spec); err != nil {
		return err
	}
	for _, s := range r.sources {
		if s.raw.Name == doc.Metadata.Name {
			r.ps.add(base+".metadata.name", "a DataSource named %q is defined already, on line %d", doc.Metadata.Name, r.ps.pos.line(s.base))
			return nil
		}
	}
	var pt *ProviderType
	var supported []string
	for i := range r.ts.list {
		if o := r.ts.list[i].OpenSLO; o != nil {
			supported = append(supported, o.Type)
			if strings.EqualFold(o.Type, spec.Type) {
				pt = &r.ts.list[i]
			}
		}
	}
	switch {
	case spec.Type == "":
		r.ps.add(base+".spec.type", "required: %s", orList(supported))
		r.broken[doc.Metadata.Name] = true
		return nil
	case pt == nil:
		r.ps.add(base+".spec.type", "DataSource type %q is not supported: use %s", spec.Type, orList(supported))
		r.broken[doc.Metadata.Name] = true
		return nil
	}
	var keys [][2]string
	set := map[string]bool{}
	for _, m := range pt.OpenSLO.Keys {
		if v := spec.ConnectionDetails[m[0]]; v != "" && !set[m[1]] {
			set[m[1]] = true
			keys = append(keys, [2]string{m[1], v})
		}
	}
	if d := r.opts.Default; d != nil && d.Type == pt.Name {
		for _, k := range sortedKeys(d.Keys) {
			if !set[k] {
				keys = append(keys, [2]string{k, d.Keys[k]})
			}
		}
	}
	raw := rawProvider{Name: doc.Metadata.Name, Type: pt.Name, node: mappingNode(keys, doc.Spec.Line)}
	r.sources = append(r.sources, osloSource{raw: raw, base: base, typ: pt})
	return nil
}

// build builds the native config the documents describe.
func (r *osloReader) build() (*Config, error) {
	raw := rawConfig{noProvider: "no metrics backend: add a DataSource document (type Prometheus, connectionDetails.url) or pass --prometheus-url"}
	if r.sloDocs == 0 {
		r.ps.add("", "no document of kind SLO: an OpenSLO file needs at least one")
	}
	raw.noSLOsReported = true
	for _, s := range r.sources {
		raw.Providers = append(raw.Providers, s.raw)
	}
	for _, s := range r.slos {
		for _, o := range readOpenSLO(s, r.slis, r.broken, r.ps) {
			raw.SLOs = append(raw.SLOs, o.raw)
			r.origins = append(r.origins, o.origin)
		}
	}
	cfg := build(&raw, r.ps, r.opts)
	if err := r.ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// orList writes "A, B or C".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

var docPrefix = regexp.MustCompile(`^docs\[\d+\]\.?`)

// nativeIndex splits "slos[3].sli.op" into 3 and ".sli.op".
func nativeIndex(path, list string) (int, string, bool) {
	rest, ok := strings.CutPrefix(path, list+"[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(num)
	return i, rest, err == nil
}

// source maps the tail of a native provider path to its DataSource, and
// rewords a missing key in OpenSLO's terms.
func (s osloSource) source(rest, msg string) (string, string) {
	if rest == ".name" {
		return s.base + ".metadata.name", msg
	}
	key := strings.TrimPrefix(rest, ".")
	for _, m := range s.typ.OpenSLO.Keys {
		if m[1] == key {
			if alt := s.typ.OpenSLO.Required[key]; alt != "" && strings.HasPrefix(msg, "required") {
				msg = alt
			}
			return s.base + ".spec.connectionDetails." + m[0], msg
		}
	}
	return s.base + ".spec", msg
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// percent turns an OpenSLO fraction (0.999) into the percent sloguard
// uses (99.9), without the float noise of a bare multiplication
// (0.57*100 is 56.99999999999999).
func percent(fraction float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(fraction*100, 'g', 12, 64), 64)
	return v
}

func sliNames(slis map[string]osloSLIRef) string {
	if len(slis) == 0 {
		return "none"
	}
	names := make([]string, 0, len(slis))
	for n := range slis {
		names = append(names, strconv.Quote(n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
