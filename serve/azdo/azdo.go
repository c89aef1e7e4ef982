// Package azdo is sloguard's side of an Azure DevOps "Invoke REST API"
// check: it reads the pipeline run from the headers Azure sends, refuses
// organisations the config does not allow, and calls back: a log of the
// reasons on the check (create log, append, attach to the timeline
// record) and the TaskCompleted event with the job's token.
package azdo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// APIVersion is the version of the distributed task REST API sloguard uses.
const APIVersion = "7.1"

// Check is the pipeline run a check request is about, from the headers
// Azure DevOps sends by default (PlanUrl = $(system.CollectionUri), …).
type Check struct {
	PlanURL        string // the organisation: https://dev.azure.com/acme/
	ProjectID      string
	HubName        string
	PlanID         string
	JobID          string
	TimelineID     string // optional: without it there is no log, only the decision
	TaskInstanceID string
	AuthToken      string // the job's token; needed to call back
}

// an id goes into a URL path: GUIDs and hub names only, nothing that
// could climb out of the path.
var id = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// FromHeaders reads a Check. needToken is true for the asynchronous mode,
// which calls back.
func FromHeaders(h http.Header, needToken bool) (Check, error) {
	c := Check{
		PlanURL: h.Get("PlanUrl"), ProjectID: h.Get("ProjectId"), HubName: h.Get("HubName"), PlanID: h.Get("PlanId"),
		JobID: h.Get("JobId"), TimelineID: h.Get("TimelineId"), TaskInstanceID: h.Get("TaskInstanceId"), AuthToken: h.Get("AuthToken"),
	}
	var missing, bad []string
	for _, f := range []struct {
		name, v  string
		optional bool
	}{
		{"ProjectId", c.ProjectID, false}, {"HubName", c.HubName, false}, {"PlanId", c.PlanID, false},
		{"JobId", c.JobID, false}, {"TaskInstanceId", c.TaskInstanceID, false}, {"TimelineId", c.TimelineID, true},
	} {
		switch {
		case f.v == "" && !f.optional:
			missing = append(missing, f.name)
		case f.v != "" && !id.MatchString(f.v):
			bad = append(bad, f.name)
		}
	}
	if c.PlanURL == "" {
		missing = append([]string{"PlanUrl"}, missing...)
	}
	if needToken && c.AuthToken == "" {
		missing = append(missing, "AuthToken")
	}
	switch {
	case len(missing) > 0:
		return c, fmt.Errorf("headers %s missing: keep the check's default headers (PlanUrl: $(system.CollectionUri), ProjectId: $(system.TeamProjectId), HubName: $(system.HostType), PlanId: $(system.PlanId), JobId: $(system.JobId), TimelineId: $(system.TimelineId), TaskInstanceId: $(system.TaskInstanceId), AuthToken: $(system.AccessToken))", strings.Join(missing, ", "))
	case len(bad) > 0:
		return c, fmt.Errorf("headers %s are not ids", strings.Join(bad, ", "))
	}
	return c, nil
}

// Org is the organisation URL of the check, normalised as NormalizeOrg does.
func (c Check) Org() (string, error) {
	org, err := NormalizeOrg(c.PlanURL)
	if err != nil {
		return "", fmt.Errorf("PlanUrl %q: %w", c.PlanURL, err)
	}
	return org, nil
}

// NormalizeOrg writes an organisation URL the one way PlanUrl headers and
// the config's allowed_orgs are compared in: lower case (organisation and
// collection names are case-insensitive in Azure DevOps), no trailing
// slash.
func NormalizeOrg(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("not an organisation URL such as https://dev.azure.com/acme")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("an organisation URL has no credentials, query or fragment")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/")), nil
}

// Allowed reports whether the check's organisation is one of orgs
// (normalised). Nothing is ever sent to an organisation that is not.
func (c Check) Allowed(orgs []string) bool {
	org, err := c.Org()
	if err != nil {
		return false
	}
	for _, o := range orgs {
		if o == org {
			return true
		}
	}
	return false
}

// Client calls back into Azure DevOps.
type Client struct {
	http *http.Client
	orgs []string
}

// NewClient returns a client that only ever calls the allowed orgs.
func NewClient(hc *http.Client, allowedOrgs []string) *Client {
	return &Client{http: hc, orgs: allowedOrgs}
}

// plan is the base of the plan's REST API.
func (cl *Client) plan(c Check, rest string) (string, error) {
	if !c.Allowed(cl.orgs) {
		return "", fmt.Errorf("organisation %q is not in serve.azure.allowed_orgs: refused", c.PlanURL)
	}
	org, _ := c.Org()
	return fmt.Sprintf("%s/%s/_apis/distributedtask/hubs/%s/plans/%s/%s", org, c.ProjectID, c.HubName, c.PlanID, rest), nil
}

// Complete posts the TaskCompleted event that ends the check.
func (cl *Client) Complete(ctx context.Context, c Check, succeeded bool) error {
	result := "failed"
	if succeeded {
		result = "succeeded"
	}
	body := map[string]string{"name": "TaskCompleted", "taskId": c.TaskInstanceID, "jobId": c.JobID, "result": result}
	_, err := cl.do(ctx, c, http.MethodPost, "events", body, nil)
	return err
}

// Log writes lines to the check's log in the run (create a log, append
// the lines, attach the log to the check's timeline record).
func (cl *Client) Log(ctx context.Context, c Check, lines []string) error {
	if c.TimelineID == "" {
		return errors.New("no TimelineId header: the check's log needs it ($(system.TimelineId))")
	}
	var log struct {
		ID   int    `json:"id"`
		Path string `json:"path"`
	}
	if _, err := cl.do(ctx, c, http.MethodPost, "logs", map[string]string{"path": `logs\` + c.TaskInstanceID}, &log); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	if log.ID == 0 {
		return errors.New("create log: the answer has no log id")
	}
	text := strings.Join(lines, "\n") + "\n"
	if _, err := cl.do(ctx, c, http.MethodPost, fmt.Sprintf("logs/%d", log.ID), []byte(text), nil); err != nil {
		return fmt.Errorf("append to log %d: %w", log.ID, err)
	}
	records := map[string]any{"count": 1, "value": []map[string]any{{"id": c.TaskInstanceID, "log": map[string]any{"id": log.ID, "path": log.Path}}}}
	if _, err := cl.do(ctx, c, http.MethodPatch, "timelines/"+c.TimelineID+"/records", records, nil); err != nil {
		return fmt.Errorf("attach log %d to the check: %w", log.ID, err)
	}
	return nil
}

// StatusError is an answer other than 2xx.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("Azure DevOps answered %d: %s", e.Status, e.Body)
}

// Permanent reports whether repeating cannot help (4xx but 429: the token
// expired, the check was cancelled or timed out).
func (e *StatusError) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// do sends one request with the job's token; body is JSON, or raw bytes
// sent as application/octet-stream (log content).
func (cl *Client) do(ctx context.Context, c Check, method, rest string, body, out any) (int, error) {
	u, err := cl.plan(c, rest)
	if err != nil {
		return 0, err
	}
	var rd io.Reader
	ctype := "application/json"
	if raw, ok := body.([]byte); ok {
		rd, ctype = bytes.NewReader(raw), "application/octet-stream"
	} else {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u+"?api-version="+APIVersion, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.AuthToken)
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		msg := string(data)
		var e struct{ Message string }
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return resp.StatusCode, &StatusError{Status: resp.StatusCode, Body: msg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("read the answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}
