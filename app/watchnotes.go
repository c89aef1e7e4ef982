package app

import (
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// watchNotes is what validate says about the watch: what it judges, what
// against, and what a deploy without a split can and cannot tell. Backends
// that select the canary by target list or recorded scope (scrape, static)
// never judge "the whole service" by leaving labels out, so a config that
// uses only those gets no notes.
func watchNotes(d *App, cfg *slo.Config) []string {
	for _, s := range cfg.SLOs {
		p, _ := cfg.ProviderByName(s.Provider)
		if d.backends.Caps(p).ScopesByLabels {
			return rollout.Explain(cfg.Canary)
		}
	}
	return nil
}
