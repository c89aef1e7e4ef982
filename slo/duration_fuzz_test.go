package slo

import (
	"testing"
)

// FuzzParseDuration: whatever ParseDuration and ParseOpenSLODuration
// accept is longer than zero, and a duration written back by
// FormatDuration (what {{.window}} becomes) parses to itself. Seeds are in
// testdata/fuzz/FuzzParseDuration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1h30m", "5m", "250ms", "1y", "2w", "0", "-1s", "1M", "3Q", "1Y", "9999999999y", "1h1h", "", "1.5h", "0s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil {
			if d <= 0 {
				t.Fatalf("ParseDuration(%q) = %v, want longer than zero", s, d)
			}
			back, err := ParseDuration(FormatDuration(d))
			if err != nil || back != d {
				t.Fatalf("ParseDuration(FormatDuration(%v) = %q) = %v, %v", d, FormatDuration(d), back, err)
			}
		} else if err.Error() == "" {
			t.Fatalf("ParseDuration(%q): an error without a message", s)
		}
		if d, err := ParseOpenSLODuration(s); err == nil && d <= 0 {
			t.Fatalf("ParseOpenSLODuration(%q) = %v, want longer than zero", s, d)
		}
	})
}
