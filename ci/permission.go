package ci

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/sloguard/sloguard/internal/gherr"
)

// PermissionError says a GitHub call was refused for want of a permission
// of the token (HTTP 403 that is no rate limit), and which one: GitHub
// names it in X-Accepted-GitHub-Permissions, and each call knows its own.
type PermissionError struct {
	Op         string // what was refused: "create check run \"sloguard check\""
	Permission string // as a workflow's permissions: block says it, "checks: write"
	Err        error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s: the token lacks the permission %s: add it to the job's permissions: block, or give github-token a token that has it (GitHub said: %s)",
		e.Op, e.Permission, gherr.Text(e.Err))
}

func (e *PermissionError) Unwrap() error { return e.Err }

// ErrNoToken says a GitHub integration was asked for with no token to act.
var ErrNoToken = errors.New("no GitHub token: give the action github-token (its default is ${{ github.token }}), or set GITHUB_TOKEN")

// permissionError wraps a 403 that is no rate limit as a PermissionError,
// preferring the permission GitHub names over the one the caller expects.
func permissionError(err error, op, permission string) error {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil || ge.Response.StatusCode != http.StatusForbidden {
		return nil
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return nil
	}
	if named := acceptedPermissions(ge.Response.Header.Get("X-Accepted-GitHub-Permissions")); named != "" {
		permission = named
	}
	return &PermissionError{Op: op, Permission: permission, Err: err}
}

// acceptedPermissions turns GitHub's "checks=write; contents=read" (sets
// of permissions, any of which will do) into the first set as a workflow
// writes it: "checks: write".
func acceptedPermissions(h string) string {
	first, _, _ := strings.Cut(h, ";")
	var parts []string
	for _, p := range strings.Split(first, ",") {
		if name, level, ok := strings.Cut(strings.TrimSpace(p), "="); ok && name != "" && level != "" {
			parts = append(parts, name+": "+level)
		}
	}
	return strings.Join(parts, ", ")
}
