//go:build tools

// Package tools pins modules that later work needs, so that go.mod stays
// stable while several changes land at once. Remove entries once imported.
package tools

import (
	_ "github.com/google/go-github/v60/github"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "golang.org/x/sync/errgroup"
)
