package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// injection is what a hostile upstream appends to its error pages: an
// annotation, a v1 command and an Azure result, each on a line of its own
// and after a carriage return. "pwned" marks every command it carries.
const injection = "x\n::error title=pwned::fake annotation\n##[error pwned]v1 command\r" +
	"::warning title=pwned::after a CR\n##vso[task.complete result=Succeeded;pwned=1]marked succeeded\n"

// markdownBait opens every hostile error page: markdown that would fetch
// an image and offer a link if the job summary rendered it.
const markdownBait = "![x](https://evil.example/t.png) [click](javascript:alert(1))"

// cmdHostile: hostile VAR starts a backend that answers every request with
// the status its path starts with (/500/..., /404/...), and a body that
// echoes the request's headers (Authorization, DD-API-KEY, x-api-key…) on
// its first line after markdown bait, then tries to inject workflow commands. A status the
// Prometheus API answers in JSON (400, 422, 503) gets its error envelope,
// Datadog's and Azure Monitor's shapes too, so that every client reads the
// echo as the server's message. VAR holds the server's URL, VAR_HOST its
// host:port.
func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hostile VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0])
		if err != nil {
			status = http.StatusInternalServerError
		}
		echo := markdownBait + " upstream failed; request headers: " + headerLine(r.Header) + " " + fmt.Sprint(map[string][]string(r.Header)) + " url " + r.URL.String() +
			" ::error title=pwned::inline ##vso[task.complete result=Succeeded;pwned=1]inline\n" + injection
		body := echo
		switch {
		case strings.Contains(r.URL.Path, "/api/v1/query") && r.Method == http.MethodGet: // Datadog
			body = mustJSON(map[string][]string{"errors": {echo}})
		case strings.Contains(r.URL.Path, "/api/v1/query") && (status == 400 || status == 422 || status == 503):
			body = mustJSON(map[string]string{"status": "error", "errorType": "bad_data", "error": echo})
		case strings.Contains(r.URL.Path, "/v1/apps/"): // Azure Monitor
			body = mustJSON(map[string]any{"error": map[string]string{"code": "BadArgumentError", "message": echo}})
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
	ts.Setenv(args[0]+"_HOST", strings.TrimPrefix(srv.URL, "http://"))
}

func headerLine(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(h[k], ", "))
	}
	return strings.Join(parts, "; ")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cmdBasic: basic VAR USER PASSWORD sets VAR to base64 of USER:PASSWORD,
// the form an Authorization: Basic header carries.
func cmdBasic(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: basic VAR USER PASSWORD")
	}
	ts.Setenv(args[0], base64.StdEncoding.EncodeToString([]byte(args[1]+":"+args[2])))
}

// cmdNoCommand: nocommand FILE...: no line of these files (stdout and
// stderr name the last command's streams) makes a runner run a command
// that an upstream injected: GitHub's "::cmd::" at the start of a line
// (white space trimmed, a CR starts a line) or "##[cmd]" anywhere, Azure's
// "##vso[cmd]" anywhere. sloguard's own commands start their lines and
// never carry "pwned" nor mark a task succeeded.
func cmdNoCommand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nocommand FILE...")
	}
	for _, file := range args {
		for n, line := range strings.Split(ts.ReadFile(file), "\n") {
			for _, l := range strings.Split(line, "\r") {
				if what := injected(l); what != "" {
					ts.Fatalf("%s line %d: %s: %q", file, n+1, what, clip(line))
				}
			}
		}
	}
}

func injected(l string) string {
	if t := strings.TrimLeft(l, " \t\v\f\u00a0\u0085\u2000\u3000"); strings.HasPrefix(t, "::") {
		info, _, _ := strings.Cut(t[2:], "::")
		if strings.Contains(info, "pwned") {
			return "an injected GitHub command"
		}
	}
	lower := strings.ToLower(l)
	for _, marker := range []string{"##[", "##vso["} {
		i := strings.Index(lower, marker)
		switch {
		case i < 0:
			continue
		case i > 0 || strings.Contains(lower[len(marker):], marker):
			return "a command marker inside a line"
		}
		if info, _, _ := strings.Cut(l, "]"); strings.Contains(info, "pwned") || strings.Contains(info, "result=Succeeded;") {
			return "an injected command"
		}
	}
	return ""
}

// cmdExpand: expand FILE... replaces ${VAR} in the files with the
// script's environment, so that a config can name a server's URL.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: expand FILE...")
	}
	for _, f := range args {
		out := envRef.ReplaceAllStringFunc(ts.ReadFile(f), func(m string) string { return ts.Getenv(m[2 : len(m)-1]) })
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(out), 0o644))
	}
}

var envRef = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)
