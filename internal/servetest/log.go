package servetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// Log collects what a server writes from many goroutines (its log), for
// tests to read while it runs.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// refusals records the requests a fake platform refused, as the platform
// would have: tests assert there are none.
type refusals struct {
	mu   sync.Mutex
	list []string
}

// Problems lists the requests the platform would have refused.
func (r *refusals) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.list...)
}

// refuse records a refusal and answers it with the platform's error body.
func (r *refusals) refuse(w http.ResponseWriter, status int, ctype string, body func(msg string) any, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.list = append(r.list, msg)
	r.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body(msg))
}
