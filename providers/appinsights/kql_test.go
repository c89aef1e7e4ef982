package appinsights

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

func TestScopeKQL(t *testing.T) {
	canary := providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"cloud_RoleName": "checkout-canary"}}
	tests := map[string]struct {
		query string
		scope providers.Scope
		want  string
		bad   string
	}{
		"the service scope leaves the query as written": {
			query: failedQ, want: failedQ,
		},
		"the filter goes right after the table": {
			query: failedQ, scope: canary,
			want: `requests | where cloud_RoleName == "checkout-canary" | where success == false | summarize sum(itemCount)`,
		},
		"several labels are joined with and, sorted": {
			query: allQ,
			scope: providers.Scope{Name: "canary", Labels: map[string]string{"cloud_RoleName": "checkout", "application_Version": "2.1.0"}},
			want:  `requests | where application_Version == "2.1.0" and cloud_RoleName == "checkout" | summarize sum(itemCount)`,
		},
		"let statements and comments come first": {
			query: "// failed requests\nlet threshold = 500;\nlet t = \"a;b\";\nrequests | where toint(resultCode) >= threshold | count",
			scope: canary,
			want:  "// failed requests\nlet threshold = 500;\nlet t = \"a;b\";\nrequests | where cloud_RoleName == \"checkout-canary\" | where toint(resultCode) >= threshold | count",
		},
		"a Log Analytics table name works the same": {
			query: `AppRequests | where Success == false | count`, scope: providers.Scope{Name: "baseline", Labels: map[string]string{"AppRoleName": "checkout"}},
			want: `AppRequests | where AppRoleName == "checkout" | where Success == false | count`,
		},
		"a bracketed table name is kept whole": {
			query: `['my requests'] | count`, scope: canary,
			want: `['my requests'] | where cloud_RoleName == "checkout-canary" | count`,
		},
		"a dotted label compares a dynamic field as a string": {
			query: allQ, scope: providers.Scope{Name: "canary", Labels: map[string]string{"customDimensions.track": "canary"}},
			want: `requests | where tostring(customDimensions.track) == "canary" | summarize sum(itemCount)`,
		},
		"values are escaped as KQL strings": {
			query: allQ, scope: providers.Scope{Name: "canary", Labels: map[string]string{"cloud_RoleName": `a"b\c`}},
			want: `requests | where cloud_RoleName == "a\"b\\c" | summarize sum(itemCount)`,
		},
		"a union cannot be scoped": {
			query: `union requests, dependencies | count`, scope: canary, bad: `starts with "union"`,
		},
		"a cross-resource query cannot be scoped": {
			query: `app("other").requests | count`, scope: canary, bad: `starts with "app"`,
		},
		"a let that never ends is a bad query": {
			query: `let x = 1 requests | count`, scope: canary, bad: "end each with ;",
		},
		"a label that is not a column is a bad query": {
			query: allQ, scope: providers.Scope{Name: "canary", Labels: map[string]string{"role name": "x"}}, bad: `canary label "role name": not a KQL column name`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := resolve(tc.query, time.Hour, tc.scope)
			if tc.bad != "" {
				if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want ErrBadQuery saying %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if got != tc.want {
				t.Errorf("resolved\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestWindowIsAKQLTimespan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour: "30d", time.Hour: "1h", 90 * time.Minute: "90m", 5 * time.Minute: "5m",
		30 * time.Second: "30s", 1500 * time.Millisecond: "1500ms",
	} {
		got, err := resolve(`requests | where timestamp > ago({{.window}}) | count`, d, providers.Scope{})
		if err != nil || got != `requests | where timestamp > ago(`+want+`) | count` {
			t.Errorf("window %s: %q, %v; want ago(%s)", d, got, err, want)
		}
	}
}
