package redact

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The patterns are immutable once compiled: safe to share.
var (
	// scheme://user:password@host
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#@"'\\<>]+@`)
	// ?token=…, &api_key=…, &sig=…, X-Amz-Signature=…: a parameter whose
	// name holds a credential word.
	queryRE = regexp.MustCompile(`(?i)([?&;][\w.\-\[\]]*?(?:token|key|secret|sig|signature|password|passwd|pwd|auth|credential|session|jwt|code)[\w.\-\[\]]*=)[^&#\s"'\\<>]+`)
	// Authorization: Bearer …, "DD-API-KEY":["…"], x-api-key=…: a header
	// as a proxy echoes it, in any of the shapes a body may print it.
	headerRE = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|x-api-key|api-key|dd-api-key|dd-application-key|x-auth-token|set-cookie|cookie|x-amz-security-token|ocp-apim-subscription-key)((?:"|')?\s*[:=]\s*\[?\s*(?:"|')?)((?:bearer|basic|token|negotiate|sharedaccesssignature)\s+)?([^\s"'\\\],;]+)`)
	bearerRE = regexp.MustCompile(`(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)`)
	basicRE  = regexp.MustCompile(`(?i)\b(basic\s+)([A-Za-z0-9+/]{6,}={0,2})`)
	jwtRE    = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*`)
	// Tokens whose shape names them: GitHub, Standard Webhooks secrets, Slack.
	tokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|whsec_[A-Za-z0-9+/=]{8,}|xox[abprs]-[A-Za-z0-9\-]{10,})`)
)

// sensitiveWords mark a query parameter or header whose value is a
// credential.
var sensitiveWords = []string{"token", "key", "secret", "sig", "signature", "password", "passwd", "pwd", "auth", "credential", "session", "jwt", "code"}

func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// SensitiveHeader says whether a header's value is a credential
// (Authorization, X-Api-Key, DD-API-KEY, a cookie, a *-Token header).
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "authorization" || n == "proxy-authorization" || n == "cookie" || sensitiveName(n)
}

// Patterns removes credentials that can be recognised without knowing
// them: URL userinfo, token-bearing query parameters, authorization and
// API-key headers echoed in a body, bearer and basic credentials, JWTs and
// tokens with a known prefix.
func Patterns(s string) string {
	if s == "" {
		return s
	}
	s = userinfoRE.ReplaceAllString(s, "${1}"+Mask+"@")
	s = queryRE.ReplaceAllString(s, "${1}"+Mask)
	s = headerRE.ReplaceAllString(s, "${1}${2}${3}"+Mask)
	s = bearerRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := bearerRE.FindStringSubmatch(m)
		if !strings.ContainsAny(sub[2], "0123456789") {
			return m // a word ("bearer authentication"), not a token
		}
		return sub[1] + Mask
	})
	s = basicRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := basicRE.FindStringSubmatch(m)
		if !looksLikeBasic(sub[2]) {
			return m // "basic authentication"
		}
		return sub[1] + Mask
	})
	s = jwtRE.ReplaceAllString(s, Mask)
	return tokenRE.ReplaceAllString(s, Mask)
}

// looksLikeBasic says whether s is base64 of "user:password".
func looksLikeBasic(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && strings.Contains(string(b), ":") {
			return true
		}
	}
	return false
}

// ExcerptLen bounds how much of an untrusted body a message quotes.
const ExcerptLen = 300

// Excerpt quotes an untrusted body (a backend's or a webhook receiver's
// error page) in a message: its first non-blank line, control and
// formatting characters dropped, at most ExcerptLen bytes, recognisable
// credentials removed, and " …" when anything was left out. A hostile body
// can then neither flood the output nor start lines of its own.
func Excerpt(body []byte) string {
	if len(body) > 64<<10 {
		body = body[:64<<10]
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	first, rest := "", ""
	for s != "" {
		line := s
		i := strings.IndexAny(s, "\r\n")
		if i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if strings.TrimSpace(line) != "" {
			first, rest = line, s
			break
		}
	}
	more := strings.TrimSpace(rest) != ""
	first = strings.TrimSpace(printable(first))
	if len(first) > ExcerptLen {
		cut := ExcerptLen
		for cut > 0 && !utf8.RuneStart(first[cut]) {
			cut--
		}
		first, more = first[:cut], true
	}
	first = Patterns(first)
	if more {
		first += " …"
	}
	return first
}

// printable drops control and invisible formatting characters (escape
// sequences, bidi overrides, zero-width spaces); a tab becomes a space.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}

// URL shows a URL in a message without what may be a credential: no
// userinfo, and the query and fragment cut to "?…".
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Patterns(raw)
	}
	cut := u.RawQuery != "" || u.Fragment != ""
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	s := u.String()
	if cut {
		s += "?…"
	}
	return s
}
