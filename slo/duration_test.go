package slo

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"250ms":    250 * time.Millisecond,
		"30s":      30 * time.Second,
		"5m":       5 * time.Minute,
		"6h":       6 * time.Hour,
		"30d":      30 * day,
		"1w":       7 * day,
		"1y":       365 * day,
		"1h30m":    90 * time.Minute,
		"1d12h":    36 * time.Hour,
		"2w3d":     17 * day,
		"1m30s5ms": 90*time.Second + 5*time.Millisecond,
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseDuration(in)
			if err != nil || got != want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	const units = "use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m"
	for name, tc := range map[string]struct{ in, want string }{
		"an unknown unit":               {"30x", `"30x" is not a duration: ` + units},
		"an empty string":               {"", "empty duration: " + units},
		"zero without a unit":           {"0", `"0" must be longer than zero`},
		"zero with a unit":              {"0s", `"0s" must be longer than zero`},
		"a negative duration":           {"-5m", `"-5m" is not a duration: ` + units},
		"a fraction":                    {"1.5h", `"1.5h" is not a duration: ` + units},
		"a number without a unit":       {"30", `"30" is not a duration: ` + units},
		"units out of order":            {"30m1h", `"30m1h" is not a duration: ` + units},
		"Go's microseconds":             {"5us", `"5us" is not a duration: ` + units},
		"OpenSLO's month":               {"1M", `"1M" is not a duration: ` + units},
		"spaces around":                 {" 5m", `" 5m" is not a duration: ` + units},
		"more than time.Duration holds": {"300y", `"300y" is too long: durations go up to about 292 years`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want error %q", tc.in, got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("ParseDuration(%q) error:\n got %q\nwant %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestParseOpenSLODuration(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want time.Duration
	}{
		"a month is 30 days":            {"1M", 30 * day},
		"two months are 60 days":        {"2M", 60 * day},
		"a quarter is 90 days":          {"1Q", 90 * day},
		"a year is 365 days":            {"1Y", 365 * day},
		"a lower-case m stays a minute": {"1m", time.Minute},
		"days as in Prometheus":         {"28d", 28 * day},
		"weeks as in Prometheus":        {"4w", 28 * day},
		"a lower-case y is a year too":  {"1y", 365 * day},
		"compound Prometheus units":     {"1h30m", 90 * time.Minute},
		"the most months that fit":      {"3558M", 3558 * 30 * day},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseOpenSLODuration(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseOpenSLODuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseOpenSLODurationErrors(t *testing.T) {
	const units = "use a number and a unit (m, h, d, w, M=30d, Q=90d, Y=365d), e.g. 28d or 1M"
	for name, tc := range map[string]struct{ in, want string }{
		"an unknown unit":            {"1X", `"1X" is not an OpenSLO duration: ` + units},
		"an empty string":            {"", "empty duration: " + units},
		"zero months":                {"0M", `"0M" must be longer than zero`},
		"zero minutes":               {"0m", `"0m" must be longer than zero`},
		"a negative month":           {"-1M", `"-1M" is not an OpenSLO duration: ` + units},
		"months that overflow":       {"4000M", `"4000M" is too long: durations go up to about 292 years`},
		"a number beyond int64":      {"99999999999999999999Q", `"99999999999999999999Q" is too long: durations go up to about 292 years`},
		"years beyond time.Duration": {"300Y", `"300Y" is too long: durations go up to about 292 years`},
		"compound OpenSLO units":     {"1M2d", `"1M2d" is not an OpenSLO duration: ` + units},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseOpenSLODuration(tc.in)
			if err == nil {
				t.Fatalf("ParseOpenSLODuration(%q) = %v, want error %q", tc.in, got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("ParseOpenSLODuration(%q) error:\n got %q\nwant %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute:        "5m",
		90 * time.Minute:       "1h30m",
		30 * day:               "30d",
		7 * day:                "1w",
		365 * day:              "1y",
		250 * time.Millisecond: "250ms",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(want); err != nil || back != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, back, err)
		}
	}
}

func TestExpandWindow(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"every {{.window}} is replaced":     {`rate(a[{{.window}}]) / rate(b[{{.window}}])`, `rate(a[1h30m]) / rate(b[1h30m])`},
		"spaces inside the braces are fine": {`rate(a[{{ .window }}])`, `rate(a[1h30m])`},
		"a query without it is unchanged":   {`sum(up)`, `sum(up)`},
		"other templates are left alone":    {`rate(a[{{.range}}])`, `rate(a[{{.range}}])`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := ExpandWindow(tc.in, 90*time.Minute); got != tc.want {
				t.Errorf("ExpandWindow(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if !WindowVar().MatchString("x[{{.window}}]") {
		t.Error("WindowVar does not match {{.window}}")
	}
}
