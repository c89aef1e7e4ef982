package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

const day = 24 * time.Hour

// ParseDuration parses a Prometheus duration: ms, s, m, h, d, w, y, as in
// 30d or 1h30m.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m")
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		if err.Error() == "duration out of range" {
			return 0, fmt.Errorf("%q is too long: durations go up to about 292 years", s)
		}
		return 0, fmt.Errorf("%q is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be longer than zero", s)
	}
	return time.Duration(d), nil
}

var openSLODuration = regexp.MustCompile(`^(\d+)([MQY])$`)

// ParseOpenSLODuration parses an OpenSLO duration, where M is 30 days,
// Q 90 days and Y 365 days (so 1M is a month, not a minute), and the
// Prometheus units hold otherwise.
func ParseOpenSLODuration(s string) (time.Duration, error) {
	if g := openSLODuration.FindStringSubmatch(s); g != nil {
		unit := map[string]time.Duration{"M": 30 * day, "Q": 90 * day, "Y": 365 * day}[g[2]]
		n, err := strconv.ParseInt(g[1], 10, 64)
		switch {
		case err != nil || n > math.MaxInt64/int64(unit):
			return 0, fmt.Errorf("%q is too long: durations go up to about 292 years", s)
		case n == 0:
			return 0, fmt.Errorf("%q must be longer than zero", s)
		}
		return time.Duration(n) * unit, nil
	}
	if s == "" {
		return 0, fmt.Errorf("empty duration: use a number and a unit (m, h, d, w, M=30d, Q=90d, Y=365d), e.g. 28d or 1M")
	}
	d, err := ParseDuration(s)
	if err != nil {
		if _, perr := model.ParseDuration(s); perr != nil && perr.Error() != "duration out of range" {
			return 0, fmt.Errorf("%q is not an OpenSLO duration: use a number and a unit (m, h, d, w, M=30d, Q=90d, Y=365d), e.g. 28d or 1M", s)
		}
		return 0, err
	}
	return d, nil
}

// FormatDuration writes d the way Prometheus does (30d, 1h30m, 5m), which
// is also what {{.window}} is replaced with.
func FormatDuration(d time.Duration) string {
	return model.Duration(d).String()
}

// Duration is a duration written in a block another package owns, in
// Prometheus units: a value that is not one is reported with its line,
// like any other value of the wrong type.
type Duration time.Duration

// UnmarshalYAML reads a Prometheus duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into slo.Duration", n.Line, nodeWord(n))}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}
