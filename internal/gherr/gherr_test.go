package gherr

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-github/v60/github"
)

func answer(status int, message string, fields ...github.Error) *github.ErrorResponse {
	u, _ := url.Parse("https://api.github.com/repos/acme/shop/check-runs?token=planted")
	return &github.ErrorResponse{
		Response: &http.Response{StatusCode: status, Request: &http.Request{Method: http.MethodPost, URL: u}},
		Message:  message, Errors: fields,
	}
}

func TestText(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"no message, no field errors": {answer(403, ""), "POST https://api.github.com/repos/acme/shop/check-runs?…: 403 Forbidden"},
		"a message":                   {answer(403, "Resource not accessible by integration"), "POST https://api.github.com/repos/acme/shop/check-runs?…: 403 Resource not accessible by integration"},
		"field errors": {answer(422, "Validation Failed", github.Error{Resource: "CheckRun", Field: "name", Code: "missing_field"}),
			"POST https://api.github.com/repos/acme/shop/check-runs?…: 422 Validation Failed (missing_field error caused by name field on CheckRun resource)"},
		"the documentation link": {func() error {
			e := answer(401, "Bad credentials")
			e.DocumentationURL = "https://docs.github.com/rest"
			return e
		}(),
			"POST https://api.github.com/repos/acme/shop/check-runs?…: 401 Bad credentials, see https://docs.github.com/rest"},
		"not GitHub's answer": {errors.New("dial tcp: connection refused"), "dial tcp: connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Text(tc.err); got != tc.want {
				t.Errorf("Text = %q\nwant   %q", got, tc.want)
			}
		})
	}
}

func TestReadableKeepsTheAnswerInTheChain(t *testing.T) {
	err := Explained(answer(404, "Not Found"), "is the App installed?")
	if err.Error() != "POST https://api.github.com/repos/acme/shop/check-runs?…: 404 Not Found: is the App installed?" {
		t.Errorf("Explained: %q", err)
	}
	var ge *github.ErrorResponse
	if !errors.As(Readable(answer(403, "")), &ge) || !errors.As(err, &ge) || ge.Response.StatusCode != 404 {
		t.Error("the *github.ErrorResponse is no longer in the chain")
	}
	plain := errors.New("timeout")
	if Readable(plain) != plain {
		t.Error("an error without GitHub's answer must come back as it is")
	}
}
