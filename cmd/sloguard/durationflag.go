package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/slo"
)

// durationValue is a duration flag's value that says what is wrong with a
// bad one: urfave/cli's own answers "parse error", and `--duration 10`
// deserves "use a unit, e.g. 10m". It reads Go durations (1m30s, 1.5h) and
// Prometheus ones (1d, 1w), as the config does.
type durationValue struct {
	d time.Duration
}

func (v *durationValue) Set(s string) error {
	if d, err := time.ParseDuration(s); err == nil {
		v.d = d
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return fmt.Errorf("no unit: use a unit, e.g. 10m (ms, s, m, h, d, w)")
	}
	d, err := slo.ParseDuration(s) // 1d, 1w; its message would repeat the value
	if err != nil {
		return fmt.Errorf("not a duration: use a number and a unit, e.g. 10m or 1h30m")
	}
	v.d = d
	return nil
}

func (v *durationValue) String() string {
	if v == nil || v.d == 0 {
		return ""
	}
	return v.d.String()
}

// durationFlag is a duration flag with its default described in words
// (DefaultText), since it comes from the config.
func durationFlag(name, usage, defaultText string) cli.Flag {
	return &cli.GenericFlag{Name: name, Value: &durationValue{}, Usage: usage, DefaultText: defaultText, EnvVars: env(name)}
}

// flagDuration reads a flag made by durationFlag; 0 when not given.
func flagDuration(c *cli.Context, name string) time.Duration {
	if v, ok := c.Generic(name).(*durationValue); ok {
		return v.d
	}
	return 0
}
