package serve

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// secrets reads the values the serve: block names (an environment
// variable, or a file for the keys that allow one) and remembers them, so
// that no log line, comment or stored error ever carries one.
type secrets struct {
	getenv   func(string) string
	readFile func(string) ([]byte, error)
	dir      string // relative files are read from the config file's directory
	values   []string
}

// read reads a secret: it is masked wherever sloguard writes.
func (s *secrets) read(field, env, file string) (string, error) {
	v, err := s.readPlain(field, env, file)
	if err == nil {
		s.values = append(s.values, v)
	}
	return v, err
}

// readPlain reads a value that is not a secret (an App ID, a user name):
// masking such values would blot out ordinary words in every message.
func (s *secrets) readPlain(field, env, file string) (string, error) {
	var v string
	if file != "" {
		if !filepath.IsAbs(file) {
			file = filepath.Join(s.dir, file)
		}
		data, err := s.readFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: read %s: %w", strings.Replace(field, "_env", "_file", 1), file, err)
		}
		v = strings.TrimRight(string(data), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s: %s is empty", strings.Replace(field, "_env", "_file", 1), file)
		}
	} else {
		v = s.getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s: the environment variable %s is not set: set it to the secret (from a Kubernetes Secret, for instance)", field, env)
		}
	}
	return v, nil
}

// replacer masks every secret read, and the values of the variables the
// rest of the config reads secrets from (providers' tokens, webhook keys).
func (s *secrets) replacer(moreEnvs, values []string) *strings.Replacer {
	vals := append(append([]string(nil), s.values...), values...)
	for _, n := range moreEnvs {
		if v := s.getenv(n); v != "" {
			vals = append(vals, v)
		}
	}
	// Longest first, so that a secret containing another is masked whole.
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	var pairs []string
	for _, v := range vals {
		if len(v) >= 4 {
			pairs = append(pairs, v, "***")
		}
	}
	return strings.NewReplacer(pairs...)
}
