package slo

import (
	"fmt"
	"regexp"
)

// Sloth's prometheus/v1 spec (https://sloth.dev/specs/prometheus/), read
// strictly like the native format. Sloth has no window of its own: its
// default period, 30 days, applies.

type slothFile struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	SLOs    []slothSLO        `yaml:"slos"`
}

type slothSLO struct {
	Name        string            `yaml:"name"`
	Objective   *float64          `yaml:"objective"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	SLI         slothSLI          `yaml:"sli"`
	Alerting    map[string]any    `yaml:"alerting"` // Sloth's alert generation: not sloguard's job, accepted and ignored
}

type slothSLI struct {
	Events *slothEvents    `yaml:"events"`
	Raw    *slothRaw       `yaml:"raw"`
	Plugin *map[string]any `yaml:"plugin"`
}

type slothEvents struct {
	ErrorQuery string `yaml:"error_query"`
	TotalQuery string `yaml:"total_query"`
}

type slothRaw struct {
	ErrorRatioQuery string `yaml:"error_ratio_query"`
}

var slothSLIPath = regexp.MustCompile(`^(slos\[\d+\]\.sli)\.(error_query|total_query|error_ratio_query)$`)

func parseSloth(name string, data []byte, opts Options) (*Config, error) {
	var f slothFile
	doc, typeProblems, err := decodeStrict(name, data, &f)
	if err != nil {
		return nil, err
	}
	ps := &problems{file: name, pos: newPositions(doc, "")}
	ps.addYAML(typeProblems)
	ps.rename = func(p, msg string) (string, string, string) {
		if g := slothSLIPath.FindStringSubmatch(p); g != nil {
			sub := "events"
			if g[2] == "error_ratio_query" {
				sub = "raw"
			}
			p = g[1] + "." + sub + "." + g[2]
		}
		return p, p, msg
	}
	if f.Service == "" {
		ps.add("service", "required: the service the SLOs belong to (sloguard names each SLO <service>-<name>)")
	}
	raw := rawConfig{noProvider: "a Sloth file names no metrics backend: pass --prometheus-url (or set SLOGUARD_PROMETHEUS_URL)"}
	for i, s := range f.SLOs {
		path := fmt.Sprintf("slos[%d]", i)
		rs := rawSLO{Name: s.Name, Service: f.Service, Description: s.Description, Objective: s.Objective, Window: "30d"}
		switch sli := path + ".sli"; {
		case s.SLI.Plugin != nil:
			ps.claim(sli+".plugin", "Sloth SLI plugins are not supported: write the SLI as events (error_query, total_query) or raw (error_ratio_query)")
			ps.reported = append(ps.reported, sli)
		case s.SLI.Events != nil && s.SLI.Raw != nil:
			ps.claim(sli, "use events or raw, not both")
		case s.SLI.Events == nil && s.SLI.Raw == nil:
			ps.claim(sli, "required: events (error_query and total_query) or raw (error_ratio_query)")
		case s.SLI.Events != nil && *s.SLI.Events == (slothEvents{}):
			ps.claim(sli, "events needs error_query and total_query")
		case s.SLI.Events != nil && s.SLI.Events.ErrorQuery == "":
			ps.claim(sli+".events.error_query", "required: the query of bad events, e.g. sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))")
		case s.SLI.Raw != nil && s.SLI.Raw.ErrorRatioQuery == "":
			ps.claim(sli+".raw.error_ratio_query", "required: the error ratio (0 to 1) over [{{.window}}]")
			ps.reported = append(ps.reported, sli)
		}
		if s.SLI.Events != nil {
			rs.SLI.ErrorQuery, rs.SLI.TotalQuery = s.SLI.Events.ErrorQuery, s.SLI.Events.TotalQuery
		}
		if s.SLI.Raw != nil {
			rs.SLI.ErrorRatioQuery = s.SLI.Raw.ErrorRatioQuery
		}
		if rs.Name != "" && f.Service != "" {
			rs.Name = f.Service + "-" + rs.Name // Sloth's own ID: names are unique per service only
		}
		raw.SLOs = append(raw.SLOs, rs)
	}
	cfg := build(&raw, ps, opts)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}
