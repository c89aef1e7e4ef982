package app

import (
	"errors"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/slo"
)

// annotateError puts config problems where they are: an error annotation
// on the config file's line in GitHub Actions and Azure Pipelines, before
// exitCode prints them as text. The loader's problems carry their file and
// line; nothing is read back from the message.
func Annotate(d *App, err error) {
	var ce *slo.ConfigError
	if !errors.As(err, &ce) {
		return
	}
	problems := make([]ci.Problem, 0, len(ce.Problems))
	for _, p := range ce.Problems {
		msg := p.Msg
		if p.Path != "" {
			msg = p.Path + ": " + msg
		}
		problems = append(problems, ci.Problem{File: p.File, Line: p.Line, Msg: msg})
	}
	ci.AnnotateProblems(d.getenv, d.cmdErr, "sloguard config", problems)
}
