package main

import (
	"io"
	"regexp"
	"testing"
)

func BenchmarkCells(b *testing.B) {
	p := params{runs: 50, seeds: []uint64{1}, tuneSeed: 1000, workers: 1, only: regexp.MustCompile("Poisson|Bursty")}
	for b.Loop() {
		bench(io.Discard, p)
	}
}
