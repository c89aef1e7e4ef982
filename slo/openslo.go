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

func parseOpenSLO(name string, data []byte, opts Options) (*Config, error) {
	ps := &problems{file: name, pos: newPositions(nil, "")}
	var (
		slos    []osloSLORef
		slis    = map[string]osloSLIRef{}
		sources = map[string]rawProvider{}
		srcDocs = map[string]string{}
		order   []string
		sloDocs int
		broken  = map[string]bool{} // names of documents skipped for a problem already reported
	)
	var (
		origins     []osloOrigin // one per native slos[i]
		provOrigins []string     // one per native providers[i]
	)
	ps.rename = func(p, msg string) (string, string, string) {
		src := p
		if i, rest, ok := nativeIndex(p, "slos"); ok && i < len(origins) {
			src, msg = origins[i].source(rest, msg)
		} else if i, rest, ok := nativeIndex(p, "providers"); ok && i < len(provOrigins) {
			src, msg = providerSource(provOrigins[i], rest, msg)
		} else if p == "providers" || p == "slos" {
			return p, "", msg // said of the whole file: no line, no path
		}
		return src, docPrefix.ReplaceAllString(src, ""), msg
	}
	// decode fills v from a node. Values that do not fit are reported and
	// the rest is used, so that one run reports every problem.
	decode := func(n *yaml.Node, v any) error {
		err := n.Decode(v)
		if _, ok := err.(*yaml.TypeError); ok {
			for _, p := range yamlProblems(name, data, err, ps.pos) {
				if p.Path != "" {
					ps.reported = append(ps.reported, p.Path)
				}
				p.Path = docPrefix.ReplaceAllString(p.Path, "")
				ps.list = append(ps.list, p)
			}
			return nil
		}
		if err != nil {
			return &ConfigError{File: name, Problems: yamlProblems(name, data, err, ps.pos)}
		}
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for d := 0; ; d++ {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &ConfigError{File: name, Problems: yamlProblems(name, data, err, ps.pos)}
		}
		if emptyDoc(&node) {
			continue // "---" at the end of a file, or between two
		}
		if k := complexKey(&node); k != nil {
			return nil, &ConfigError{File: name, Problems: []Problem{complexKeyProblem(name, k)}}
		}
		base := fmt.Sprintf("docs[%d]", d)
		ps.pos.merge(newPositions(&node, base))
		var doc osloDoc
		if err := decode(&node, &doc); err != nil {
			return nil, err
		}
		skip := func() { broken[doc.Metadata.Name] = true }
		switch {
		case doc.APIVersion == "":
			ps.add(base+".apiVersion", "required: openslo/v1 (in every document of an OpenSLO file)")
			skip()
			continue
		case doc.APIVersion != "openslo/v1":
			ps.add(base+".apiVersion", "%q is not supported: every document must be openslo/v1", doc.APIVersion)
			skip()
			continue
		case doc.Kind == "":
			ps.add(base+".kind", "required: SLO, SLI or DataSource (the other OpenSLO kinds are ignored)")
			skip()
			continue
		case contains(osloIgnoredKinds, doc.Kind):
			continue
		case !contains([]string{"SLO", "SLI", "DataSource"}, doc.Kind):
			ps.add(base+".kind", "unknown kind %q: OpenSLO v1 has SLO, SLI, DataSource, %s", doc.Kind, strings.Join(osloIgnoredKinds, ", "))
			skip()
			continue
		}
		if doc.Kind == "SLO" {
			sloDocs++
		}
		if doc.Kind == "DataSource" {
			ps.reported = append(ps.reported, "providers") // no "no backend" beside a problem with it
		}
		if doc.Spec.Kind == 0 || doc.Spec.ShortTag() == "!!null" {
			ps.add(base+".spec", "required: the %s's spec", doc.Kind)
			skip()
			continue
		}
		if doc.Kind != "SLO" && doc.Metadata.Name == "" {
			ref := map[string]string{"SLI": "indicatorRef", "DataSource": "metricSourceRef"}[doc.Kind]
			ps.add(base+".metadata.name", "required: SLOs refer to this %s by name with %s", doc.Kind, ref)
			continue
		}
		switch doc.Kind {
		case "SLO":
			var spec osloSLOSpec
			if err := decode(&doc.Spec, &spec); err != nil {
				return nil, err
			}
			slos = append(slos, osloSLORef{base: base, spec: spec, name: doc.Metadata.Name})
		case "SLI":
			var spec osloSLISpec
			if err := decode(&doc.Spec, &spec); err != nil {
				return nil, err
			}
			if prev, dup := slis[doc.Metadata.Name]; dup {
				ps.add(base+".metadata.name", "an SLI named %q is defined already, on line %d", doc.Metadata.Name, ps.pos.line(prev.base))
				continue
			}
			slis[doc.Metadata.Name] = osloSLIRef{base: base, sli: osloSLI{Spec: spec}}
		case "DataSource":
			var spec struct {
				Type              string            `yaml:"type"`
				ConnectionDetails map[string]string `yaml:"connectionDetails"`
			}
			if err := decode(&doc.Spec, &spec); err != nil {
				return nil, err
			}
			if prev, dup := srcDocs[doc.Metadata.Name]; dup {
				ps.add(base+".metadata.name", "a DataSource named %q is defined already, on line %d", doc.Metadata.Name, ps.pos.line(prev))
				continue
			}
			p := rawProvider{Name: doc.Metadata.Name, Type: strings.ToLower(spec.Type)}
			switch p.Type {
			case "prometheus":
				p.URL = firstNonEmpty(spec.ConnectionDetails["url"], spec.ConnectionDetails["address"], opts.PrometheusURL)
			case "datadog":
				p.Site = spec.ConnectionDetails["site"]
			case "":
				ps.add(base+".spec.type", "required: Prometheus or Datadog")
				skip()
				continue
			default:
				ps.add(base+".spec.type", "DataSource type %q is not supported: use Prometheus or Datadog", spec.Type)
				skip()
				continue
			}
			sources[p.Name] = p
			srcDocs[p.Name] = base
			order = append(order, p.Name)
		}
	}

	raw := rawConfig{noProvider: "no metrics backend: add a DataSource document (type Prometheus, connectionDetails.url) or pass --prometheus-url"}
	if sloDocs == 0 {
		ps.add("", "no document of kind SLO: an OpenSLO file needs at least one")
	}
	raw.noSLOsReported = true
	for _, n := range order {
		raw.Providers = append(raw.Providers, sources[n])
		provOrigins = append(provOrigins, srcDocs[n])
	}
	for _, s := range slos {
		for _, o := range readOpenSLO(s, slis, broken, ps) {
			raw.SLOs = append(raw.SLOs, o.raw)
			origins = append(origins, o.origin)
		}
	}
	cfg := build(&raw, ps, opts)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
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

// providerSource maps the tail of a native provider path to its DataSource.
func providerSource(base, rest, msg string) (string, string) {
	switch rest {
	case ".url":
		if strings.HasPrefix(msg, "required") {
			msg = "required: connectionDetails.url of the Prometheus DataSource, e.g. http://127.0.0.1:9090 (or pass --prometheus-url)"
		}
		return base + ".spec.connectionDetails.url", msg
	case ".site":
		return base + ".spec.connectionDetails.site", msg
	case ".name":
		return base + ".metadata.name", msg
	}
	return base + ".spec", msg
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
