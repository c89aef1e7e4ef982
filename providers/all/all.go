// Package all lists every metrics backend sloguard has: the one place a
// new backend is added, with one line (its package's Backend()). The app
// layer hands the list to config loading, which lets each backend decode
// its own block, and builds providers from it; nothing else names a
// backend type.
package all

import (
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/appinsights"
	"github.com/sloguard/sloguard/providers/datadog"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/providers/scrape"
	"github.com/sloguard/sloguard/providers/static"
	"github.com/sloguard/sloguard/slo"
)

// Backends lists every backend, in the order the config reference shows
// them. It builds the list anew on each call: no package-level state.
func Backends() providers.Backends {
	return providers.Backends{
		prometheus.Backend(),
		datadog.Backend(),
		appinsights.Backend(),
		scrape.Backend(),
		static.Backend(),
	}
}

// Default is the backend of a config that names none: the Prometheus of
// --prometheus-url (nil without one).
func Default(prometheusURL string) *slo.DefaultProvider {
	return prometheus.Default(prometheusURL)
}
