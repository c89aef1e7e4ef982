// Package gherr says what GitHub answered in one readable line. go-github's
// own text ends in " []" when GitHub sent no field errors, and reads
// "403  []" when it sent no message either.
package gherr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/sloguard/sloguard/internal/redact"
)

// Text is GitHub's answer in err as one line: "POST https://…: 403
// Resource not accessible by integration", then the field errors and the
// documentation link when GitHub sent them. Any other error is its own
// text.
func Text(err error) string {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return err.Error()
	}
	code := ge.Response.StatusCode
	msg := strings.TrimSpace(ge.Message)
	if msg == "" {
		msg = http.StatusText(code)
	}
	s := fmt.Sprintf("%d %s", code, msg)
	if req := ge.Response.Request; req != nil && req.URL != nil {
		s = req.Method + " " + redact.URL(req.URL.String()) + ": " + s
	}
	var fields []string
	for _, fe := range ge.Errors {
		fields = append(fields, fe.Error())
	}
	if len(fields) > 0 {
		s += " (" + strings.Join(fields, "; ") + ")"
	}
	if ge.DocumentationURL != "" {
		s += ", see " + ge.DocumentationURL
	}
	return s
}

// Readable is err with Text as its message, still unwrapping to it (so
// errors.As finds the *github.ErrorResponse); err itself when it holds no
// answer of GitHub's.
func Readable(err error) error {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return err
	}
	return &readable{text: Text(err), err: err}
}

// Explained is Readable with advice after it: "<Text>: <advice>".
func Explained(err error, advice string) error {
	return &readable{text: Text(err) + ": " + advice, err: err}
}

type readable struct {
	text string
	err  error
}

func (e *readable) Error() string { return e.text }
func (e *readable) Unwrap() error { return e.err }
