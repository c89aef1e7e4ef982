package suggest

import (
	"reflect"
	"testing"
)

func TestDistance(t *testing.T) {
	tests := map[string]struct {
		a, b string
		want int
	}{
		"equal words are 0 apart":        {"checkout", "checkout", 0},
		"one missing letter is 1":        {"chekout", "checkout", 1},
		"one extra letter is 1":          {"http_requests_total", "http_request_total", 1},
		"a swap is 2":                    {"ab", "ba", 2},
		"from empty is the length":       {"", "abc", 3},
		"runes count once, not per byte": {"größe", "grösse", 2},
		"completely different words":     {"canary", "stable", 6},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Distance(tc.a, tc.b); got != tc.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	names := []string{"http_requests_total", "http_request_duration_seconds_bucket", "process_cpu_seconds_total", "http_requests_totals", "up"}
	tests := map[string]struct {
		word  string
		cands []string
		n     int
		want  []string
	}{
		"a missing s finds the metric, nearest first": {"http_request_total", names, 3, []string{"http_requests_total", "http_requests_totals"}},
		"n bounds the answer":                         {"http_request_total", names, 1, []string{"http_requests_total"}},
		"nothing near is nothing":                     {"checkout_errors", names, 3, []string{}},
		"the word itself is not a suggestion":         {"up", names, 3, []string{}},
		"a case difference is a suggestion":           {"Checkout", []string{"checkout", "cart"}, 3, []string{"checkout"}},
		"duplicates are suggested once":               {"chekout", []string{"checkout", "checkout"}, 3, []string{"checkout"}},
		"short words allow one edit":                  {"api", []string{"apo", "xyz"}, 3, []string{"apo"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Closest(tc.word, tc.cands, tc.n)
			if got == nil {
				got = []string{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
			}
		})
	}
}

func TestPhrase(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a b": "a or b", "a b c": "a, b or c"} {
		var words []string
		if in != "" {
			for _, w := range []rune(in) {
				if w != ' ' {
					words = append(words, string(w))
				}
			}
		}
		if got := Phrase(words); got != want {
			t.Errorf("Phrase(%q) = %q, want %q", words, got, want)
		}
	}
}
