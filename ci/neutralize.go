package ci

import (
	"strings"
	"unicode"
)

// Neutralizer returns the filter that keeps untrusted text (backend
// bodies, query results, rollback command output, webhook responses) from
// becoming a workflow command on the platform the environment names: nil
// outside GitHub Actions and Azure Pipelines, where no runner reads
// commands.
func Neutralizer(getenv func(string) string) func(string) string {
	if PlatformName(getenv) == "local" {
		return nil
	}
	return Neutralize
}

// PlatformName is "github", "azure" or "local", as Detect would choose.
func PlatformName(getenv func(string) string) string {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return "github"
	case getenv("TF_BUILD") == "True" || getenv("TF_BUILD") == "true":
		return "azure"
	}
	return "local"
}

// Neutralize breaks every workflow command a line of untrusted text could
// start, for both runners, and leaves the text readable:
//   - GitHub runs a line that starts with "::" once leading white space is
//     trimmed: the "::" becomes ": :".
//   - GitHub's older syntax "##[cmd]" and Azure's "##vso[cmd]" (and its
//     "##[group]") are found anywhere in a line: the "##" becomes "# #".
//
// Both runners also end a line at a carriage return, so each CR-separated
// piece is treated as a line of its own.
func Neutralize(line string) string {
	if !strings.Contains(line, "::") && !strings.Contains(line, "##") {
		return line
	}
	parts := strings.Split(line, "\r")
	for i, p := range parts {
		t := strings.TrimLeftFunc(p, unicode.IsSpace)
		if strings.HasPrefix(t, "::") {
			p = p[:len(p)-len(t)] + ": :" + t[2:]
		}
		parts[i] = breakHashes(p)
	}
	return strings.Join(parts, "\r")
}

// breakHashes turns "##[" and "##vso[" (in any case) into "# #[" and
// "# #vso[".
func breakHashes(s string) string {
	if !strings.Contains(s, "##") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && i+1 < len(s) && s[i+1] == '#' {
			rest := s[i+2:]
			if strings.HasPrefix(rest, "[") || (len(rest) >= 4 && strings.EqualFold(rest[:4], "vso[")) {
				b.WriteString("# ")
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
