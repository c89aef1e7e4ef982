package slo

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// The native format's YAML shape. Every struct is decoded strictly: a key
// that is not listed here is an error with its line.

type rawConfig struct {
	Version   any           `yaml:"version"`
	Providers []rawProvider `yaml:"providers"`
	SLOs      []rawSLO      `yaml:"slos"`
	Gate      *rawGate      `yaml:"gate"`
	Canary    *rawCanary    `yaml:"canary"`
	Rollback  *rawRollback  `yaml:"rollback"`
	Serve     yaml.Node     `yaml:"serve"` // owned by package serve: kept undecoded (section.go)

	noProvider     string // what to say when no provider is configured; set by the OpenSLO and Sloth readers
	noSLOsReported bool   // the reader explained already why there are no SLOs
}

// rawProvider is a provider's name and type; the rest of its block
// belongs to its type, which decodes it (Block).
type rawProvider struct {
	Name string
	Type string
	node *yaml.Node // the whole mapping, name and type included
	flag string     // the command-line flag it came from (the default provider)
}

// UnmarshalYAML keeps the provider's node for its type, and reads name
// and type; a value of the wrong type is reported like any other.
func (p *rawProvider) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
	}
	err := n.Decode(&head)
	p.Name, p.Type = head.Name, head.Type
	if n.Kind == yaml.MappingNode {
		p.node = n
	} else if err == nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into slo.rawProvider", n.Line, nodeWord(n))}}
	}
	return err
}

type rawSLO struct {
	Name        string        `yaml:"name"`
	Service     string        `yaml:"service"`
	Description string        `yaml:"description"`
	Provider    string        `yaml:"provider"`
	Objective   *float64      `yaml:"objective"`
	Window      string        `yaml:"window"`
	Budgeting   string        `yaml:"budgeting"`
	Timeslice   *rawTimeslice `yaml:"timeslice"`
	SLI         rawSLI        `yaml:"sli"`

	windowParser func(string) (time.Duration, error) // OpenSLO durations differ; nil means Prometheus units
}

type rawTimeslice struct {
	Window string   `yaml:"window"`
	Target *float64 `yaml:"target"`
}

func (t *rawTimeslice) window() string {
	if t == nil {
		return ""
	}
	return t.Window
}

type rawSLI struct {
	ErrorQuery      string   `yaml:"error_query"`
	GoodQuery       string   `yaml:"good_query"`
	TotalQuery      string   `yaml:"total_query"`
	ErrorRatioQuery string   `yaml:"error_ratio_query"`
	Query           string   `yaml:"query"`
	Op              string   `yaml:"op"`
	Value           *float64 `yaml:"value"`
	Consecutive     *int     `yaml:"consecutive"`
	DatadogSLOID    string   `yaml:"datadog_slo_id"`

	counter bool // set by the OpenSLO reader only
}

type rawBurnAlert struct {
	Long   string   `yaml:"long"`
	Short  string   `yaml:"short"`
	Factor *float64 `yaml:"factor"`
}

type rawGate struct {
	MinBudgetRemaining *float64       `yaml:"min_budget_remaining"`
	BurnRateAlerts     []rawBurnAlert `yaml:"burn_rate_alerts"`
	OnNoData           string         `yaml:"on_no_data"`
	OnError            string         `yaml:"on_error"`
}

type rawScope struct {
	Labels map[string]string `yaml:"labels"`
	Offset string            `yaml:"offset"`
}

type rawCanary struct {
	Duration              string    `yaml:"duration"`
	Interval              string    `yaml:"interval"`
	Canary                *rawScope `yaml:"canary"`
	Baseline              *rawScope `yaml:"baseline"`
	MaxFalseRollback      *float64  `yaml:"max_false_rollback"`
	Power                 *float64  `yaml:"power"`
	BreachBurnRate        *float64  `yaml:"breach_burn_rate"`
	HealthyBurnRate       *float64  `yaml:"healthy_burn_rate"`
	BreachRelative        *float64  `yaml:"breach_relative"`
	RelativeTolerance     *float64  `yaml:"relative_tolerance"`
	Consecutive           *int      `yaml:"consecutive"`
	OnNoData              string    `yaml:"on_no_data"`
	OnError               string    `yaml:"on_error"`
	ConsecutiveErrorLimit *int      `yaml:"consecutive_error_limit"`
	OnBaselineBreach      string    `yaml:"on_baseline_breach"`
}

// rawRollback is the rollback block: timeout and retries, and one key per
// action, whose block belongs to its kind.
type rawRollback struct {
	Timeout string
	Retries *int
	node    *yaml.Node
}

// UnmarshalYAML reads timeout and retries and keeps the node for the
// actions' kinds.
func (r *rawRollback) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Timeout string `yaml:"timeout"`
		Retries *int   `yaml:"retries"`
	}
	err := n.Decode(&head)
	r.Timeout, r.Retries, r.node = head.Timeout, head.Retries, n
	return err
}

func parseNative(name string, data []byte, opts Options) (*Config, error) {
	var raw rawConfig
	doc, typeProblems, err := decodeStrict(name, data, &raw)
	if err != nil {
		return nil, err
	}
	ps := &problems{file: name, pos: newPositions(doc, "")}
	ps.addYAML(typeProblems)
	switch v := raw.Version.(type) {
	case nil:
	case int:
		if v != 1 {
			ps.add("version", "%d is not supported: use version: 1", v)
		}
	case string:
		if v != "1" {
			ps.add("version", "%q is not supported: use version: 1", v)
		}
	default:
		ps.add("version", "must be 1, the version of sloguard's format")
	}
	cfg := build(&raw, ps, opts)
	if raw.Serve.Kind != 0 {
		cfg.Serve = &Section{File: name, Key: "serve", data: data, pos: ps.pos}
	}
	if err := ps.errPartial(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// nodeWord writes a node as yaml.v3 does in "cannot unmarshal" errors.
func nodeWord(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.ShortTag() + " `" + n.Value + "`"
	}
	return n.ShortTag()
}
