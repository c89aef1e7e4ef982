package azdo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/internal/servetest"
)

func TestTheCheckIsReadFromTheDefaultHeaders(t *testing.T) {
	fake := servetest.NewAzure("tok")
	defer fake.Close()
	h := http.Header{}
	fake.Check("plan", "job", "task").Headers(h)
	c, err := FromHeaders(h, true)
	if err != nil || c.PlanID != "plan" || c.AuthToken != "tok" || c.HubName != "build" {
		t.Fatalf("FromHeaders = %+v, %v", c, err)
	}
	h.Del("AuthToken")
	if _, err := FromHeaders(h, false); err != nil {
		t.Errorf("the synchronous mode needs no token: %v", err)
	}
	if _, err := FromHeaders(h, true); err == nil || !strings.Contains(err.Error(), "AuthToken missing") {
		t.Errorf("async without a token: %v", err)
	}
	h.Set("HubName", "build/../../x")
	if _, err := FromHeaders(h, false); err == nil || !strings.Contains(err.Error(), "HubName are not ids") {
		t.Errorf("a hub name with slashes: %v", err)
	}
}

func TestOrganisationsCompareOneWay(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"collection URI":    {"https://dev.azure.com/acme/", "https://dev.azure.com/acme"},
		"upper-case host":   {"HTTPS://Dev.Azure.com/acme", "https://dev.azure.com/acme"},
		"visualstudio.com":  {"https://acme.visualstudio.com/", "https://acme.visualstudio.com"},
		"server":            {"https://tfs.example/tfs/DefaultCollection/", "https://tfs.example/tfs/defaultcollection"},
		"organisation case": {"https://dev.azure.com/Acme/", "https://dev.azure.com/acme"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got, err := NormalizeOrg(tc.in); err != nil || got != tc.want {
				t.Errorf("NormalizeOrg(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"dev.azure.com/acme", "ftp://dev.azure.com/acme", "https://u:p@dev.azure.com/acme", "https://dev.azure.com/acme?x=1"} {
		if _, err := NormalizeOrg(bad); err == nil {
			t.Errorf("NormalizeOrg(%q) accepted", bad)
		}
	}
	c := Check{PlanURL: "https://dev.azure.com/acme-evil/"}
	if c.Allowed([]string{"https://dev.azure.com/acme"}) {
		t.Error("acme-evil passed for acme")
	}
}

func TestTheClientNeverCallsAnOrganisationNotAllowed(t *testing.T) {
	fake := servetest.NewAzure("tok")
	defer fake.Close()
	org, _ := NormalizeOrg(fake.Org())
	cl := NewClient(http.DefaultClient, []string{org})
	c := Check{PlanURL: "https://dev.azure.com/other/", ProjectID: "p", HubName: "build", PlanID: "plan", JobID: "j", TaskInstanceID: "t", AuthToken: "tok"}
	if err := cl.Complete(context.Background(), c, true); err == nil || !strings.Contains(err.Error(), "not in serve.azure.allowed_orgs") {
		t.Fatalf("Complete to another org: %v", err)
	}
	c.PlanURL = fake.Org()
	c.AuthToken = "expired"
	err := cl.Complete(context.Background(), c, true)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || !se.Permanent() {
		t.Fatalf("Complete with a bad token: %v, want a permanent 401", err)
	}
	if len(fake.Problems()) != 1 || len(fake.Events()) != 0 {
		t.Errorf("problems %v events %v", fake.Problems(), fake.Events())
	}
}
