package servetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Check holds the headers Azure DevOps sends with an Invoke REST API check
// (its defaults), for a plan of the fake's organisation.
type Check struct {
	PlanURL, ProjectID, HubName, PlanID, JobID, TimelineID, TaskInstanceID, AuthToken string
}

// Headers sets them on a request.
func (c Check) Headers(h http.Header) {
	h.Set("Content-Type", "application/json")
	for k, v := range map[string]string{"PlanUrl": c.PlanURL, "ProjectId": c.ProjectID, "HubName": c.HubName, "PlanId": c.PlanID,
		"JobId": c.JobID, "TimelineId": c.TimelineID, "TaskInstanceId": c.TaskInstanceID, "AuthToken": c.AuthToken} {
		if v != "" {
			h.Set(k, v)
		}
	}
}

// AzureEvent is one TaskCompleted event Azure DevOps accepted.
type AzureEvent struct {
	PlanID, Name, TaskID, JobID, Result string
}

// Azure is the fake distributed task API of one organisation,
// URL + "/acme".
type Azure struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	events   []AzureEvent
	logs     map[int]string // log id -> content
	attached map[string]int // timeline record (task instance) -> log id
	nextLog  int
	refusals
}

// NewAzure starts the fake; token is the job token it accepts.
func NewAzure(token string) *Azure {
	a := &Azure{token: token, logs: map[int]string{}, attached: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// Org is the organisation URL, as $(system.CollectionUri) gives it.
func (a *Azure) Org() string { return a.URL + "/acme/" }

// Check returns the headers of a check in this organisation.
func (a *Azure) Check(plan, job, task string) Check {
	return Check{PlanURL: a.Org(), ProjectID: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", HubName: "build", PlanID: plan, JobID: job,
		TimelineID: "0f1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8", TaskInstanceID: task, AuthToken: a.token}
}

// Events returns the TaskCompleted events received.
func (a *Azure) Events() []AzureEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AzureEvent(nil), a.events...)
}

// Log returns the content of the log attached to a task's timeline record.
func (a *Azure) Log(task string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.attached[task]
	return a.logs[id], ok
}

func (a *Azure) problem(w http.ResponseWriter, status int, format string, args ...any) {
	a.refuse(w, status, "application/json", func(msg string) any {
		return map[string]any{"$id": "1", "message": msg, "typeKey": "InvalidRequestException", "errorCode": 0}
	}, format, args...)
}

func (a *Azure) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	// /acme/{project}/_apis/distributedtask/hubs/{hub}/plans/{plan}/...
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(p) < 8 || p[0] != "acme" || p[2] != "_apis" || p[3] != "distributedtask" || p[4] != "hubs" || p[6] != "plans" {
		a.problem(w, http.StatusNotFound, "unexpected request %s %s", r.Method, r.URL.Path)
		return
	}
	if v := r.URL.Query().Get("api-version"); v != "7.1" {
		a.problem(w, http.StatusBadRequest, "api-version %q on %s", v, r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+a.token {
		a.problem(w, http.StatusUnauthorized, "%s %s without the job's token", r.Method, r.URL.Path)
		return
	}
	plan, rest := p[7], p[8:]
	switch {
	case r.Method == http.MethodPost && len(rest) == 1 && rest[0] == "events":
		a.event(w, plan, body)
	case r.Method == http.MethodPost && len(rest) == 1 && rest[0] == "logs":
		a.createLog(w, body)
	case r.Method == http.MethodPost && len(rest) == 2 && rest[0] == "logs":
		a.appendLog(w, r, rest[1], body)
	case r.Method == http.MethodPatch && len(rest) == 3 && rest[0] == "timelines" && rest[2] == "records":
		a.records(w, body)
	default:
		a.problem(w, http.StatusNotFound, "unexpected request %s %s", r.Method, r.URL.Path)
	}
}

func (a *Azure) event(w http.ResponseWriter, plan string, body []byte) {
	var ev struct{ Name, TaskID, JobID, Result string }
	if err := json.Unmarshal(body, &ev); err != nil || ev.Name != "TaskCompleted" || ev.TaskID == "" || ev.JobID == "" || (ev.Result != "succeeded" && ev.Result != "failed") {
		a.problem(w, http.StatusBadRequest, "event %s: want name TaskCompleted, taskId, jobId, result succeeded|failed", body)
		return
	}
	a.mu.Lock()
	for _, old := range a.events {
		if old.PlanID == plan && old.TaskID == ev.TaskID {
			a.mu.Unlock()
			a.problem(w, http.StatusBadRequest, "task %s of plan %s completed twice", ev.TaskID, plan)
			return
		}
	}
	a.events = append(a.events, AzureEvent{PlanID: plan, Name: ev.Name, TaskID: ev.TaskID, JobID: ev.JobID, Result: ev.Result})
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (a *Azure) taskLog(id int, path string) map[string]any {
	now := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{"id": id, "path": path, "lineCount": 0, "createdOn": now, "lastChangedOn": now,
		"url": a.URL + "/acme/_apis/distributedtask/logs/" + strconv.Itoa(id)}
}

func (a *Azure) createLog(w http.ResponseWriter, body []byte) {
	var l struct{ Path string }
	if err := json.Unmarshal(body, &l); err != nil || l.Path == "" {
		a.problem(w, http.StatusBadRequest, "create log %s: want a path", body)
		return
	}
	a.mu.Lock()
	a.nextLog++
	id := a.nextLog
	a.logs[id] = ""
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(a.taskLog(id, l.Path))
}

func (a *Azure) appendLog(w http.ResponseWriter, r *http.Request, idText string, body []byte) {
	id, _ := strconv.Atoi(idText)
	if r.Header.Get("Content-Type") != "application/octet-stream" {
		a.problem(w, http.StatusUnsupportedMediaType, "append log: Content-Type %q, want application/octet-stream", r.Header.Get("Content-Type"))
		return
	}
	a.mu.Lock()
	_, ok := a.logs[id]
	if ok {
		a.logs[id] += string(body)
	}
	a.mu.Unlock()
	if !ok {
		a.problem(w, http.StatusNotFound, "append to log %s, which was never created", idText)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(a.taskLog(id, ""))
}

func (a *Azure) records(w http.ResponseWriter, body []byte) {
	var rs struct {
		Count int
		Value []struct {
			ID  string
			Log *struct{ ID int }
		}
	}
	if err := json.Unmarshal(body, &rs); err != nil || rs.Count != len(rs.Value) || len(rs.Value) == 0 {
		a.problem(w, http.StatusBadRequest, "update records %s: want {count, value: [records]}", body)
		return
	}
	a.mu.Lock()
	for _, v := range rs.Value {
		if v.Log != nil {
			a.attached[v.ID] = v.Log.ID
		}
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}
