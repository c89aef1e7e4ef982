package ci

import (
	"encoding/json"
	"fmt"
	"os"
)

// Event is what sloguard needs of the workflow's event: on a pull request,
// its number and the head commit (GITHUB_SHA is then the test merge
// commit, on which a check run would not show on the pull request).
type Event struct {
	Name     string // GITHUB_EVENT_NAME
	PR       int    // 0 outside pull_request events
	HeadSHA  string // the pull request's head, else GITHUB_SHA
	EventErr error  // why the event file could not be read, if it could not
}

// ReadEvent reads GITHUB_EVENT_NAME and, for pull requests, the event
// payload at GITHUB_EVENT_PATH.
func ReadEvent(getenv func(string) string) Event {
	ev := Event{Name: getenv("GITHUB_EVENT_NAME"), HeadSHA: getenv("GITHUB_SHA")}
	if ev.Name != "pull_request" && ev.Name != "pull_request_target" {
		return ev
	}
	path := getenv("GITHUB_EVENT_PATH")
	data, err := os.ReadFile(path)
	if err != nil {
		ev.EventErr = fmt.Errorf("read the event payload GITHUB_EVENT_PATH: %w", err)
		return ev
	}
	var payload struct {
		PullRequest struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(data, &payload); err != nil {
		ev.EventErr = fmt.Errorf("event payload %s: %w", path, err)
		return ev
	}
	ev.PR = payload.PullRequest.Number
	if payload.PullRequest.Head.SHA != "" {
		ev.HeadSHA = payload.PullRequest.Head.SHA
	}
	return ev
}
