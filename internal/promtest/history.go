// Package promtest runs a real Prometheus on a loopback port, filled with a
// month of generated request counters, and says what Prometheus's rate()
// must answer over any window of that data. Integration tests and the
// check benchmark share it, so it is an ordinary package.
package promtest

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Day is 24 hours, the unit most segments are written in.
const Day = 24 * time.Hour

// Metric is the counter every service exposes, with labels service and
// code ("200" for good requests, "500" for errors).
const Metric = "http_requests_total"

// phase puts every sample 17 s before a whole minute (when Step is a
// multiple of 10 s), so no window that is a whole number of minutes long
// and ends at End, nor any slice boundary, ever has a sample on its edge.
const phase = 17 * time.Second

// counterStart is where every counter begins. A counter far from zero
// keeps rate() from shortening its extrapolation towards the counter's
// zero point, which it would do differently for the error and the total
// series and so skew their ratio.
const counterStart = 1e6

// Segment gives a stretch of the history its own error ratio. It is
// measured back from the end: {From: 21 * Day, To: 14 * Day} is the week
// that ended two weeks before End.
type Segment struct {
	From, To   time.Duration
	ErrorRatio float64
}

// Service is one service's traffic: a constant request rate and an error
// ratio that segments override (a later segment wins where they overlap).
type Service struct {
	Name       string
	Rate       float64 // requests per second; 0 leaves the counters flat: no traffic
	ErrorRatio float64
	Segments   []Segment
}

// History is a generated month of counters for several services.
type History struct {
	End      time.Time     // the evaluation time the data is made for, a whole minute
	Span     time.Duration // how far back before End the samples reach
	Step     time.Duration // the scrape interval the samples pretend to have
	Services []Service
}

// New returns a history ending at end (truncated to the minute) that
// covers 30 days and an hour: the extra hour keeps the first samples of a
// 30-day window from being the first samples of the data.
func New(end time.Time, services ...Service) *History {
	return &History{End: end.UTC().Truncate(time.Minute), Span: 30*Day + time.Hour, Step: time.Minute, Services: services}
}

// Validate reports a history the rest of the package cannot honour.
func (h *History) Validate() error {
	switch {
	case h.Step <= 0 || h.Step%(10*time.Second) != 0:
		return fmt.Errorf("history: step %s must be a positive multiple of 10s", h.Step)
	case h.Span < 2*h.Step:
		return fmt.Errorf("history: span %s holds fewer than two samples", h.Span)
	case !h.End.Equal(h.End.Truncate(time.Minute)):
		return fmt.Errorf("history: end %s must be a whole minute", h.End)
	case len(h.Services) == 0:
		return fmt.Errorf("history: no services")
	}
	seen := map[string]bool{}
	for _, s := range h.Services {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("history: service name %q is empty or repeated", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// Times lists the sample timestamps, oldest first.
func (h *History) Times() []time.Time {
	n := int((h.Span-phase)/h.Step) + 1
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = h.End.Add(-phase - time.Duration(n-1-i)*h.Step)
	}
	return ts
}

// series holds one service's two counters, one value per sample time.
type series struct{ good, bad []float64 }

// counters computes a service's counters. Writing and expecting both go
// through here, so the expected figures use the very floats Prometheus
// stores.
func (h *History) counters(s Service, times []time.Time) series {
	good, bad := make([]float64, len(times)), make([]float64, len(times))
	g, b := counterStart, counterStart
	perStep := s.Rate * h.Step.Seconds()
	for i, t := range times {
		if i > 0 {
			r := s.ratioAt(h.End.Sub(t))
			b += perStep * r
			g += perStep * (1 - r)
		}
		good[i], bad[i] = g, b
	}
	return series{good: good, bad: bad}
}

// ratioAt is the error ratio of the interval ending ago before End.
func (s Service) ratioAt(ago time.Duration) float64 {
	r := s.ErrorRatio
	for _, seg := range s.Segments {
		if ago <= seg.From && ago > seg.To {
			r = seg.ErrorRatio
		}
	}
	return r
}

func (h *History) service(name string) (Service, bool) {
	for _, s := range h.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// SampleCount is how many samples the history writes, all series together.
func (h *History) SampleCount() int { return 2 * len(h.Services) * len(h.Times()) }

// Loaded implements Backfill: Prometheus must count every sample at End.
func (h *History) Loaded() (string, time.Time, float64) {
	return fmt.Sprintf("sum(count_over_time(%s[%s]))", Metric, model.Duration(h.Span)), h.End, float64(h.SampleCount())
}

// WriteOpenMetrics writes the history in the OpenMetrics text format that
// promtool backfills from: one counter family, series one after another,
// timestamps in seconds, values exact (they round-trip through text).
func (h *History) WriteOpenMetrics(w io.Writer) error {
	if err := h.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, "# HELP http_requests Requests served, by service and status code.\n# TYPE http_requests counter\n")
	times := h.Times()
	var line []byte
	for _, s := range h.Services {
		c := h.counters(s, times)
		for _, sr := range []struct {
			code string
			vals []float64
		}{{"200", c.good}, {"500", c.bad}} {
			prefix := fmt.Sprintf("%s{service=%q,code=%q} ", Metric, s.Name, sr.code)
			for i, t := range times {
				line = append(line[:0], prefix...)
				line = strconv.AppendFloat(line, sr.vals[i], 'g', -1, 64)
				line = append(line, ' ')
				line = strconv.AppendInt(line, t.Unix(), 10)
				line = append(line, '\n')
				if _, err := bw.Write(line); err != nil {
					return err
				}
			}
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// ErrorRatio is the error ratio of a service over (at-window, at] exactly
// as a ratio of two rate() results sees it: the increase between the first
// and the last sample inside the window. rate() extrapolates both series
// alike, since they share timestamps, so the factor cancels. It reports
// false when the window holds fewer than two samples or no requests.
func (h *History) ErrorRatio(service string, at time.Time, window time.Duration) (float64, bool) {
	s, ok := h.service(service)
	if !ok {
		return 0, false
	}
	times := h.Times()
	return windowRatio(times, h.counters(s, times), at, window)
}

func windowRatio(times []time.Time, c series, at time.Time, window time.Duration) (float64, bool) {
	from := at.Add(-window)
	lo := sort.Search(len(times), func(i int) bool { return times[i].After(from) })
	hi := sort.Search(len(times), func(i int) bool { return times[i].After(at) }) - 1
	if hi-lo < 1 {
		return 0, false
	}
	bad := c.bad[hi] - c.bad[lo]
	total := bad + c.good[hi] - c.good[lo]
	if total <= 0 {
		return 0, false
	}
	return bad / total, true
}

// Slice is one time slice as a range query whose step is the slice length
// sees it: the error ratio over (End-length, End], if there was traffic.
type Slice struct {
	End        time.Time
	ErrorRatio float64
	HasData    bool
}

// Slices cuts (at-window, at] into slices of the given length, oldest
// first, as sloguard's timeslice budgeting reads them.
func (h *History) Slices(service string, at time.Time, window, length time.Duration) []Slice {
	s, _ := h.service(service)
	times := h.Times()
	c := h.counters(s, times)
	n := int(window / length)
	out := make([]Slice, n)
	for i := range out {
		end := at.Add(-time.Duration(n-1-i) * length)
		r, ok := windowRatio(times, c, end, length)
		out[i] = Slice{End: end, ErrorRatio: r, HasData: ok}
	}
	return out
}

// BurnRate is an error ratio against the budget of an objective in
// percent, written out here so tests do not check sloguard's math with
// itself.
func BurnRate(errorRatio, objective float64) float64 {
	return errorRatio / (1 - objective/100)
}

// BudgetRemaining is the percent of the budget left at that error ratio.
func BudgetRemaining(errorRatio, objective float64) float64 {
	return 100 * (1 - BurnRate(errorRatio, objective))
}
