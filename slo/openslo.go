package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// OpenSLO v1 (https://github.com/OpenSLO/OpenSLO), read with small structs of
// our own: the SDK is not a dependency. Only the kinds sloguard acts on are
// read (SLO, SLI, DataSource); other kinds (Service, AlertPolicy, ...) are
// accepted and ignored, as are fields sloguard has no use for.

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
	Objectives []struct {
		DisplayName     string   `yaml:"displayName"`
		Name            string   `yaml:"name"`
		Op              string   `yaml:"op"`
		Value           *float64 `yaml:"value"`
		Target          *float64 `yaml:"target"`
		TargetPercent   *float64 `yaml:"targetPercent"`
		TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
		TimeSliceWindow string   `yaml:"timeSliceWindow"`
	} `yaml:"objectives"`
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

type osloSLORef struct {
	doc  int
	spec osloSLOSpec
	name string
}

func parseOpenSLO(name string, data []byte, opts Options) (*Config, error) {
	ps := &problems{file: name, pos: &positions{lines: map[string]int{}, keys: map[int][]string{}}}
	var (
		slos    []osloSLORef
		slis    = map[string]osloSLI{}
		sources = map[string]rawProvider{}
		order   []string
	)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for d := 0; ; d++ {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, ps.pos)}
		}
		base := fmt.Sprintf("docs[%d]", d)
		sub := newPositions(&node, base)
		for k, v := range sub.lines {
			ps.pos.lines[k] = v
		}
		for k, v := range sub.keys {
			ps.pos.keys[k] = append(ps.pos.keys[k], v...)
		}
		var doc osloDoc
		if err := node.Decode(&doc); err != nil {
			return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, ps.pos)}
		}
		if doc.APIVersion != "openslo/v1" {
			ps.add(base+".apiVersion", "%q: every document must be openslo/v1", doc.APIVersion)
			continue
		}
		switch doc.Kind {
		case "SLO":
			var spec osloSLOSpec
			if err := doc.Spec.Decode(&spec); err != nil {
				return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, ps.pos)}
			}
			slos = append(slos, osloSLORef{doc: d, spec: spec, name: doc.Metadata.Name})
		case "SLI":
			var spec osloSLISpec
			if err := doc.Spec.Decode(&spec); err != nil {
				return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, ps.pos)}
			}
			slis[doc.Metadata.Name] = osloSLI{Spec: spec}
		case "DataSource":
			var spec struct {
				Type              string            `yaml:"type"`
				ConnectionDetails map[string]string `yaml:"connectionDetails"`
			}
			if err := doc.Spec.Decode(&spec); err != nil {
				return nil, &ConfigError{File: name, Problems: yamlProblems(name, err, ps.pos)}
			}
			p := rawProvider{Name: doc.Metadata.Name, Type: strings.ToLower(spec.Type)}
			switch p.Type {
			case "prometheus":
				p.URL = firstNonEmpty(spec.ConnectionDetails["url"], spec.ConnectionDetails["address"], opts.PrometheusURL)
			case "datadog":
				p.Site = spec.ConnectionDetails["site"]
			default:
				ps.add(base+".spec.type", "DataSource type %q is not supported: use Prometheus or Datadog", spec.Type)
				continue
			}
			sources[p.Name] = p
			order = append(order, p.Name)
		}
	}
	if len(slos) == 0 {
		ps.add("docs", "no document of kind SLO")
	}

	// Map native paths of the SLOs built below back to their documents.
	var origins []osloOrigin // one per native slos[i]
	ps.rename = func(p string) (string, string) {
		src := p
		var i int
		if n, _ := fmt.Sscanf(p, "slos[%d]", &i); n == 1 && i < len(origins) {
			src = origins[i].source(strings.TrimPrefix(p, fmt.Sprintf("slos[%d]", i)))
		}
		return src, docPrefix.ReplaceAllString(src, "")
	}

	raw := rawConfig{}
	for _, n := range order {
		raw.Providers = append(raw.Providers, sources[n])
	}
	for _, s := range slos {
		base := fmt.Sprintf("docs[%d]", s.doc)
		sli := s.spec.Indicator
		if sli == nil && s.spec.IndicatorRef != "" {
			if ref, ok := slis[s.spec.IndicatorRef]; ok {
				sli = &ref
			} else {
				ps.add(base+".spec.indicatorRef", "no SLI document named %q", s.spec.IndicatorRef)
				continue
			}
		}
		if sli == nil {
			ps.add(base+".spec", "needs indicator or indicatorRef")
			continue
		}
		rs := rawSLO{Name: s.name, Service: s.spec.Service, Description: s.spec.Description, windowParser: ParseOpenSLODuration}
		if len(s.spec.TimeWindow) != 1 {
			ps.add(base+".spec.timeWindow", "needs exactly one time window, e.g. [{duration: 28d, isRolling: true}]")
		} else {
			tw := s.spec.TimeWindow[0]
			if tw.IsRolling != nil && !*tw.IsRolling {
				ps.add(base+".spec.timeWindow[0].isRolling", "calendar-aligned windows are not supported: use isRolling: true")
			}
			rs.Window = tw.Duration
			if rs.Window == "" {
				ps.add(base+".spec.timeWindow[0].duration", "required, e.g. 28d or 1M")
			}
		}
		switch s.spec.BudgetingMethod {
		case "Occurrences":
			rs.Budgeting = Occurrences
		case "Timeslices", "RatioTimeslices":
			rs.Budgeting = Timeslices
		default:
			ps.add(base+".spec.budgetingMethod", "%q: use Occurrences, Timeslices or RatioTimeslices", s.spec.BudgetingMethod)
		}
		var src string
		if rm := sli.Spec.RatioMetric; rm != nil {
			rs.SLI.TotalQuery = rm.Total.query()
			rs.SLI.GoodQuery = rm.Good.query()
			rs.SLI.ErrorQuery = rm.Bad.query()
			switch {
			case rm.Raw != nil && rm.RawType == "failure":
				rs.SLI.ErrorRatioQuery = rm.Raw.query()
			case rm.Raw != nil && rm.RawType == "success":
				rs.SLI.ErrorRatioQuery = "1 - (" + rm.Raw.query() + ")"
			case rm.Raw != nil:
				ps.add(base+".spec.indicator.spec.ratioMetric.rawType", "%q: use success or failure", rm.RawType)
			}
			rs.SLI.counter = rm.Counter && !windowVar.MatchString(rs.SLI.TotalQuery)
			for _, m := range []*osloMetricSource{rm.Total, rm.Good, rm.Bad, rm.Raw} {
				if m != nil && src == "" {
					src = m.MetricSource.MetricSourceRef
				}
			}
		} else if tm := sli.Spec.ThresholdMetric; tm != nil {
			rs.SLI.Query = tm.query()
			src = tm.MetricSource.MetricSourceRef
		} else {
			ps.add(base+".spec.indicator.spec", "needs ratioMetric or thresholdMetric")
		}
		if src != "" {
			rs.Provider = src
		}
		objs := s.spec.Objectives
		if len(objs) == 0 {
			ps.add(base+".spec.objectives", "needs at least one objective with a target")
		}
		for j, o := range objs {
			r := rs
			r.SLI = rs.SLI
			opath := fmt.Sprintf("%s.spec.objectives[%d]", base, j)
			if len(objs) > 1 {
				r.Name = rs.Name + "-" + firstNonEmpty(o.Name, slug(o.DisplayName), fmt.Sprint(j))
			}
			switch {
			case o.TargetPercent != nil:
				r.Objective = o.TargetPercent
			case o.Target != nil:
				v := *o.Target * 100
				r.Objective = &v
			}
			if o.Op != "" || o.Value != nil {
				op, ok := osloOps[o.Op]
				if !ok {
					ps.add(opath+".op", "%q: use lt, lte, gt or gte", o.Op)
				}
				r.SLI.Op, r.SLI.Value = op, o.Value
			}
			if r.Budgeting == Timeslices {
				r.Timeslice = &rawTimeslice{Window: o.TimeSliceWindow}
				if o.TimeSliceTarget != nil && r.SLI.Op == "" {
					v := *o.TimeSliceTarget * 100
					r.Timeslice.Target = &v
				}
			}
			raw.SLOs = append(raw.SLOs, r)
			origins = append(origins, osloOrigin{objective: opath, doc: base})
		}
	}
	cfg := build(&raw, ps, opts)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

var docPrefix = regexp.MustCompile(`^docs\[\d+\]\.?`)

// osloOrigin says where a native SLO came from in an OpenSLO file.
type osloOrigin struct{ objective, doc string }

// source maps the tail of a native SLO path to where OpenSLO keeps it.
func (o osloOrigin) source(rest string) string {
	switch {
	case rest == ".objective":
		return o.objective + ".target"
	case strings.HasPrefix(rest, ".timeslice"):
		return o.objective + ".timeSliceWindow"
	case rest == ".window":
		return o.doc + ".spec.timeWindow[0].duration"
	case strings.HasPrefix(rest, ".sli"):
		return o.doc + ".spec.indicator"
	case rest == ".name":
		return o.doc + ".metadata.name"
	}
	return o.doc + ".spec"
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
