package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestStringRemovesKnownSecretsAndTheirForms(t *testing.T) {
	const (
		token = "tok-5ecr3t/9+x%z"
		user  = "svc-reader"
		pass  = "pa55:w0rd\"q"
		dd    = "0123456789abcdef0123456789abcdef"
	)
	r := New()
	r.Add(token, dd, "", "ab") // blank and too-short values are ignored
	r.AddBasicAuth(user, pass)
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	jsonPass, _ := json.Marshal(pass)
	tests := map[string]struct{ in, leak string }{
		"a bearer token echoed in a 500 body":             {"upstream error; headers: Authorization: Bearer " + token, token},
		"the token URL-escaped in a query":                {"GET /x?t=" + url.QueryEscape(token), url.QueryEscape(token)},
		"the base64 of user:password from a Basic header": {"map[Authorization:[Basic " + basic + "]]", basic},
		"the password as a JSON string escapes it":        {`{"echo":` + string(jsonPass) + `}`, string(jsonPass[1 : len(jsonPass)-1])},
		"a Datadog key echoed as a JSON header map":       {`{"headers":{"Dd-Api-Key":["` + dd + `"]}}`, dd},
		"the token escaped for a GitHub command":          {"::error::x " + strings.ReplaceAll(token, "%", "%25"), strings.ReplaceAll(token, "%", "%25")},
		"the token escaped for an Azure command":          {"##vso[task.logissue]" + strings.ReplaceAll(token, "%", "%AZP25"), strings.ReplaceAll(token, "%", "%AZP25")},
		"the user name alone":                             {"user " + user + " denied", user},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := r.String(tc.in)
			if strings.Contains(got, tc.leak) {
				t.Errorf("String(%q) = %q: still holds %q", tc.in, got, tc.leak)
			}
			if !strings.Contains(got, Mask) {
				t.Errorf("String(%q) = %q: no %s where the secret was", tc.in, got, Mask)
			}
		})
	}
}

func TestPatternsRemoveCredentialsNobodyDeclared(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"URL userinfo": {
			`POST https://alice:hunter22@hooks.example/rollback: 500`,
			`POST https://***@hooks.example/rollback: 500`},
		"a token query parameter inside a nested retry error": {
			`Post "http://127.0.0.1:1/api/v1/query?token=abc123secret&x=1": dial tcp: refused`,
			`Post "http://127.0.0.1:1/api/v1/query?token=***&x=1": dial tcp: refused`},
		"api_key, sig and X-Amz-Signature": {
			`https://h/p?api_key=K1&sv=2020&sig=S2%3D&X-Amz-Signature=abc`,
			`https://h/p?api_key=***&sv=2020&sig=***&X-Amz-Signature=***`},
		"an echoed bearer header whose value nobody told us": {
			`Authorization: Bearer eyJhbGciOi.unknown-entra-token`,
			`Authorization: Bearer ***`},
		"a Go header map with an App Insights key": {
			`map[Accept:[application/json] X-Api-Key:[k3y-value-9]]`,
			`map[Accept:[application/json] X-Api-Key:[***]]`},
		"DD-APPLICATION-KEY in a JSON body": {
			`{"DD-APPLICATION-KEY": "appkey123456"}`,
			`{"DD-APPLICATION-KEY": "***"}`},
		"a Basic credential decodes to user:password": {
			`got Basic dXNlcjpwYXNz from you`,
			`got Basic *** from you`},
		"a JWT": {
			`id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl end`,
			`id_token *** end`},
		"a Standard Webhooks secret and a GitHub token": {
			`whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ghp_0123456789abcdefghijABCDEFGHIJ012345`,
			`*** ***`},
		"words about credentials stay": {
			`basic authentication failed: check bearer_token_env; use a bearer token or Basic auth`,
			`basic authentication failed: check bearer_token_env; use a bearer token or Basic auth`},
		"queries stay": {
			`/api/v1/query?query=sum(rate(http_requests_total[30d]))&time=1700000000`,
			`/api/v1/query?query=sum(rate(http_requests_total[30d]))&time=1700000000`},
		"an escaped quote in JSON is not eaten": {
			`{"e":"GET /x?token=abc\"}`,
			`{"e":"GET /x?token=***\"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Patterns(tc.in); got != tc.want {
				t.Errorf("Patterns(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAddURLRegistersUserinfoAndQueryTokens(t *testing.T) {
	r := New()
	r.AddURL("https://bob:s3cret-pw@hooks.example/x?token=q-tok-42&team=sre")
	basic := base64.StdEncoding.EncodeToString([]byte("bob:s3cret-pw"))
	for _, leak := range []string{"s3cret-pw", "q-tok-42", basic} {
		if got := r.String("echo " + leak); strings.Contains(got, leak) {
			t.Errorf("String leaks %q: %q", leak, got)
		}
	}
	if got := r.String("team=sre"); got != "team=sre" {
		t.Errorf("a harmless parameter value was redacted: %q", got)
	}
	masks := strings.Join(r.Masks(), "\n")
	for _, want := range []string{"s3cret-pw", "q-tok-42", basic} {
		if !strings.Contains(masks, want) {
			t.Errorf("Masks() lacks %q: %q", want, masks)
		}
	}
}

func TestMasksHoldDerivedFormsOneLineEach(t *testing.T) {
	r := New()
	r.Add("line-one-secret\nline-two-secret")
	r.AddBasicAuth("user", "pass")
	m := r.Masks()
	has := map[string]bool{}
	for _, v := range m {
		if strings.ContainsAny(v, "\r\n") && v != "line-one-secret\nline-two-secret" {
			t.Errorf("a derived mask spans lines: %q", v)
		}
		has[v] = true
	}
	for _, want := range []string{"line-one-secret", "line-two-secret", base64.StdEncoding.EncodeToString([]byte("user:pass")), "pass", "user"} {
		if !has[want] {
			t.Errorf("Masks() lacks %q: %q", want, m)
		}
	}
}

func TestWriterCatchesASecretSplitAcrossWritesAndFiltersLines(t *testing.T) {
	r := New()
	r.Add("split-secret-value")
	var out bytes.Buffer
	w := r.Writer(&out, func(l string) string { return "> " + l })
	for _, part := range []string{"first split-se", "cret-value line\nsecond", " line\nlast without newline"} {
		if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "> first *** line\n> second line\n> last without newline"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
}

func TestWriterIsSafeForConcurrentWriters(t *testing.T) {
	r := New()
	r.Add("concurrent-secret")
	var out bytes.Buffer
	w := r.Writer(&out, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				fmt.Fprintf(w, "writer %d line %d concurrent-secret\n", i, j)
				if j == 25 {
					r.Add(fmt.Sprintf("late-secret-%d", i))
				}
			}
		}()
	}
	wg.Wait()
	if strings.Contains(out.String(), "concurrent-secret") || strings.Count(out.String(), "\n") != 400 {
		t.Errorf("lines lost or secret kept: %d lines", strings.Count(out.String(), "\n"))
	}
}

func TestScrubCleansEveryStringInPlace(t *testing.T) {
	type inner struct {
		Msg    string
		Labels map[string]string
	}
	type rec struct {
		Reason  string
		List    []string
		Ptr     *inner
		ByName  map[string]inner
		Numbers map[string]float64
		Raw     []byte
		hidden  string
	}
	r := New()
	r.Add("scrub-me-please")
	v := &rec{
		Reason: "a scrub-me-please b", List: []string{"x scrub-me-please"},
		Ptr:     &inner{Msg: "https://u:scrub-me-please@h", Labels: map[string]string{"k": "scrub-me-please"}},
		ByName:  map[string]inner{"n": {Msg: "scrub-me-please"}},
		Numbers: map[string]float64{"5m": 1.5}, Raw: []byte("scrub-me-please"), hidden: "scrub-me-please",
	}
	r.Scrub(v)
	if s := fmt.Sprintf("%v %v %v %v", v.Reason, v.List, *v.Ptr, v.ByName); strings.Contains(s, "scrub-me-please") {
		t.Errorf("Scrub left the secret: %s", s)
	}
	if v.Numbers["5m"] != 1.5 {
		t.Errorf("Scrub changed a number: %v", v.Numbers)
	}
	if string(v.Raw) != "scrub-me-please" || v.hidden != "scrub-me-please" {
		t.Error("Scrub touched raw bytes or an unexported field")
	}
}

func TestExcerptQuotesOneCappedPrintableLine(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := map[string]struct{ in, want string }{
		"first non-blank line only":                   {"\n\n  oops: upstream down  \nAuthorization: Bearer x\n::error::fake", "oops: upstream down …"},
		"capped on a rune boundary":                   {long, strings.Repeat("é", ExcerptLen/2) + " …"},
		"escape sequences and bidi overrides dropped": {"a\x1b[31mred\u202e\u200bb\tc", "a[31mredb c"},
		"a CR ends the line too":                      {"x\r::error title=t::fake", "x …"},
		"recognisable credentials removed":            {"GET /q?api_key=abc123 failed", "GET /q?api_key=*** failed"},
		"empty":                                       {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Excerpt([]byte(tc.in)); got != tc.want {
				t.Errorf("Excerpt(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// A secret a backend echoes percent-encoded is redacted in every encoding
// of a URL, upper or lower-case hex, and each form is a mask for the CI
// runner. Before, only Go's QueryEscape and PathEscape forms were known:
// the encodeURI and encodeURIComponent forms below went out as they were.
func TestPercentEncodedFormsAreRedacted(t *testing.T) {
	const secret = "p@ss w/rd+x&y=z"
	r := New()
	r.Add(secret)
	masks := map[string]bool{}
	for _, m := range r.Masks() {
		masks[m] = true
	}
	for _, form := range []string{
		"p%40ss%20w/rd%2Bx%26y%3Dz",   // every reserved byte but "/"
		"p%40ss%20w%2Frd%2Bx%26y%3Dz", // encodeURIComponent
		"p@ss%20w/rd+x&y=z",           // encodeURI
		"p%40ss+w%2Frd%2Bx%26y%3Dz",   // url.QueryEscape
		"p@ss%20w%2Frd+x&y=z",         // url.PathEscape
		"p%40ss%20w%2frd%2bx%26y%3dz", // lower-case hex
		"p%40ss+w%2frd%2bx%26y%3dz",
	} {
		in := `422: {"error":"invalid token ` + form + `"}`
		if got := r.String(in); strings.Contains(got, form) || !strings.Contains(got, Mask) {
			t.Errorf("String(%q) = %q: the form %q is not redacted", in, got, form)
		}
		if !masks[form] {
			t.Errorf("Masks() lacks %q", form)
		}
	}
	if got := lowerHex("a%2B%3d%"); got != "a%2b%3d%" {
		t.Errorf("lowerHex = %q", got)
	}
}
