package appinsights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
)

// queryResponse is the query API's answer: tables of columns and rows,
// and an error object, which a 200 may carry too (a partial result).
type queryResponse struct {
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"columns"`
		Rows [][]json.RawMessage `json:"rows"`
	} `json:"tables"`
	Error *apiError `json:"error"`
}

// apiError is Azure Monitor's error object.
type apiError struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	Details    []apiError `json:"details"`
	InnerError *apiError  `json:"innererror"`
}

// String writes the error and its inner errors, most specific last.
func (e *apiError) String() string {
	var parts []string
	for x := e; x != nil; x = x.InnerError {
		if x.Message != "" {
			parts = append(parts, strings.TrimSpace(x.Code+": "+x.Message))
		}
		for _, d := range x.Details {
			parts = append(parts, d.String())
		}
	}
	return strings.Join(parts, " / ")
}

// timespan writes (from, to] as an ISO 8601 interval.
func timespan(from, to time.Time) string {
	return from.UTC().Format(time.RFC3339Nano) + "/" + to.UTC().Format(time.RFC3339Nano)
}

// scalar runs a query over (from, to] and reads its one number. null is
// no data; NaN is no data for a threshold (a percentile of nothing), a bad
// query otherwise.
func (p *Provider) scalar(ctx context.Context, rq string, from, to time.Time, nanIsNoData bool) (float64, error) {
	var resp queryResponse
	if err := p.post(ctx, rq, from, to, &resp); err != nil {
		return 0, err
	}
	if resp.Error != nil {
		return 0, p.queryErr(rq, fmt.Errorf("the answer carries an error, so its result may be partial: %s", resp.Error))
	}
	if len(resp.Tables) == 0 {
		return 0, p.queryErr(rq, fmt.Errorf("the answer holds no tables: is url the API root (%s or %s)?", AppInsightsURL, LogAnalyticsURL))
	}
	t := resp.Tables[0]
	switch {
	case len(t.Rows) == 0:
		return 0, p.queryErr(rq, fmt.Errorf("%w: the query returned no rows", providers.ErrNoData))
	case len(t.Rows) > 1 || len(t.Rows[0]) != 1:
		return 0, p.queryErr(rq, providers.BadQuery("returned %d rows of %d columns, want one number: end the query with summarize, e.g. | summarize count()", len(t.Rows), len(t.Rows[0])))
	}
	v, isNull, err := number(t.Rows[0][0])
	if err != nil {
		col := ""
		if len(t.Columns) > 0 {
			col = fmt.Sprintf(" (column %s of type %s)", t.Columns[0].Name, t.Columns[0].Type)
		}
		return 0, p.queryErr(rq, providers.BadQuery("returned %s%s, want a number", t.Rows[0][0], col))
	}
	switch {
	case isNull:
		return 0, p.queryErr(rq, fmt.Errorf("%w: the query returned null (nothing to aggregate?)", providers.ErrNoData))
	case math.IsNaN(v) && nanIsNoData:
		return 0, p.queryErr(rq, fmt.Errorf("%w: returned NaN (no observations in the window, or 0/0?)", providers.ErrNoData))
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, p.queryErr(rq, providers.BadQuery("returned %v: a ratio of 0/0 or a division by zero? query error and total events separately (error_query, total_query) so that no traffic reads as no data", v))
	}
	return v, nil
}

// number reads a KQL scalar: a JSON number (long, int, real), or a string
// (decimal, and real's NaN and Infinity).
func number(raw json.RawMessage) (v float64, isNull bool, err error) {
	s := strings.TrimSpace(string(raw))
	if s == "null" {
		return 0, true, nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, err
		}
	}
	switch s {
	case "NaN":
		return math.NaN(), false, nil
	case "Infinity", "+Infinity":
		return math.Inf(1), false, nil
	case "-Infinity":
		return math.Inf(-1), false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	return v, false, err
}

// post sends one query within the provider's concurrency bound and
// deadline, and classifies every failure.
func (p *Provider) post(ctx context.Context, rq string, from, to time.Time, out *queryResponse) error {
	body, err := json.Marshal(map[string]string{"query": rq, "timespan": timespan(from, to)})
	if err != nil {
		return p.queryErr(rq, err)
	}
	code, data, err := httpconf.Call(ctx, p.client, p.lim, func(qctx context.Context) (*retryablehttp.Request, error) {
		return p.request(ctx, qctx, body)
	})
	if err != nil {
		return p.queryErr(rq, err)
	}
	if code != http.StatusOK {
		return p.queryErr(rq, p.statusErr(code, data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return p.queryErr(rq, fmt.Errorf("the answer is not Azure Monitor query JSON (%v): is url the API root (%s or %s)?", err, AppInsightsURL, LogAnalyticsURL))
	}
	return nil
}

// request builds a query request with its credential: the API key, or a
// Microsoft Entra ID token fetched within the query's deadline.
func (p *Provider) request(ctx, qctx context.Context, body []byte) (*retryablehttp.Request, error) {
	req, err := retryablehttp.NewRequestWithContext(qctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if p.apiKey != "" {
		req.Header.Set("x-api-key", p.apiKey)
		return req, nil
	}
	tok, err := p.tokens.token(qctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, providers.Mark(providers.ErrAuth, fmt.Errorf("authentication failed: no Microsoft Entra ID token from the %s: %w", p.authDesc, err))
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return req, nil
}

// statusErr turns an error status into one a human can act on.
func (p *Provider) statusErr(code int, body []byte) error {
	var env struct {
		Error *apiError `json:"error"`
	}
	msg := redact.Excerpt(body)
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		msg = redact.Excerpt([]byte(env.Error.String()))
	}
	switch code {
	case http.StatusBadRequest:
		return providers.BadQuery("Azure Monitor rejected the query: %s", msg)
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "check that the identity has the Reader (or Monitoring Reader, Log Analytics Reader) role on " + p.what
		if p.apiKey != "" {
			hint = "check that the key has the Read telemetry permission on " + p.what
		}
		return providers.Mark(providers.ErrAuth, fmt.Errorf("authentication failed (%d %s) with the %s: %s", code, http.StatusText(code), p.authDesc, hint))
	case http.StatusNotFound:
		return fmt.Errorf("not found (404): %s: check %s", msg, p.what)
	}
	return providers.Mark(providers.StatusKind(code), fmt.Errorf("server error: %d %s: %s", code, http.StatusText(code), msg))
}
