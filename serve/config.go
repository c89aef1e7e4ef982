package serve

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sloguard/sloguard/internal/safefile"
	"github.com/sloguard/sloguard/serve/azdo"
	"github.com/sloguard/sloguard/slo"
)

// Policies an environment may have.
const (
	PolicyCheck          = "check"            // gate.Check only
	PolicyCheckThenWatch = "check_then_watch" // gate.Check, then rollout.Watch over the canary window
)

// What happens to a deployment no environment entry matches.
const (
	DefaultApprove = "approve"
	DefaultReject  = "reject"
)

// Config is the validated serve: block.
type Config struct {
	Default           string        // DefaultApprove or DefaultReject
	MaxWatch          time.Duration // the longest canary window a deployment may name
	DecisionsTokenEnv string        // bearer token for GET /v1/decisions; "" leaves it open
	GitHub            *GitHubConfig // nil: the GitHub endpoint is off
	Azure             *AzureConfig  // nil: the Azure endpoint is off
	Environments      []Environment
}

// GitHubConfig says where the GitHub App's secrets are and which API it
// talks to.
type GitHubConfig struct {
	AppIDEnv          string
	PrivateKeyEnv     string
	PrivateKeyFile    string
	WebhookSecretEnv  string
	WebhookSecretFile string
	APIURL            string
}

// AzureConfig lists the organisations sloguard calls back, and where the
// credentials of the check's service connection are.
type AzureConfig struct {
	AllowedOrgs []string // normalised: scheme://host/path, no trailing slash, lower-case host
	UsernameEnv string
	PasswordEnv string
}

// Environment maps a GitHub and/or Azure DevOps environment to SLOs and a
// policy.
type Environment struct {
	GitHub *GitHubEnvironment
	Azure  *AzureEnvironment
	SLOs   []string // empty: every SLO
	Policy string
	Watch  time.Duration // check_then_watch: the window when the deployment names none
}

// GitHubEnvironment names a repository (owner/repo) and environment;
// either may be a glob (acme/*).
type GitHubEnvironment struct{ Repository, Environment string }

// AzureEnvironment names an Azure DevOps project and environment; either
// may be a glob.
type AzureEnvironment struct{ Project, Environment string }

// The serve: block's YAML shape, decoded strictly by slo.Section.
type rawServe struct {
	Default           string           `yaml:"default"`
	MaxWatch          string           `yaml:"max_watch"`
	DecisionsTokenEnv string           `yaml:"decisions_token_env"`
	GitHub            *rawGitHub       `yaml:"github"`
	Azure             *rawAzure        `yaml:"azure"`
	Environments      []rawEnvironment `yaml:"environments"`
}

type rawGitHub struct {
	AppIDEnv          string `yaml:"app_id_env"`
	PrivateKeyEnv     string `yaml:"private_key_env"`
	PrivateKeyFile    string `yaml:"private_key_file"`
	WebhookSecretEnv  string `yaml:"webhook_secret_env"`
	WebhookSecretFile string `yaml:"webhook_secret_file"`
	APIURL            string `yaml:"api_url"`
}

type rawAzure struct {
	AllowedOrgs []string `yaml:"allowed_orgs"`
	UsernameEnv string   `yaml:"username_env"`
	PasswordEnv string   `yaml:"password_env"`
}

type rawEnvironment struct {
	GitHub *rawGitHubEnvironment `yaml:"github"`
	Azure  *rawAzureEnvironment  `yaml:"azure"`
	SLOs   []string              `yaml:"slos"`
	Policy string                `yaml:"policy"`
	Watch  string                `yaml:"watch"`
}

type rawGitHubEnvironment struct {
	Repository  string `yaml:"repository"`
	Environment string `yaml:"environment"`
}

type rawAzureEnvironment struct {
	Project     string `yaml:"project"`
	Environment string `yaml:"environment"`
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseConfig validates the config's serve: block against the rest of the
// config (SLO names, canary policy). Every problem is reported at once,
// as a *slo.ConfigError with file:line. A config without the block serves
// nothing but the defaults: every deployment approved as unknown.
func ParseConfig(cfg *slo.Config) (*Config, error) {
	var raw rawServe
	var probs []slo.Problem
	sec := cfg.Serve
	if sec != nil {
		probs = sec.Decode(&raw)
	} else {
		sec = &slo.Section{File: cfg.Source, Key: "serve"}
	}
	p := &parser{sec: sec, cfg: cfg, probs: probs}
	out := p.build(&raw)
	if len(p.probs) > 0 {
		return nil, &slo.ConfigError{File: sec.File, Problems: p.probs}
	}
	return out, nil
}

type parser struct {
	sec   *slo.Section
	cfg   *slo.Config
	probs []slo.Problem
}

func (p *parser) add(path, format string, args ...any) {
	for _, q := range p.probs {
		if q.Path == "serve."+path || strings.HasPrefix(q.Path, "serve."+path+".") {
			return // YAML already said what is wrong there
		}
	}
	p.probs = append(p.probs, p.sec.Problem(path, format, args...))
}

func (p *parser) build(raw *rawServe) *Config {
	out := &Config{Default: DefaultApprove, MaxWatch: time.Hour, DecisionsTokenEnv: raw.DecisionsTokenEnv}
	switch raw.Default {
	case "", DefaultApprove:
	case DefaultReject:
		out.Default = DefaultReject
	default:
		p.add("default", "%q: use approve (deployments sloguard has no SLOs for go through, with a comment saying so) or reject", raw.Default)
	}
	if raw.MaxWatch != "" {
		out.MaxWatch = p.duration("max_watch", raw.MaxWatch)
	}
	p.envName("decisions_token_env", raw.DecisionsTokenEnv)
	out.GitHub = p.github(raw.GitHub)
	out.Azure = p.azure(raw.Azure)
	for i, re := range raw.Environments {
		e := p.environment(fmt.Sprintf("environments[%d]", i), re, out.MaxWatch)
		if e.GitHub != nil && out.GitHub == nil {
			out.GitHub = p.github(&rawGitHub{}) // an entry for GitHub turns the App on with its defaults
		}
		if e.Azure != nil && out.Azure == nil {
			p.add(fmt.Sprintf("environments[%d].azure", i), "Azure DevOps environments need serve.azure.allowed_orgs: the organisations sloguard may call back")
		}
		out.Environments = append(out.Environments, e)
	}
	return out
}

func (p *parser) duration(path, s string) time.Duration {
	d, err := slo.ParseDuration(s)
	if err != nil || d <= 0 {
		p.add(path, "%q is not a positive duration such as 10m or 1h", s)
		return 0
	}
	return d
}

func (p *parser) envName(path, name string) {
	if name != "" && !envName.MatchString(name) {
		p.add(path, "%q is not an environment variable name: name the variable that holds the secret, never the secret itself", name)
	}
}

// file reports a file the block names that the service would refuse to
// read (a FIFO, a device, a huge file): at validate time, not at start.
func (p *parser) file(path, name string) {
	if name == "" {
		return
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(p.cfg.Source), name)
	}
	if err := safefile.Refused(name, safefile.MaxCredential); err != nil {
		p.add(path, "%v", err)
	}
}

func (p *parser) github(r *rawGitHub) *GitHubConfig {
	if r == nil {
		return nil
	}
	g := &GitHubConfig{
		AppIDEnv: or(r.AppIDEnv, "GITHUB_APP_ID"), PrivateKeyEnv: or(r.PrivateKeyEnv, "GITHUB_APP_PRIVATE_KEY"), PrivateKeyFile: r.PrivateKeyFile,
		WebhookSecretEnv: or(r.WebhookSecretEnv, "GITHUB_WEBHOOK_SECRET"), WebhookSecretFile: r.WebhookSecretFile,
		APIURL: strings.TrimRight(or(r.APIURL, "https://api.github.com"), "/"),
	}
	if r.PrivateKeyEnv != "" && r.PrivateKeyFile != "" {
		p.add("github.private_key_file", "set private_key_env or private_key_file, not both")
	}
	if r.WebhookSecretEnv != "" && r.WebhookSecretFile != "" {
		p.add("github.webhook_secret_file", "set webhook_secret_env or webhook_secret_file, not both")
	}
	p.file("github.private_key_file", r.PrivateKeyFile)
	p.file("github.webhook_secret_file", r.WebhookSecretFile)
	p.envName("github.app_id_env", r.AppIDEnv)
	p.envName("github.private_key_env", r.PrivateKeyEnv)
	p.envName("github.webhook_secret_env", r.WebhookSecretEnv)
	if u, err := url.Parse(g.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		p.add("github.api_url", "%q is not an API root such as https://api.github.com or https://ghe.example/api/v3", g.APIURL)
	}
	return g
}

func (p *parser) azure(r *rawAzure) *AzureConfig {
	if r == nil {
		return nil
	}
	a := &AzureConfig{UsernameEnv: or(r.UsernameEnv, "SLOGUARD_AZURE_USERNAME"), PasswordEnv: or(r.PasswordEnv, "SLOGUARD_AZURE_PASSWORD")}
	p.envName("azure.username_env", r.UsernameEnv)
	p.envName("azure.password_env", r.PasswordEnv)
	if len(r.AllowedOrgs) == 0 {
		p.add("azure.allowed_orgs", "list the organisation URLs sloguard may call back, e.g. [https://dev.azure.com/acme]")
	}
	for i, o := range r.AllowedOrgs {
		n, err := azdo.NormalizeOrg(o)
		if err != nil {
			p.add(fmt.Sprintf("azure.allowed_orgs[%d]", i), "%q: %v", o, err)
			continue
		}
		a.AllowedOrgs = append(a.AllowedOrgs, n)
	}
	return a
}

func (p *parser) environment(at string, r rawEnvironment, maxWatch time.Duration) Environment {
	e := Environment{SLOs: r.SLOs, Policy: or(r.Policy, PolicyCheck)}
	if r.GitHub == nil && r.Azure == nil {
		p.add(at, "name a github: {repository, environment} and/or an azure: {project, environment}")
	}
	if g := r.GitHub; g != nil {
		e.GitHub = &GitHubEnvironment{Repository: g.Repository, Environment: g.Environment}
		p.pattern(at+".github.repository", g.Repository, "owner/repo, e.g. acme/shop or acme/*", true)
		p.pattern(at+".github.environment", g.Environment, "an environment name, e.g. production", false)
	}
	if a := r.Azure; a != nil {
		e.Azure = &AzureEnvironment{Project: a.Project, Environment: a.Environment}
		p.pattern(at+".azure.project", a.Project, "a project name, e.g. shop", false)
		p.pattern(at+".azure.environment", a.Environment, "an environment name, e.g. production", false)
	}
	known := map[string]slo.SLO{}
	for _, s := range p.cfg.SLOs {
		known[s.Name] = s
	}
	for i, n := range r.SLOs {
		s, ok := known[n]
		switch {
		case !ok:
			p.add(fmt.Sprintf("%s.slos[%d]", at, i), "no SLO named %q in the config; it has %s", n, sloNames(p.cfg.SLOs))
		case e.Policy == PolicyCheckThenWatch && s.SLI.Kind() == slo.KindRatio:
			p.add(fmt.Sprintf("%s.slos[%d]", at, i), "slo %q has a ratio SLI, which a watch cannot judge: write it as error_query (or good_query) with total_query, or use policy: check", n)
		}
	}
	switch e.Policy {
	case PolicyCheck:
		if r.Watch != "" {
			p.add(at+".watch", "a watch window needs policy: check_then_watch")
		}
	case PolicyCheckThenWatch:
		if len(r.SLOs) == 0 {
			for _, s := range p.cfg.SLOs {
				if s.SLI.Kind() == slo.KindRatio {
					p.add(at+".slos", "every SLO is watched by default, and %q has a ratio SLI, which a watch cannot judge: list the SLOs to watch", s.Name)
					break
				}
			}
		}
		e.Watch = p.cfg.Canary.Duration
		if r.Watch != "" {
			e.Watch = p.duration(at+".watch", r.Watch)
		}
		if maxWatch > 0 && e.Watch > maxWatch {
			p.add(at+".watch", "%s is longer than serve.max_watch (%s)", slo.FormatDuration(e.Watch), slo.FormatDuration(maxWatch))
		}
		if off := baselineOffset(p.cfg); off > 0 && e.Watch > off {
			p.add(at+".watch", "%s is longer than canary.baseline.offset (%s): the baseline would overlap the period after the deploy", slo.FormatDuration(e.Watch), slo.FormatDuration(off))
		}
	default:
		p.add(at+".policy", "%q: use check (the error budget gate) or check_then_watch (the gate, then a watch of the canary)", r.Policy)
	}
	return e
}

// pattern checks a name that may hold * and ? globs.
func (p *parser) pattern(at, v, what string, ownerRepo bool) {
	if v == "" {
		p.add(at, "required: %s", what)
		return
	}
	if _, err := path.Match(v, ""); err != nil {
		p.add(at, "%q is not a valid pattern: %v", v, err)
		return
	}
	if ownerRepo {
		if o, r, ok := strings.Cut(v, "/"); !ok || o == "" || r == "" || strings.Contains(r, "/") {
			p.add(at, "%q: want %s", v, what)
		}
	}
}

// baselineOffset is the canary policy's baseline-from-the-past offset; 0
// without one. A watch may not outlast it.
func baselineOffset(cfg *slo.Config) time.Duration {
	if b := cfg.Canary.Baseline; b != nil {
		return b.Offset
	}
	return 0
}

func sloNames(slos []slo.SLO) string {
	names := make([]string, len(slos))
	for i, s := range slos {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// MatchGitHub returns the first environment entry for a GitHub repository
// (owner/repo) and environment. GitHub compares both case-insensitively,
// and so does sloguard.
func (c *Config) MatchGitHub(repository, environment string) (Environment, bool) {
	for _, e := range c.Environments {
		if e.GitHub != nil && match(e.GitHub.Repository, repository) && match(e.GitHub.Environment, environment) {
			return e, true
		}
	}
	return Environment{}, false
}

// MatchAzure returns the first environment entry for an Azure DevOps
// project and environment, compared case-insensitively as Azure does.
func (c *Config) MatchAzure(project, environment string) (Environment, bool) {
	for _, e := range c.Environments {
		if e.Azure != nil && match(e.Azure.Project, project) && match(e.Azure.Environment, environment) {
			return e, true
		}
	}
	return Environment{}, false
}

func match(pattern, name string) bool {
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return ok
}
