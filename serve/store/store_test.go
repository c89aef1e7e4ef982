package store

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/report"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func eval(key string, at time.Time) *Evaluation {
	return &Evaluation{Key: key, Platform: "github", Environment: "production", Repository: "acme/shop", ReceivedAt: at}
}

var t0 = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

func TestAdmitRefusesTheSameKeyAndTheSameDeliveryTwice(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	first, created, err := s.Admit(eval("run-1/production/7", t0), "delivery-a")
	if err != nil || !created || first.State != Pending {
		t.Fatalf("first admission: created=%v state=%q err=%v", created, first.State, err)
	}
	cases := map[string]struct {
		key, delivery string
	}{
		"a redelivery (same delivery id)":           {"run-1/production/7", "delivery-a"},
		"the same deployment under a new delivery":  {"run-1/production/7", "delivery-b"},
		"a known delivery id whatever the key says": {"forged", "delivery-a"},
		"the same deployment with no delivery id":   {"run-1/production/7", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, created, err := s.Admit(eval(tc.key, t0.Add(time.Second)), tc.delivery)
			if err != nil || created || got.ID != first.ID {
				t.Fatalf("created=%v id=%s err=%v, want the first evaluation %s", created, got.ID, err, first.ID)
			}
		})
	}
	e, _ := s.Get(first.ID)
	if len(e.Deliveries) != 2 || e.Deliveries[0] != "delivery-a" || e.Deliveries[1] != "delivery-b" {
		t.Errorf("deliveries = %v, want both delivery ids recorded once", e.Deliveries)
	}
	if p, _ := s.Pending(); len(p) != 1 {
		t.Errorf("pending = %d, want 1", len(p))
	}
}

func TestAFinishedKeyTakesANewInstanceButNotARepeat(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	first := eval("run-1/production", t0)
	first.Instance = "deployment-1"
	if _, created, _ := s.Admit(first, "d-1"); !created {
		t.Fatal("first admission refused")
	}
	second := eval("run-1/production", t0)
	second.Instance = "deployment-2"
	if got, created, _ := s.Admit(second, "d-2"); created || got.ID != first.ID {
		t.Fatal("another deployment of the run while it is pending must join the pending evaluation")
	}
	first.State = Done
	if err := s.Save(first); err != nil {
		t.Fatal(err)
	}
	again := eval("run-1/production", t0)
	again.Instance = "deployment-1"
	if _, created, _ := s.Admit(again, "d-3"); created {
		t.Error("the finished deployment itself was admitted again")
	}
	rerun := eval("run-1/production", t0.Add(time.Minute))
	rerun.Instance = "deployment-3"
	got, created, err := s.Admit(rerun, "d-4")
	if err != nil || !created || got.ID == first.ID {
		t.Fatalf("a re-run (new deployment after the review): created=%v err=%v, want a new evaluation", created, err)
	}
	if got, created, _ := s.Admit(eval("run-1/production", t0), "d-1"); created || got.ID != first.ID {
		t.Error("a known delivery id must still name its own evaluation")
	}
}

func TestConcurrentAdmissionsOfOneKeyCreateOneEvaluation(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.Admit(eval("same", t0.Add(time.Duration(i))), "")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("created %d evaluations for one key, want 1", created)
	}
}

func TestPendingSurvivesAReopenAndDoneDropsTheJobToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e := eval("azure/plan/job/task", t0)
	e.Platform = "azure"
	e.Azure = &AzureCallback{PlanURL: "https://dev.azure.com/acme/", PlanID: "p", JobID: "j", TaskInstanceID: "t", AuthToken: "job-token"}
	if _, _, err := s.Admit(e, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600 (it holds job tokens while checks are pending)", fi.Mode().Perm())
	}
	s = open(t, path)
	p, err := s.Pending()
	if err != nil || len(p) != 1 || p[0].Azure.AuthToken != "job-token" {
		t.Fatalf("after a reopen: pending=%v err=%v, want the evaluation with its token", p, err)
	}
	p[0].State = Done
	p[0].Decision = &report.Decision{Decision: report.Pass}
	if err := s.Save(p[0]); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Pending(); len(p) != 0 {
		t.Errorf("pending = %d after done, want 0", len(p))
	}
	got, _ := s.Get(e.ID)
	if got.Azure.AuthToken != "" || got.Decision.Decision != report.Pass {
		t.Errorf("done evaluation: token %q decision %+v, want no token and the decision", got.Azure.AuthToken, got.Decision)
	}
}

func TestListIsNewestFirstAndFilters(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	for i, env := range []string{"production", "staging", "Production", "production"} {
		e := eval(string(rune('a'+i)), t0.Add(time.Duration(i)*time.Minute))
		e.Environment = env
		if _, _, err := s.Admit(e, ""); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(Query{Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	var keys string
	for _, e := range got {
		keys += e.Key
	}
	if keys != "dca" {
		t.Errorf("keys = %q, want dca (production in any case, newest first)", keys)
	}
	if got, _ := s.List(Query{Environment: "production", Limit: 1}); len(got) != 1 || got[0].Key != "d" {
		t.Errorf("limit 1 = %v, want the newest", got)
	}
}

func TestPruneDropsOldFinishedEvaluationsOnly(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	old, _, _ := s.Admit(eval("old", t0), "d-old")
	oldPending, _, _ := s.Admit(eval("old-pending", t0.Add(time.Second)), "")
	recent, _, _ := s.Admit(eval("recent", t0.Add(48*time.Hour)), "")
	for _, e := range []*Evaluation{old, recent} {
		e.State = Done
		if err := s.Save(e); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(t0.Add(24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (err %v), want 1", n, err)
	}
	if e, _ := s.Get(old.ID); e != nil {
		t.Error("the old finished evaluation is still there")
	}
	for _, e := range []*Evaluation{oldPending, recent} {
		if got, _ := s.Get(e.ID); got == nil {
			t.Errorf("%s was pruned", e.Key)
		}
	}
	if _, created, _ := s.Admit(eval("old", t0.Add(72*time.Hour)), "d-old"); !created {
		t.Error("a pruned key and delivery must be admitted again")
	}
}

func TestASecondProcessCannotOpenTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	open(t, path)
	_, err := Open(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}
