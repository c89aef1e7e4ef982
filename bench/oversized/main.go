// Command oversized prints the peak RSS of `sloguard check` on five SLOs
// whose backend answers too much: a 100 MB stream without a
// Content-Length, a gzip bomb (a small body that inflates to 2 GiB), and
// 22 MB answers with their Content-Length (under max_response_bytes: read,
// then refused as no Prometheus answer). Each runs the real binary as a
// subprocess against a loopback server that answers every query so; the
// figure is the process's peak resident set (rusage), with its exit code
// and the first line of its error.
//
//	go run ./bench/oversized [-bin path/to/sloguard]
//
// Without -bin it builds ./cmd/sloguard. To compare with an earlier
// version, build that one and pass it with -bin. It prints; it asserts
// nothing.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sloguard/sloguard/internal/peakrss"
)

func main() {
	bin := flag.String("bin", "", "the sloguard binary to measure (default: build ./cmd/sloguard)")
	slos := flag.Int("slos", 5, "SLOs in the config (each sends its queries to the same backend)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *bin, *slos); err != nil {
		fmt.Fprintf(os.Stderr, "bench/oversized: %v\n", err)
		os.Exit(1)
	}
}

// scenario is how the backend answers every query.
type scenario struct {
	name   string
	answer http.HandlerFunc
}

func scenarios() ([]scenario, error) {
	bomb, err := gzipBomb(2 << 30)
	if err != nil {
		return nil, err
	}
	return []scenario{
		{"100 MB streamed, no Content-Length", func(w http.ResponseWriter, _ *http.Request) { fill(w, 100e6) }},
		{fmt.Sprintf("gzip bomb: %.1f MB inflating to 2 GiB", float64(len(bomb))/1e6), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
			_, _ = w.Write(bomb)
		}},
		{"22 MB with Content-Length", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(22e6))
			fill(w, 22e6)
		}},
	}, nil
}

// fill writes n bytes of filler, stopping when the client hangs up.
func fill(w io.Writer, n int) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for n > 0 {
		m, err := w.Write(chunk[:min(len(chunk), n)])
		if err != nil {
			return
		}
		n -= m
	}
}

// gzipBomb gzips size zero bytes: about a thousandth of size.
func gzipBomb(size int64) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(zeros)) {
		if _, err := zw.Write(zeros); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func run(ctx context.Context, w io.Writer, bin string, n int) error {
	dir, err := os.MkdirTemp("", "sloguard-oversized")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "sloguard")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sloguard").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v: %s", err, out)
		}
	}
	list, err := scenarios()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sloguard check, %d SLOs on one prometheus provider (max_concurrency 10, max_response_bytes 50 MiB): %s\n\n", n, bin)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backend answers\tpeak RSS\texit\terror")
	for _, sc := range list {
		srv := httptest.NewServer(sc.answer)
		cfg := filepath.Join(dir, "sloguard.yaml")
		if err := os.WriteFile(cfg, []byte(config(srv.URL, n)), 0o600); err != nil {
			srv.Close()
			return err
		}
		rss, code, msg, err := measure(ctx, bin, cfg)
		srv.CloseClientConnections()
		srv.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.0f MiB\t%d\t%s\n", sc.name, float64(rss)/(1<<20), code, msg)
	}
	return tw.Flush()
}

func config(url string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nproviders:\n  - {name: prom, type: prometheus, url: %q, retries: 0}\nslos:\n", url)
	for i := range n {
		fmt.Fprintf(&b, "  - name: svc-%d\n    provider: prom\n    objective: 99.9\n    window: 30d\n    sli:\n", i)
		fmt.Fprintf(&b, "      error_query: sum(rate(http_requests_total{svc=\"%d\",code=~\"5..\"}[{{.window}}]))\n", i)
		fmt.Fprintf(&b, "      total_query: sum(rate(http_requests_total{svc=\"%d\"}[{{.window}}]))\n", i)
	}
	return b.String()
}

// measure runs check once: its peak RSS, exit code, and what it said
// about the answers (from the verdict's reason).
func measure(ctx context.Context, bin, cfg string) (rss int64, code int, msg string, err error) {
	cmd := exec.CommandContext(ctx, bin, "check", "-c", cfg)
	cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=", "TF_BUILD=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, 0, "", fmt.Errorf("run %s: %w", bin, err)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if i := strings.Index(l, "query "); i >= 0 {
			msg, _, _ = strings.Cut(l[i:], ";")
			break
		}
	}
	return peakrss.Of(cmd.ProcessState), cmd.ProcessState.ExitCode(), msg, nil
}
