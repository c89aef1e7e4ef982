package servetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// PendingConfig is a config for a running `sloguard serve` whose
// deployments of acme/shop to production pass the gate on recorded values,
// then watch for an hour a canary that never reports: they stay pending
// until the process stops, which is what restart tests need.
func PendingConfig(apiURL string) string {
	return fmt.Sprintf(`version: 1
providers:
  - name: recorded
    type: static
    values:
      web:
        service: {30d: {total: 1000000, bad: 10}, 5m: {total: 1000, bad: 0}, 30m: {total: 6000, bad: 0}, 1h: {total: 12000, bad: 0}, 6h: {total: 72000, bad: 1}}
slos:
  - {name: web, objective: 99.9, window: 30d}
serve:
  github:
    api_url: %s
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [web]
      policy: check_then_watch
      watch: 1h
`, apiURL)
}

// WaitReady polls base/readyz until it answers 200.
func WaitReady(c *http.Client, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if resp, err := c.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz did not answer 200 within %s", base, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Watching counts the evaluations GET base/v1/decisions?query lists as
// pending with the gate passed: watching their canary. -1 when it cannot
// tell.
func Watching(c *http.Client, base, query string) int {
	resp, err := c.Get(base + "/v1/decisions" + query)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var body struct {
		Decisions []struct {
			State   string
			Checked json.RawMessage
		}
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return -1
	}
	n := 0
	for _, d := range body.Decisions {
		if d.State == "pending" && len(d.Checked) > 0 && string(d.Checked) != "null" {
			n++
		}
	}
	return n
}
