// Package store keeps the evaluations of `sloguard serve` in one embedded
// bbolt file: pending ones survive a restart or a crash (every admission is
// committed, fsynced, before the platform gets its 2xx), and finished ones
// stay for the audit query until the retention drops them.
package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sloguard/sloguard/report"
)

// States of an evaluation.
const (
	Pending = "pending" // admitted; the platform has not had its answer yet
	Done    = "done"    // the platform has its answer (or sloguard gave up telling it)
)

// Evaluation is one deployment sloguard was asked to judge, from its
// arrival to the platform's answer.
type Evaluation struct {
	ID          string           `json:"id"`                 // set by Admit: time-ordered
	Key         string           `json:"key"`                // what makes requests one evaluation: a repeat finds it by its key
	Instance    string           `json:"instance,omitempty"` // tells a new request under a finished key (a re-run) from a repeat
	Platform    string           `json:"platform"`
	Mode        string           `json:"mode"` // github: review; azure: async | sync
	State       string           `json:"state"`
	Repository  string           `json:"repository,omitempty"` // GitHub owner/repo
	Project     string           `json:"project,omitempty"`    // Azure DevOps project
	Environment string           `json:"environment"`
	Matched     bool             `json:"matched"` // an environment entry of the config matched
	Policy      string           `json:"policy,omitempty"`
	SLOs        []string         `json:"slos,omitempty"`
	Watch       string           `json:"watch,omitempty"`   // the canary window, check_then_watch only
	Since       *time.Time       `json:"since,omitempty"`   // the canary's start the deployment named
	Invalid     string           `json:"invalid,omitempty"` // why the deployment's request cannot be honoured
	RunURL      string           `json:"run_url,omitempty"`
	ReceivedAt  time.Time        `json:"received_at"`
	FinishedAt  *time.Time       `json:"finished_at,omitempty"`
	Checked     *report.Decision `json:"checked,omitempty"` // the gate's decision while the watch runs: a restart resumes the watch
	Decision    *report.Decision `json:"decision,omitempty"`
	Outcome     string           `json:"outcome,omitempty"` // approved | rejected (GitHub), succeeded | failed (Azure)
	Comment     string           `json:"comment,omitempty"`
	Error       string           `json:"error,omitempty"`
	Attempts    int              `json:"callback_attempts,omitempty"`
	Deliveries  []string         `json:"deliveries,omitempty"` // GitHub delivery ids that named this evaluation
	GitHub      *GitHubCallback  `json:"github,omitempty"`
	Azure       *AzureCallback   `json:"azure,omitempty"`
}

// GitHubCallback is what the review of a deployment protection rule needs.
type GitHubCallback struct {
	Installation int64  `json:"installation"`
	Owner        string `json:"owner"`
	Repo         string `json:"repo"`
	RunID        int64  `json:"run_id"`
	DeploymentID int64  `json:"deployment_id"`
	Environment  string `json:"environment"`
	SHA          string `json:"sha,omitempty"`
	Ref          string `json:"ref,omitempty"`
}

// AzureCallback is what the TaskCompleted event and the check's log need.
// AuthToken is the job's token (valid 48 hours): kept only while the
// evaluation is pending, so that a restart can still call back, and
// dropped when it is done.
type AzureCallback struct {
	PlanURL        string `json:"plan_url"`
	ProjectID      string `json:"project_id"`
	HubName        string `json:"hub_name"`
	PlanID         string `json:"plan_id"`
	JobID          string `json:"job_id"`
	TimelineID     string `json:"timeline_id,omitempty"`
	TaskInstanceID string `json:"task_instance_id"`
	AuthToken      string `json:"auth_token,omitempty"`
}

var (
	bucketEvals      = []byte("evaluations") // id -> JSON
	bucketKeys       = []byte("keys")        // natural key -> id
	bucketDeliveries = []byte("deliveries")  // GitHub delivery id -> id
	bucketPending    = []byte("pending")     // id -> nothing
)

// ErrLocked means another process has the state file open.
var ErrLocked = errors.New("the state file is in use by another process (another sloguard serve?): give each instance its own --state")

// Store is the state file.
type Store struct {
	db *bolt.DB
}

// Open opens (or creates, mode 0600: it may hold job tokens) the state file.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open state file %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEvals, bucketKeys, bucketDeliveries, bucketPending} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// idTime is the time part of an id: ids sort by it, then by the file's
// sequence, so that listing newest first is a backwards scan.
const idTime = "20060102T150405.000000000Z"

// Admit stores e as pending, with a new id, unless it repeats one known:
// a known delivery id, or e.Key while its evaluation is pending or has the
// same Instance. Then it returns the known evaluation, and false, and
// records the delivery against it. A finished key with another Instance
// (a re-run of the same run) is a new evaluation. Concurrent admissions
// share one commit (bbolt's batch), fsynced before Admit returns.
func (s *Store) Admit(e *Evaluation, delivery string) (*Evaluation, bool, error) {
	var known *Evaluation
	err := s.db.Batch(func(tx *bolt.Tx) error {
		known = nil // Batch may run this function again
		evals, keys, dels := tx.Bucket(bucketEvals), tx.Bucket(bucketKeys), tx.Bucket(bucketDeliveries)
		var id []byte
		knownDelivery := false
		if delivery != "" {
			id = dels.Get([]byte(delivery))
			knownDelivery = id != nil
		}
		if id == nil {
			id = keys.Get([]byte(e.Key))
		}
		if id != nil {
			var k Evaluation
			if err := json.Unmarshal(evals.Get(id), &k); err != nil {
				return fmt.Errorf("evaluation %s: %w", id, err)
			}
			if knownDelivery || k.State == Pending || k.Instance == e.Instance {
				known = &k
				if delivery == "" || knownDelivery {
					return nil
				}
				k.Deliveries = append(k.Deliveries, delivery)
				if err := dels.Put([]byte(delivery), id); err != nil {
					return err
				}
				return put(tx, &k)
			}
		}
		seq, err := evals.NextSequence()
		if err != nil {
			return err
		}
		e.ID = fmt.Sprintf("%s-%010d", e.ReceivedAt.UTC().Format(idTime), seq)
		e.Deliveries = nil
		if delivery != "" {
			e.Deliveries = []string{delivery}
			if err := dels.Put([]byte(delivery), []byte(e.ID)); err != nil {
				return err
			}
		}
		e.State = Pending
		if err := keys.Put([]byte(e.Key), []byte(e.ID)); err != nil {
			return err
		}
		return put(tx, e)
	})
	if err != nil {
		return nil, false, fmt.Errorf("store evaluation: %w", err)
	}
	if known != nil {
		return known, false, nil
	}
	return e, true, nil
}

// Save writes e back. A done evaluation leaves the pending index and
// loses its secrets. Concurrent saves share a commit, as admissions do.
func (s *Store) Save(e *Evaluation) error {
	if e.State == Done && e.Azure != nil {
		e.Azure.AuthToken = ""
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	done := e.State == Done
	return s.db.Batch(func(tx *bolt.Tx) error { return putData(tx, e.ID, data, done) })
}

func put(tx *bolt.Tx, e *Evaluation) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return putData(tx, e.ID, data, e.State == Done)
}

func putData(tx *bolt.Tx, id string, data []byte, done bool) error {
	if err := tx.Bucket(bucketEvals).Put([]byte(id), data); err != nil {
		return err
	}
	if done {
		return tx.Bucket(bucketPending).Delete([]byte(id))
	}
	return tx.Bucket(bucketPending).Put([]byte(id), nil)
}

// Get returns one evaluation; nil when there is none.
func (s *Store) Get(id string) (*Evaluation, error) {
	var e *Evaluation
	err := s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketEvals).Get([]byte(id))
		if data == nil {
			return nil
		}
		e = &Evaluation{}
		return json.Unmarshal(data, e)
	})
	return e, err
}

// Pending returns the evaluations still owed an answer, oldest first.
func (s *Store) Pending() ([]*Evaluation, error) {
	var out []*Evaluation
	err := s.db.View(func(tx *bolt.Tx) error {
		evals := tx.Bucket(bucketEvals)
		return tx.Bucket(bucketPending).ForEach(func(id, _ []byte) error {
			var e Evaluation
			if err := json.Unmarshal(evals.Get(id), &e); err != nil {
				return fmt.Errorf("evaluation %s: %w", id, err)
			}
			out = append(out, &e)
			return nil
		})
	})
	return out, err
}

// Query filters List. Empty fields match everything; names compare
// case-insensitively, as the platforms compare them.
type Query struct {
	Environment string
	Repository  string
	Project     string
	Platform    string
	Limit       int // default 100
}

func (q Query) matches(e *Evaluation) bool {
	eq := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	return eq(q.Environment, e.Environment) && eq(q.Repository, e.Repository) && eq(q.Project, e.Project) && eq(q.Platform, e.Platform)
}

// List returns the evaluations q matches, newest first.
func (s *Store) List(q Query) ([]*Evaluation, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []*Evaluation
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvals).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e Evaluation
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("evaluation %s: %w", k, err)
			}
			if q.matches(&e) {
				out = append(out, &e)
			}
		}
		return nil
	})
	return out, err
}

// Prune deletes the finished evaluations received before cutoff, with
// their keys and delivery ids, and says how many went.
func (s *Store) Prune(cutoff time.Time) (int, error) {
	n := 0
	limit := []byte(cutoff.UTC().Format(idTime))
	err := s.db.Update(func(tx *bolt.Tx) error {
		evals, keys, dels, pending := tx.Bucket(bucketEvals), tx.Bucket(bucketKeys), tx.Bucket(bucketDeliveries), tx.Bucket(bucketPending)
		var gone []Evaluation
		c := evals.Cursor()
		for k, v := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, v = c.Next() {
			if pending.Get(k) != nil {
				continue
			}
			var e Evaluation
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("evaluation %s: %w", k, err)
			}
			gone = append(gone, e)
		}
		for _, e := range gone {
			for _, d := range e.Deliveries {
				if err := dels.Delete([]byte(d)); err != nil {
					return err
				}
			}
			if id := keys.Get([]byte(e.Key)); string(id) == e.ID {
				if err := keys.Delete([]byte(e.Key)); err != nil {
					return err
				}
			}
			if err := evals.Delete([]byte(e.ID)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
