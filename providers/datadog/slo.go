package datadog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// historyResponse is GET /api/v1/slo/{id}/history's answer, the parts
// sloguard reads.
type historyResponse struct {
	Data struct {
		Thresholds map[string]struct {
			Target    *float64 `json:"target"`
			Timeframe string   `json:"timeframe"`
		} `json:"thresholds"`
		Overall struct {
			SLIValue             *float64            `json:"sli_value"`
			ErrorBudgetRemaining map[string]*float64 `json:"error_budget_remaining"`
			Errors               []json.RawMessage   `json:"errors"`
		} `json:"overall"`
		Errors []json.RawMessage `json:"errors"`
	} `json:"data"`
	Errors []json.RawMessage `json:"errors"`
}

// sloCounts reads an SLO object's history over the window and returns
// counts that reproduce it: Good out of Total = 1, where 1 - Good is the
// error ratio. For a window that is one of the SLO's timeframes (7d, 30d,
// 90d) the ratio comes from Datadog's error_budget_remaining B and the
// timeframe's target T as (1 - B/100) * (1 - T/100), so that the gate's
// budget remaining equals B whenever the sloguard objective equals T. For
// any other window (the burn-rate windows) it is 1 - sli_value/100, the
// SLI Datadog computed over exactly that range.
func (p *Provider) sloCounts(ctx context.Context, q providers.Query, at time.Time, c providers.Counts) (providers.Counts, error) {
	id := q.SLI.DatadogSLOID
	tf := timeframe(q.Window)
	c.Resolved = []string{fmt.Sprintf("slo %s history over %s", id, tf)}
	if len(q.Scope.Labels) > 0 {
		return c, p.queryErr(c.Resolved[0], providers.BadQuery("a Datadog SLO object cannot be narrowed to the %s: give this SLO error_query and total_query to watch a canary", q.Scope.Name))
	}
	if id == "" || strings.ContainsAny(id, "/?#% ") {
		return c, p.queryErr(c.Resolved[0], providers.BadQuery("datadog_slo_id %q is not an SLO id (the 32 hex digits in the SLO's URL)", id))
	}
	v := url.Values{}
	v.Set("from_ts", fmt.Sprint(c.Start.Unix()))
	v.Set("to_ts", fmt.Sprint(ceilUnix(at)))
	var h historyResponse
	if err := p.get(ctx, c.Resolved[0], p.base+"/api/v1/slo/"+url.PathEscape(id)+"/history?"+v.Encode(), &h); err != nil {
		return c, err
	}
	var msgs []string
	for _, list := range [][]json.RawMessage{h.Errors, h.Data.Errors, h.Data.Overall.Errors} {
		for _, e := range list {
			msgs = append(msgs, errorText(e))
		}
	}
	if len(msgs) > 0 {
		return c, p.queryErr(c.Resolved[0], fmt.Errorf("Datadog could not compute the SLO's history: %s", strings.Join(msgs, "; ")))
	}
	ratio := -1.0
	if b := h.Data.Overall.ErrorBudgetRemaining[tf]; b != nil {
		if t := h.Data.Thresholds[tf].Target; t != nil && *t > 0 && *t < 100 {
			ratio = (1 - *b/100) * (1 - *t/100)
			c.Resolved[0] = fmt.Sprintf("slo %s error_budget_remaining[%s] = %g%% against target %g%%", id, tf, *b, *t)
		}
	}
	if ratio < 0 && h.Data.Overall.SLIValue != nil {
		ratio = 1 - *h.Data.Overall.SLIValue/100
		c.Resolved[0] = fmt.Sprintf("slo %s sli_value over %s = %g%%", id, tf, *h.Data.Overall.SLIValue)
	}
	if ratio < 0 {
		return c, p.queryErr(c.Resolved[0], fmt.Errorf("%w: the SLO's history holds no SLI value for the window (no events yet?)", providers.ErrNoData))
	}
	ratio = min(max(ratio, 0), 1)
	c.Good, c.Total = 1-ratio, 1
	return c, nil
}

// timeframe names a window as Datadog does ("7d", "30d", "90d"); windows
// of whole days only, others as sloguard writes them.
func timeframe(w time.Duration) string {
	if w > 0 && w%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", w/(24*time.Hour))
	}
	return w.String()
}

// errorText reads an error of the history API: a string, or an object
// with error, error_message or message.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Error        string `json:"error"`
		ErrorMessage string `json:"error_message"`
		Message      string `json:"message"`
		ErrorType    string `json:"error_type"`
		Type         string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil {
		for _, m := range []string{o.Error, o.ErrorMessage, o.Message} {
			if m != "" {
				if t := o.ErrorType + o.Type; t != "" {
					return t + ": " + m
				}
				return m
			}
		}
	}
	return string(raw)
}
