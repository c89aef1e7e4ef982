package slo

import (
	"net/url"
	"sort"
	"strings"
	"time"
)

func buildProvider(rp rawProvider, path string, ps *problems) Provider {
	p := Provider{
		Name: rp.Name, Type: rp.Type, URL: rp.URL, Headers: rp.Headers,
		BearerTokenEnv: rp.BearerTokenEnv, PartialResponse: rp.PartialResponse,
		Site: rp.Site, APIKeyEnv: rp.APIKeyEnv, AppKeyEnv: rp.AppKeyEnv,
		AppID: rp.AppID, WorkspaceID: rp.WorkspaceID, Auth: rp.Auth, ClientID: rp.ClientID,
		Targets: rp.Targets, File: rp.File, Values: rp.Values,
		Timeout: 30 * time.Second, Retries: 3, MaxConcurrency: 10,
	}
	if rp.BasicAuth != nil {
		p.BasicAuthUserEnv, p.BasicAuthPasswordEnv = rp.BasicAuth.UsernameEnv, rp.BasicAuth.PasswordEnv
	}
	if rp.TLS != nil {
		p.CAFile, p.InsecureSkipVerify = rp.TLS.CAFile, rp.TLS.InsecureSkipVerify
	}
	if p.Name == "" {
		ps.add(path+".name", "required: the name SLOs refer to with provider:, e.g. prom")
	} else if !namePattern.MatchString(p.Name) {
		ps.add(path+".name", "%q: use letters, digits and _ . : -", p.Name)
	}
	if !contains(providerTypes, p.Type) {
		if p.Type == "" {
			ps.add(path+".type", "required: one of %s", strings.Join(providerTypes, ", "))
		} else {
			ps.add(path+".type", "unknown provider type %q: use one of %s", p.Type, strings.Join(providerTypes, ", "))
		}
		return p
	}
	if rp.Timeout != "" {
		if d, err := ParseDuration(rp.Timeout); err != nil {
			ps.add(path+".timeout", "%v", err)
		} else {
			p.Timeout = d
		}
	}
	if rp.Retries != nil {
		if *rp.Retries < 0 || *rp.Retries > 10 {
			ps.add(path+".retries", "must be between 0 and 10, got %d", *rp.Retries)
		}
		p.Retries = *rp.Retries
	}
	if rp.MaxResponseBytes != nil {
		if *rp.MaxResponseBytes < 1024 {
			ps.add(path+".max_response_bytes", "must be at least 1024 (bytes), got %d; the default is 52428800 (50 MiB)", *rp.MaxResponseBytes)
		}
		p.MaxResponseBytes = *rp.MaxResponseBytes
	}
	if rp.MaxConcurrency != nil {
		if *rp.MaxConcurrency < 1 || *rp.MaxConcurrency > 100 {
			ps.add(path+".max_concurrency", "must be between 1 and 100, got %d", *rp.MaxConcurrency)
		}
		p.MaxConcurrency = *rp.MaxConcurrency
	}
	for _, e := range []struct{ key, env string }{
		{"bearer_token_env", p.BearerTokenEnv}, {"basic_auth.username_env", p.BasicAuthUserEnv},
		{"basic_auth.password_env", p.BasicAuthPasswordEnv}, {"api_key_env", p.APIKeyEnv}, {"app_key_env", p.AppKeyEnv},
	} {
		if key, env := e.key, e.env; env != "" && !envPattern.MatchString(env) {
			// Never echo the value: it may be the secret itself.
			ps.add(path+"."+key, "must name an environment variable (letters, digits and _), not hold the secret itself")
		}
	}
	if (p.BasicAuthUserEnv == "") != (p.BasicAuthPasswordEnv == "") && rp.BasicAuth != nil {
		ps.add(path+".basic_auth", "needs both username_env and password_env")
	}
	if p.BearerTokenEnv != "" && p.BasicAuthUserEnv != "" {
		ps.add(path+".bearer_token_env", "use either bearer_token_env or basic_auth, not both")
	}
	if p.URL != "" {
		u, err := url.Parse(p.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			ps.add(path+".url", "%q is not an http(s) URL", redactURL(p.URL))
		case u.User != nil:
			ps.add(path+".url", "must not carry credentials: use basic_auth with username_env and password_env")
		}
	}
	checkProviderFields(rp, p.Type, path, ps)
	switch p.Type {
	case "prometheus":
		if p.URL == "" {
			ps.add(path+".url", "required for a prometheus provider, e.g. http://127.0.0.1:9090")
		}
	case "datadog":
		if p.Site == "" {
			p.Site = "datadoghq.com"
		}
		if p.APIKeyEnv == "" {
			p.APIKeyEnv = "DD_API_KEY"
		}
		if p.AppKeyEnv == "" {
			p.AppKeyEnv = "DD_APP_KEY"
		}
	case "appinsights":
		if (p.AppID == "") == (p.WorkspaceID == "") {
			ps.add(path+".app_id", "set exactly one of app_id (Application Insights) or workspace_id (Log Analytics)")
		}
		auths := []string{"default", "environment", "workload_identity", "managed_identity", "azure_cli", "api_key"}
		if p.Auth == "" {
			p.Auth = "default"
		}
		if !contains(auths, p.Auth) {
			ps.add(path+".auth", "unknown auth %q: use one of %s", p.Auth, strings.Join(auths, ", "))
		}
		if p.Auth == "api_key" && p.APIKeyEnv == "" {
			ps.add(path+".api_key_env", "required with auth: api_key")
		}
	case "scrape":
		if len(p.Targets) == 0 {
			ps.add(path+".targets", "required: the /metrics URLs per scope, e.g. {canary: [http://10.0.0.5:8080/metrics]}")
		}
		for _, scope := range sortedKeys(p.Targets) {
			if !contains([]string{"service", "canary", "baseline"}, scope) {
				ps.add(path+".targets."+scope, "unknown scope %q: use service, canary or baseline", scope)
			}
			for _, t := range p.Targets[scope] {
				if u, err := url.Parse(t); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					ps.add(path+".targets."+scope, "%q is not an http(s) URL", redactURL(t))
				}
			}
		}
	case "static":
		if p.File == "" && p.Values == nil {
			ps.add(path, "a static provider needs values or file")
		}
	}
	return p
}

// checkProviderFields rejects keys that the provider's type does not use.
func checkProviderFields(rp rawProvider, typ, path string, ps *problems) {
	set := map[string]bool{
		"url": rp.URL != "", "headers": rp.Headers != nil, "bearer_token_env": rp.BearerTokenEnv != "",
		"basic_auth": rp.BasicAuth != nil, "tls": rp.TLS != nil, "partial_response": rp.PartialResponse != nil,
		"site": rp.Site != "", "api_key_env": rp.APIKeyEnv != "", "app_key_env": rp.AppKeyEnv != "",
		"app_id": rp.AppID != "", "workspace_id": rp.WorkspaceID != "", "auth": rp.Auth != "", "client_id": rp.ClientID != "",
		"targets": rp.Targets != nil, "file": rp.File != "", "values": rp.Values != nil,
		"timeout": rp.Timeout != "", "retries": rp.Retries != nil, "max_concurrency": rp.MaxConcurrency != nil,
		"max_response_bytes": rp.MaxResponseBytes != nil,
	}
	httpKeys := []string{"timeout", "retries", "max_concurrency", "max_response_bytes"}
	allowed := map[string][]string{
		"prometheus":  append([]string{"url", "headers", "bearer_token_env", "basic_auth", "tls", "partial_response"}, httpKeys...),
		"datadog":     append([]string{"url", "site", "api_key_env", "app_key_env", "tls"}, httpKeys...),
		"appinsights": append([]string{"url", "app_id", "workspace_id", "auth", "client_id", "api_key_env", "tls"}, httpKeys...),
		"scrape":      append([]string{"targets", "headers", "bearer_token_env", "basic_auth", "tls"}, httpKeys...),
		"static":      {"file", "values"},
	}[typ]
	var keys []string
	for k, v := range set {
		if v && !contains(allowed, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ps.add(path+"."+k, "not used by a %s provider: remove it", typ)
	}
}
