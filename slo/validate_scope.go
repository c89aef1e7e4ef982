package slo

import (
	"fmt"
	"maps"
	"strings"
)

// buildScopes reads which traffic a watch judges and what it compares it
// with. canary.canary left out judges the whole service (no split);
// canary.baseline is live (labels), the past (offset), or the labelled
// track in the past (both).
func buildScopes(r *rawCanary, c *CanaryPolicy, ps *problems) {
	if r.Canary != nil {
		if r.Canary.Offset != "" {
			ps.add("canary.canary.offset", "only the baseline can be read from the past: move offset to canary.baseline")
		}
		if len(r.Canary.Labels) == 0 {
			ps.add("canary.canary.labels", "required: the labels that select the canary, e.g. {track: canary}; or leave canary.canary out to judge the whole service (no split)")
		}
		checkLabelNames(r.Canary.Labels, "canary.canary.labels", ps)
		c.Canary = Scope{Labels: r.Canary.Labels}
	}
	if r.Baseline == nil {
		return
	}
	b := &Scope{Labels: r.Baseline.Labels}
	if r.Baseline.Offset != "" {
		if d, err := ParseDuration(r.Baseline.Offset); err != nil {
			ps.add("canary.baseline.offset", "%v", err)
		} else {
			b.Offset = d
		}
	}
	checkLabelNames(b.Labels, "canary.baseline.labels", ps)
	switch {
	case len(b.Labels) == 0 && r.Baseline.Offset == "":
		ps.add("canary.baseline", "set labels (a live baseline, e.g. {track: stable}), offset (the same queries that long before the deploy, e.g. 1h), or both")
	case len(b.Labels) > 0 && r.Baseline.Offset == "" && len(c.Canary.Labels) == 0:
		ps.add("canary.baseline.labels", "a live baseline needs canary.canary.labels: without a split the whole service would be compared with a part of itself; set canary.canary.labels, or set canary.baseline.offset to compare with the past")
	case len(b.Labels) > 0 && b.Offset == 0 && maps.Equal(b.Labels, c.Canary.Labels):
		ps.add("canary.baseline.labels", "the same as canary.canary.labels: the baseline would be the canary itself; give the stable track's labels, e.g. {track: stable}")
	case b.Offset > 0 && b.Offset < c.Duration:
		ps.add("canary.baseline.offset", "%s is shorter than the watch (canary.duration %s): the baseline would overlap the period after the deploy; use at least the duration", FormatDuration(b.Offset), FormatDuration(c.Duration))
	}
	c.Baseline = b
}

// checkLabelNames checks what every backend needs of a track's labels.
// The syntax of a name is the backend's to check (Prometheus label,
// Datadog tag, KQL column): validate reports it when it scopes the
// queries.
func checkLabelNames(labels map[string]string, path string, ps *problems) {
	for _, k := range sortedKeys(labels) {
		switch v := labels[k]; {
		case k == "" || strings.TrimSpace(k) != k || strings.ContainsAny(k, " \t\r\n\"'{}=,|"):
			ps.add(path+"."+k, "%q is not a valid label name", k)
		case strings.HasPrefix(k, "__"):
			ps.add(path+"."+k, "%q is reserved (names starting with __ are internal; __name__ is the metric name): select the track by a label of its own, e.g. track", k)
		case v == "":
			ps.add(path+"."+k, "empty value: the matcher %s=\"\" selects every series without a %s label, not this track: give the track's value, e.g. %s: canary", k, k, k)
		}
	}
}

// checkOffsetBackends rejects a baseline in the past on backends that
// cannot read the past, once per provider, naming what to do instead.
func checkOffsetBackends(cfg *Config, ts *types, ps *problems) {
	b := cfg.Canary.Baseline
	if b == nil || b.Offset == 0 {
		return
	}
	seen := map[string]bool{}
	for _, s := range cfg.SLOs {
		p, ok := findProvider(cfg.Providers, s.Provider)
		if !ok || seen[p.Name] || s.SLI.Kind() == KindRatio { // ratio SLIs are for check only
			continue
		}
		seen[p.Name] = true
		pt, ok := ts.byName[p.Type]
		if !ok || pt.NoHistory == "" {
			continue
		}
		ps.add("canary.baseline.offset", "slo %q reads provider %q (%s), which %s: it cannot read the same queries %s earlier; use a live baseline (canary.baseline.labels%s) or a backend with history (%s)",
			s.Name, p.Name, p.Type, pt.NoHistory, FormatDuration(b.Offset), pt.LiveBaseline, ts.historyNames())
	}
}

// Describe says in words what a watch under this policy judges and what it
// compares it with, for the record and validate.
func (c CanaryPolicy) Describe() (canary, baseline string) {
	canary = "the whole service (no split: every query unscoped)"
	if len(c.Canary.Labels) > 0 {
		canary = "the canary: " + labelText(c.Canary.Labels)
	}
	b := c.Baseline
	switch {
	case b == nil:
	case b.Offset == 0:
		baseline = "live: " + labelText(b.Labels)
	case len(b.Labels) > 0:
		baseline = fmt.Sprintf("%s, %s earlier (offset %s)", labelText(b.Labels), FormatDuration(b.Offset), FormatDuration(b.Offset))
	default:
		baseline = fmt.Sprintf("the same queries %s earlier (offset %s)", FormatDuration(b.Offset), FormatDuration(b.Offset))
	}
	return canary, baseline
}

func labelText(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range sortedKeys(labels) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}
