package slo

import (
	"fmt"
	"net/url"
	"time"
)

// buildProviders builds the configured providers, or the default one
// when the file names none.
func buildProviders(raw *rawConfig, ts *types, ps *problems, opts Options) []Provider {
	var out []Provider
	names := map[string]bool{}
	for i, rp := range raw.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		p := buildProvider(rp, path, ts, ps)
		if p.Name != "" && names[p.Name] {
			ps.add(path+".name", "duplicate provider name %q: SLOs refer to providers by name, so names must be unique", p.Name)
		}
		names[p.Name] = true
		out = append(out, p)
	}
	if len(out) == 0 && opts.Default != nil {
		keys := make([][2]string, 0, len(opts.Default.Keys))
		for _, k := range sortedKeys(opts.Default.Keys) {
			keys = append(keys, [2]string{k, opts.Default.Keys[k]})
		}
		out = append(out, buildProvider(rawProvider{Name: "default", Type: opts.Default.Type, node: mappingNode(keys, 0), flag: opts.Default.Flag}, "providers[0]", ts, ps))
	}
	return out
}

// buildProvider checks a provider's name and type and hands the rest of
// its block to its type.
func buildProvider(rp rawProvider, path string, ts *types, ps *problems) Provider {
	p := Provider{Name: rp.Name, Type: rp.Type}
	if p.Name == "" {
		ps.add(path+".name", "required: the name SLOs refer to with provider:, e.g. prom")
	} else if !namePattern.MatchString(p.Name) {
		ps.add(path+".name", "%q: use letters, digits and _ . : -", p.Name)
	}
	pt, ok := ts.byName[p.Type]
	switch {
	case !ok && p.Type == "":
		ps.add(path+".type", "required: one of %s", ts.names())
	case !ok:
		ps.add(path+".type", "unknown provider type %q: use one of %s", p.Type, ts.names())
	default:
		b := ts.block(pt, rp.node, path, ps)
		b.flag = rp.flag
		p.Settings = pt.Decode(b)
	}
	return p
}

// CheckEnvName reports a key that must name an environment variable but
// holds something else, without echoing it: it may be the secret itself.
func CheckEnvName(b *Block, key, name string) {
	if name != "" && !envPattern.MatchString(name) {
		b.Problem(key, "must name an environment variable (letters, digits and _), not hold the secret itself")
	}
}

// CheckURL reports a URL that is not http(s) or that carries
// credentials, quoting it without what may be secret.
func CheckURL(b *Block, key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		b.Problem(key, "%q is not an http(s) URL", redactURL(raw))
	case u.User != nil:
		b.Problem(key, "must not carry credentials: use basic_auth with username_env and password_env")
	}
}

// CheckDuration parses a duration written under key, reporting what is
// wrong with it; def when it is not written or wrong.
func CheckDuration(b *Block, key, written string, def time.Duration) time.Duration {
	if written == "" {
		return def
	}
	d, err := ParseDuration(written)
	if err != nil {
		b.Problem(key, "%v", err)
		return def
	}
	return d
}

// Contains reports whether list holds v.
func Contains(list []string, v string) bool { return contains(list, v) }

// RedactURL is a URL as a problem may quote it: without credentials,
// query or fragment.
func RedactURL(raw string) string { return redactURL(raw) }
