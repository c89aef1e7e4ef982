// Package redact keeps secrets out of everything sloguard prints or
// writes. A Redactor knows the secret values loaded from the environment
// and the forms they take on the way out (base64 of user:password in a
// Basic header, URL and JSON escaping, the runners' command escaping), and
// also removes credentials it was never told about but can recognise:
// URL userinfo, token-bearing query parameters, authorization headers
// echoed in a body, JWTs. One Redactor is built per run; its writers wrap
// stdout and stderr, and Scrub cleans the decision record before it is
// rendered anywhere.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Mask replaces a secret.
const Mask = "***"

// MinLen is the shortest value redacted: shorter ones would garble every
// line they happen to occur in, and protect nothing (a 3-character secret
// is guessed, not leaked).
const MinLen = 4

// Redactor replaces known secrets and recognisable credentials. It is safe
// for concurrent use; Add may be called while writers are in use.
type Redactor struct {
	mu     sync.RWMutex
	values map[string]bool // raw secrets, as loaded
	forms  map[string]bool // every form to replace: values and derived forms
	masks  map[string]bool // the forms worth registering with a CI runner
	rep    *strings.Replacer
}

// New returns a Redactor that knows no secret yet: it still removes the
// credentials its patterns recognise.
func New() *Redactor {
	return &Redactor{values: map[string]bool{}, forms: map[string]bool{}, masks: map[string]bool{}}
}

// Add registers secret values. A multi-line value is registered line by
// line too, as runners mask a line at a time. Blank and too-short values
// are ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		r.addLocked(v)
		if strings.ContainsAny(v, "\r\n") {
			for _, line := range strings.FieldsFunc(v, func(c rune) bool { return c == '\n' || c == '\r' }) {
				r.addLocked(strings.TrimSpace(line))
			}
		}
	}
	r.rebuildLocked()
}

// AddBasicAuth registers a user name and password and the base64 form of
// "user:password" that an Authorization: Basic header carries (a proxy
// that echoes headers leaks that form, which masking the two values alone
// does not catch).
func (r *Redactor) AddBasicAuth(user, password string) {
	if user == "" && password == "" {
		return
	}
	pair := user + ":" + password
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLocked(user)
	r.addLocked(password)
	for _, f := range []string{base64.StdEncoding.EncodeToString([]byte(pair)), base64.RawStdEncoding.EncodeToString([]byte(pair))} {
		r.forms[f], r.masks[f] = true, true
	}
	r.rebuildLocked()
}

// AddURL registers the credentials a URL carries: the userinfo password
// (and its Basic form, which Go's client sends for it) and the values of
// token-bearing query parameters.
func (r *Redactor) AddURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	if u.User != nil {
		p, _ := u.User.Password()
		r.AddBasicAuth(u.User.Username(), p)
	}
	for k, vs := range u.Query() {
		if sensitiveName(k) {
			r.Add(vs...)
		}
	}
}

func (r *Redactor) addLocked(v string) {
	v = strings.TrimSpace(v)
	if len(v) < MinLen || r.values[v] {
		return
	}
	r.values[v] = true
	r.masks[v] = true
	for _, f := range forms(v) {
		r.forms[f] = true
		if f != v && !strings.ContainsAny(f, "\r\n") {
			r.masks[f] = true
		}
	}
}

// forms lists v and the shapes it takes once escaped for a URL, a JSON or
// Go string, a GitHub or Azure workflow command.
func forms(v string) []string {
	out := []string{v}
	add := func(f string) {
		if len(f) >= MinLen && f != v {
			out = append(out, f)
		}
	}
	for _, f := range percentForms(v) {
		add(f)
	}
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	q := strconv.Quote(v)
	add(q[1 : len(q)-1])
	add(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(v))
	add(strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A").Replace(v))
	return out
}

// Sets of bytes the percent-encoders of URLs leave as they are.
const (
	unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" // RFC 3986
	jsMarks    = "!*'()"                                                              // encodeURIComponent keeps them too
	jsReserved = ";,/?:@&=+$#"                                                        // and encodeURI these
)

// percentForms lists the percent-encoded forms of v a server may echo:
// Go's url.QueryEscape and url.PathEscape, JavaScript's
// encodeURIComponent and encodeURI, RFC 3986's strict form with and
// without "/" kept, each in upper and lower-case hex.
func percentForms(v string) []string {
	out := []string{url.QueryEscape(v), url.PathEscape(v)}
	for _, keep := range []string{unreserved, unreserved + "/", unreserved + jsMarks, unreserved + jsMarks + jsReserved} {
		out = append(out, percentEncode(v, keep))
	}
	for _, f := range out[:len(out):len(out)] {
		out = append(out, lowerHex(f))
	}
	return out
}

// percentEncode escapes every byte of v that keep does not hold as %XX.
func percentEncode(v, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// lowerHex writes the hex digits of every %XX of s in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// longestFirst lists a set's strings, longest first (then in order): a
// value that contains another is replaced, or masked, whole.
func longestFirst(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

func (r *Redactor) rebuildLocked() {
	all := longestFirst(r.forms)
	pairs := make([]string, 0, 2*len(all))
	for _, f := range all {
		pairs = append(pairs, f, Mask)
	}
	r.rep = strings.NewReplacer(pairs...)
}

// Masks lists the values and derived forms to register with a CI runner's
// own masking (::add-mask::, ##vso[task.setsecret]), longest first.
func (r *Redactor) Masks() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return longestFirst(r.masks)
}

// String returns s with every known secret and every recognisable
// credential replaced by Mask.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	r.mu.RLock()
	rep := r.rep
	r.mu.RUnlock()
	if rep != nil {
		s = rep.Replace(s)
	}
	return Patterns(s)
}

// Bytes is String for a byte slice.
func (r *Redactor) Bytes(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return []byte(r.String(string(b)))
}
