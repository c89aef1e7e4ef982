package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// streamer answers with n bytes of JSON-ish filler, without a
// Content-Length (chunked) unless declared, and counts what it managed to
// write before the client hung up.
func streamer(t testing.TB, n int64, declared bool) (*httptest.Server, *atomic.Int64) {
	var wrote atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if declared {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		}
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
		for left := n; left > 0; {
			c := chunk[:min(int64(len(chunk)), left)]
			m, err := w.Write(c)
			wrote.Add(int64(m))
			if err != nil {
				return
			}
			left -= int64(m)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &wrote
}

func TestAnAnswerOverTheLimitFailsAndIsNotReadOn(t *testing.T) {
	const limit = 1 << 20
	tests := map[string]bool{"a streamed 100 MB body": false, "a declared 100 MB Content-Length": true}
	for name, declared := range tests {
		t.Run(name, func(t *testing.T) {
			srv, wrote := streamer(t, 100<<20, declared)
			lg, logs := captureLog(slog.LevelWarn)
			err := readAll(t, fast(Options{Name: "prom", Retries: 3, MaxResponseBytes: limit, Logger: lg}), srv.URL+"/api/v1/query")
			var tl *TooLargeError
			if !errors.As(err, &tl) || tl.Limit != limit || tl.Name != "prom" {
				t.Fatalf("got %v, want a TooLargeError for prom at %d bytes", err, limit)
			}
			if want := `the answer is larger than max_response_bytes of "prom" (1048576 bytes, 1 MiB): narrow the query, or raise max_response_bytes`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want it to say %q", err, want)
			}
			// A declared size fails the request itself: one warning, naming
			// the URL (it used to say url=""). A streamed one fails the
			// caller's read, which reports it.
			if l := logs(); strings.Contains(l, `url=""`) || declared && !strings.Contains(l, "url="+srv.URL+"/api/v1/query") {
				t.Errorf("warnings:\n%s\nwant the URL named", l)
			}
			srv.CloseClientConnections()
			srv.Close() // waits for the handler: the count is final
			// The client stopped reading at the limit: what the server got
			// out is the limit plus what the sockets buffer, far below 100 MB.
			if n := wrote.Load(); n > limit+32<<20 {
				t.Errorf("the server wrote %d bytes: the client read on past the limit", n)
			}
		})
	}
}

func TestTheDefaultLimitAllowsLargeAnswers(t *testing.T) {
	srv, _ := streamer(t, 3<<20, false)
	status, body, err := get(t, fast(Options{}), context.Background(), srv.URL)
	if err != nil || status != 200 || len(body) != 3<<20 {
		t.Fatalf("got %d, %d bytes, %v; want the whole 3 MiB", status, len(body), err)
	}
}

// A dead port: each attempt is a debug line, the failure one warning with
// the URL once, its query cut; the error names the cause once.
func TestADeadPortIsOneConciseWarning(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/api/v1/query?token=t0k3n-in-url"
	dead.Close()
	log, captured := captureLog(slog.LevelWarn)
	_, _, err := get(t, fast(Options{Retries: 3, Logger: log}), context.Background(), url)
	if err == nil {
		t.Fatal("no error from a dead port")
	}
	logs := captured()
	if n := strings.Count(logs, "\n"); n != 1 || !strings.Contains(logs, "attempts=4") || !strings.Contains(logs, "/api/v1/query?…") {
		t.Errorf("want one warning naming the 4 attempts and the URL without its query, got:\n%s", logs)
	}
	msg := err.Error()
	if strings.Count(msg, "/api/v1/query") != 1 || strings.Count(msg, "dial tcp") != 1 || strings.Contains(logs, "t0k3n") {
		t.Errorf("error %q: want the URL and the cause once (and no token in the logs)", msg)
	}
}

// readAll GETs url and reads the whole body, as the API clients do.
func readAll(t *testing.T, o Options, url string) error {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Standard(c).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

// BenchmarkOversizedAnswer prints what an oversized answer costs with the
// default limit (50 MiB): the same B/op whether the server streams 100 MB
// or 1 GB, since reading stops at the limit. Run:
//
//	go test ./internal/httpclient -run '^$' -bench OversizedAnswer -benchtime 3x -benchmem
func BenchmarkOversizedAnswer(b *testing.B) {
	for _, size := range []int64{100 << 20, 1 << 30} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			srv, _ := streamer(b, size, false)
			c, err := New(Options{Name: "prom"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := Standard(c).Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.ReadAll(resp.Body) // as the API clients read it
				resp.Body.Close()
				var tl *TooLargeError
				if !errors.As(err, &tl) {
					b.Fatalf("got %v, want a TooLargeError", err)
				}
			}
			srv.CloseClientConnections()
		})
	}
}
