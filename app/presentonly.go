package app

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// presentOnlyAt checks an --at in the past against the providers that can
// only read the present (static values carry no time, scrape reads its
// targets now): they would be read as they are and recorded as of --at.
// When every SLO of the run reads one, --at is a usage error, as backtest
// refuses them; when only some do, it returns a warning for each of
// their SLOs, by name.
func presentOnlyAt(job *Job, at, now time.Time) (map[string]string, error) {
	if !at.Before(now.Add(-clockSkew)) {
		return nil, nil
	}
	stamp := at.UTC().Format(time.RFC3339)
	warn := map[string]string{}
	var why []string
	for _, s := range job.SLOs {
		po, ok := job.Providers[s.Provider].(providers.PresentOnly)
		if !ok {
			continue
		}
		w := fmt.Sprintf("provider %q: %s", s.Provider, po.NoHistory())
		warn[s.Name] = fmt.Sprintf("--at %s cannot move %s; this SLO is read as it is now", stamp, w)
		if !slices.Contains(why, w) {
			why = append(why, w)
		}
	}
	if len(warn) == 0 || len(warn) < len(job.SLOs) {
		return warn, nil
	}
	sort.Strings(why)
	return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--at %s cannot move %s; leave --at out (backtest refuses it too)", stamp, strings.Join(why, "; "))}
}
