package app

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckSince(t *testing.T) {
	now := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		since, want time.Time
		err         string
	}{
		"unset stays unset":                      {time.Time{}, time.Time{}, ""},
		"the past is kept":                       {now.Add(-time.Hour), now.Add(-time.Hour), ""},
		"now is kept":                            {now, now, ""},
		"a little clock skew is absorbed as now": {now.Add(30 * time.Second), now, ""},
		"the future is a usage error":            {now.Add(2 * time.Minute), time.Time{}, "--since 2026-11-23T17:02:00Z is in the future (it is 2026-11-23T17:00:00Z here, 1m0s of clock skew allowed): pass the time the canary was deployed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := checkSince(tc.since, now)
			if tc.err != "" {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want exit 2 saying %q", err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("checkSince = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNotFutureAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	got, err := notFuture("--at", now.Add(20*time.Second), now, "leave --at out")
	if err != nil || !got.Equal(now) {
		t.Errorf("a little skew: %s, %v; want now", got, err)
	}
	_, err = notFuture("--at", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), now, "leave --at out")
	var ee *ExitError
	want := "--at 2099-01-01T00:00:00Z is in the future (it is 2026-11-23T17:00:00Z here, 1m0s of clock skew allowed): leave --at out"
	if !errors.As(err, &ee) || ee.Code != ExitUsage || err.Error() != want {
		t.Errorf("err = %v, want exit 2: %s", err, want)
	}
}
