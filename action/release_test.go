package action

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeBinary stands in for sloguard in the archives: it says which release
// it is, records the INPUT_* variables it got, and sets the outputs the
// real binary sets.
func fakeBinary(version string) []byte {
	return []byte(`#!/bin/sh
echo "sloguard ` + version + ` ran with $# argument(s)"
env | grep '^INPUT_' | sort > "$RUNNER_TEMP/inputs-seen"
printf 'decision=pass\nbudget-remaining=42.00\nreport=%s\nrolled-back=false\n' "$RUNNER_TEMP/sloguard/check.json" >> "$GITHUB_OUTPUT"
`)
}

// release is one tag's assets, named as .goreleaser.yaml names them.
type release struct {
	tag    string
	assets map[string][]byte
}

// newRelease builds the archives of every supported platform (tar.gz, zip
// for Windows) and the checksums file, as GoReleaser lays them out.
func newRelease(t *testing.T, tag string) *release {
	t.Helper()
	v := strings.TrimPrefix(tag, "v")
	r := &release{tag: tag, assets: map[string][]byte{}}
	for _, p := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"} {
		bin := fakeBinary(tag)
		if strings.HasPrefix(p, "windows") {
			r.assets["sloguard_"+v+"_"+p+".zip"] = zipOf(t, map[string][]byte{"sloguard.exe": bin, "README.md": []byte("readme\n")})
		} else {
			r.assets["sloguard_"+v+"_"+p+".tar.gz"] = tarGzOf(t, map[string][]byte{"sloguard": bin, "README.md": []byte("readme\n")})
		}
	}
	r.sign()
	return r
}

// sign (re)writes the checksums file over the assets.
func (r *release) sign() {
	sums := "sloguard_" + strings.TrimPrefix(r.tag, "v") + "_checksums.txt"
	delete(r.assets, sums)
	var names []string
	for n := range r.assets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		h := sha256.Sum256(r.assets[n])
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h[:]), n)
	}
	r.assets[sums] = []byte(b.String())
}

func tarGzOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range sortedKeys(files) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortedKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// server is the releases of sloguard/sloguard and its git repository on
// loopback: /sloguard/sloguard/releases/download/<tag>/<asset>, and the
// repository through git's own smart HTTP server (git http-backend), which
// the install script asks for tags with git ls-remote.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	releases map[string]*release
	gets     []string // asset downloads, "<tag>/<asset>"
	repo     string   // the bare repository
	commits  int
}

func newServer(t *testing.T, releases ...*release) *server {
	t.Helper()
	s := &server{releases: map[string]*release{}}
	for _, r := range releases {
		s.releases[r.tag] = r
	}
	projects := t.TempDir()
	s.repo = filepath.Join(projects, "sloguard", "sloguard")
	git(t, "", "init", "--quiet", "--bare", s.repo)
	execPath := strings.TrimSpace(git(t, "", "--exec-path"))
	backend := &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + projects, "GIT_HTTP_EXPORT_ALL=1"},
	}
	const prefix = "/sloguard/sloguard/releases/download/"
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			backend.ServeHTTP(w, r)
			return
		}
		tag, asset, _ := strings.Cut(rest, "/")
		s.mu.Lock()
		s.gets = append(s.gets, rest)
		rel := s.releases[tag]
		s.mu.Unlock()
		if rel == nil || rel.assets[asset] == nil {
			http.Error(w, "Not Found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(rel.assets[asset])
	}))
	t.Cleanup(s.Close)
	return s
}

// releasesURL is the value for the releases-url input.
func (s *server) releasesURL() string { return s.URL + "/sloguard/sloguard/releases" }

func (s *server) downloads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.gets...)
}

// commit adds an empty commit on main with the given tags (annotated ones
// start with "a:"), and returns its SHA.
func (s *server) commit(t *testing.T, tags ...string) string {
	t.Helper()
	work := t.TempDir()
	git(t, work, "clone", "--quiet", s.repo, ".")
	s.commits++ // distinct messages: root commits made in the same second would be one
	git(t, work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "--allow-empty", "-m", fmt.Sprintf("commit %d", s.commits))
	for _, tag := range tags {
		if name, ok := strings.CutPrefix(tag, "a:"); ok {
			git(t, work, "-c", "user.name=t", "-c", "user.email=t@example.com", "tag", "-a", "-m", name, name)
		} else {
			git(t, work, "tag", tag)
		}
	}
	git(t, work, "push", "--quiet", "--force", "--tags", "origin", "HEAD:refs/heads/main")
	return strings.TrimSpace(git(t, work, "rev-parse", "HEAD"))
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
