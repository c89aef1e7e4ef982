package rollout

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sloguard/sloguard/slo"
)

// words name, in reasons and hypotheses, what a watch judged and what it
// compared it with. A canary watch speaks of the canary and the baseline.
// A watch without a split compares the whole service after the deploy, the
// release, with its own past (no canary labels, a baseline offset), and
// says so: "canary" there would send the reader looking for one. Without a
// past baseline the words stay the canary's: a scrape or static backend
// selects its canary by its own config, with no labels, and this layer
// cannot tell that from a whole service.
type words struct {
	noSplit bool
	past    string // without a split, what the baseline is: "the same queries 30m earlier"
}

func wordsFor(pol slo.CanaryPolicy) words {
	b := pol.Baseline
	if len(pol.Canary.Labels) > 0 || b == nil || b.Offset <= 0 {
		return words{}
	}
	past := fmt.Sprintf("the same queries %s earlier", slo.FormatDuration(b.Offset))
	if len(b.Labels) > 0 {
		parts := make([]string, 0, len(b.Labels))
		for _, k := range slices.Sorted(maps.Keys(b.Labels)) {
			parts = append(parts, k+"="+b.Labels[k])
		}
		past = fmt.Sprintf("%s %s earlier", strings.Join(parts, ","), slo.FormatDuration(b.Offset))
	}
	return words{noSplit: true, past: past}
}

// judged is the subject of an error ratio: "canary error ratio", or "the
// service's error ratio after the deploy".
func (w words) judged() string {
	if w.noSplit {
		return "the service's error ratio after the deploy"
	}
	return "canary error ratio"
}

// requests counts what was judged: "1200 canary requests", "1200 requests
// after the deploy".
func (w words) requests(n float64) string {
	if w.noSplit {
		return fmt.Sprintf("%.0f requests after the deploy", n)
	}
	return fmt.Sprintf("%.0f canary requests", n)
}

// subject is what is judged, in a word: "canary", "release".
func (w words) subject() string {
	if w.noSplit {
		return "release"
	}
	return "canary"
}

// baselineName names what the judged side is compared with: "the
// baseline's", or the past's words.
func (w words) baselineName() string {
	if w.noSplit {
		return w.past
	}
	return "the baseline's"
}

// verdicts head the watch's reason: what breached, what is healthy.
func (w words) breached() string {
	if w.noSplit {
		return "the release breached: "
	}
	return "canary breached: "
}

func (w words) healthy(elapsed string) string {
	if w.noSplit {
		return "the release is healthy after " + elapsed + ": "
	}
	return "canary healthy after " + elapsed + ": "
}

// absent says the judged side showed nothing: "the canary served no
// requests during the watch", "the service served no requests after the
// deploy".
func (w words) absent(what string) string {
	if w.noSplit {
		return "the service " + what + " after the deploy"
	}
	return "the canary " + what + " during the watch"
}
