package action

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// newRunner is a Linux x64 runner with its own tool cache, using the
// action at ref v1.2.3 from the server's releases.
func newRunner(t *testing.T, srv *server, toolCache string) *runner {
	t.Helper()
	tmp := t.TempDir()
	return &runner{
		t:      t,
		with:   map[string]string{"releases-url": srv.releasesURL()},
		github: map[string]string{"action_ref": "v1.2.3", "action_repository": "sloguard/sloguard", "token": "ghs_jobToken"},
		env:    map[string]string{"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TOOL_CACHE": toolCache, "GITHUB_PATH": filepath.Join(tmp, "path")},
		tmp:    tmp,
	}
}

func wantLine(t *testing.T, out, line string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if l == line {
			return
		}
	}
	t.Errorf("no line %q in:\n%s", line, out)
}

func TestInstallsVerifiesCachesAndRuns(t *testing.T) {
	srv := newServer(t, newRelease(t, "v1.2.3"))
	cache := t.TempDir()
	r := newRunner(t, srv, cache)
	r.with["command"] = "check"
	r.with["slo"] = "checkout-availability"
	res := r.run()
	if !res.ok {
		t.Fatalf("step %s failed:\n%s", res.failed, res.stdout)
	}

	bin := filepath.Join(cache, "sloguard", "1.2.3", "x64", "sloguard")
	install := res.steps["install"]
	if install["path"] != bin || install["version"] != "v1.2.3" || install["cache-hit"] != "false" {
		t.Errorf("install outputs %v, want path %s, version v1.2.3, cache-hit false", install, bin)
	}
	if _, err := os.Stat(filepath.Join(cache, "sloguard", "1.2.3", "x64.complete")); err != nil {
		t.Errorf("the tool cache lacks the marker of a complete install: %v", err)
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("the binary is missing or not executable: %v", err)
	}
	if p, _ := os.ReadFile(r.env["GITHUB_PATH"]); string(p) != filepath.Dir(bin)+"\n" {
		t.Errorf("$GITHUB_PATH: %q, want the binary's directory, so that later run: steps find sloguard", p)
	}
	wantLine(t, res.stdout, "sloguard v1.2.3 ran with 0 argument(s)")
	if got := srv.downloads(); !slices.Equal(got, []string{"v1.2.3/sloguard_1.2.3_checksums.txt", "v1.2.3/sloguard_1.2.3_linux_amd64.tar.gz"}) {
		t.Errorf("downloads %q", got)
	}

	// The run step hands every input over as INPUT_*, the token too.
	seen, err := os.ReadFile(filepath.Join(r.tmp, "inputs-seen"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"INPUT_COMMAND=check", "INPUT_SLO=checkout-availability", "INPUT_CONFIG=sloguard.yaml",
		"INPUT_CHECK_RUN=true", "INPUT_COMMENT=false", "INPUT_DRY_RUN=false", "INPUT_GITHUB_TOKEN=ghs_jobToken", "INPUT_ARGS="} {
		if !slices.Contains(strings.Split(string(seen), "\n"), want) {
			t.Errorf("the binary did not get %s:\n%s", want, seen)
		}
	}
	// The action's outputs are the run step's.
	want := map[string]string{"decision": "pass", "budget-remaining": "42.00", "report": filepath.Join(r.tmp, "sloguard", "check.json"), "rolled-back": "false", "version": "v1.2.3"}
	for k, v := range want {
		if res.outputs[k] != v {
			t.Errorf("output %s: %q, want %q", k, res.outputs[k], v)
		}
	}

	t.Run("a second run on the runner takes the binary from the tool cache", func(t *testing.T) {
		res := newRunner(t, srv, cache).run()
		if !res.ok {
			t.Fatalf("step %s failed:\n%s", res.failed, res.stdout)
		}
		if res.steps["install"]["cache-hit"] != "true" || res.steps["install"]["path"] != bin {
			t.Errorf("install outputs %v, want cache-hit true", res.steps["install"])
		}
		if n := len(srv.downloads()); n != 2 {
			t.Errorf("%d downloads in all, want the first run's 2", n)
		}
		wantLine(t, res.stdout, "sloguard v1.2.3 ran with 0 argument(s)")
	})

	t.Run("a cached binary that changed since it was verified is installed again", func(t *testing.T) {
		if err := os.WriteFile(bin, []byte("#!/bin/sh\necho tampered\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		res := newRunner(t, srv, cache).run()
		if !res.ok || res.steps["install"]["cache-hit"] != "false" {
			t.Fatalf("install outputs %v:\n%s", res.steps["install"], res.stdout)
		}
		wantLine(t, res.stdout, "sloguard v1.2.3 ran with 0 argument(s)")
	})
}

func TestInstallRefusesATamperedArchive(t *testing.T) {
	rel := newRelease(t, "v1.2.3")
	asset := "sloguard_1.2.3_linux_amd64.tar.gz"
	rel.assets[asset] = tarGzOf(t, map[string][]byte{"sloguard": []byte("#!/bin/sh\necho pwned > \"$RUNNER_TEMP/pwned\"\n")})
	srv := newServer(t, rel)
	cache := t.TempDir()
	r := newRunner(t, srv, cache)
	res := r.run()
	if res.ok || res.failed != "install" {
		t.Fatalf("want the install step to fail; failed %q:\n%s", res.failed, res.stdout)
	}
	if !strings.Contains(res.stdout, "::error title=sloguard install::checksum mismatch for "+asset+" of release v1.2.3: sloguard_1.2.3_checksums.txt says sha256 ") ||
		!strings.Contains(res.stdout, "The file was altered or damaged in transit; nothing was unpacked or run.") {
		t.Errorf("no clear error:\n%s", res.stdout)
	}
	if _, err := os.Stat(filepath.Join(r.tmp, "pwned")); err == nil {
		t.Error("the tampered binary ran")
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("the tool cache holds %d entries after a failed install", len(entries))
	}
}

func TestInstallFailsClearly(t *testing.T) {
	rel := newRelease(t, "v1.2.3")
	delete(rel.assets, "sloguard_1.2.3_darwin_arm64.tar.gz")
	noEntry := newRelease(t, "v1.3.0")
	delete(noEntry.assets, "sloguard_1.3.0_checksums.txt")
	noEntry.assets["sloguard_1.3.0_checksums.txt"] = []byte("0000  sloguard_1.3.0_windows_amd64.zip\n")
	tests := map[string]struct {
		os, arch, version string
		want              string
		downloads         int
	}{
		"a runner no release is built for": {
			os: "Windows", arch: "ARM64",
			want: "::error title=sloguard install::sloguard has no release for a Windows ARM64 runner: releases exist for Linux X64 and ARM64, macOS X64 and ARM64, Windows X64. " +
				"Run on one of those, or use the container image (uses: docker://...) or build from source (go install github.com/sloguard/sloguard/cmd/sloguard@VERSION).",
		},
		"a release that lacks the runner's archive": {
			os: "macOS", arch: "ARM64", downloads: 2,
			want: "::error title=sloguard install::release v1.2.3 has no sloguard_1.2.3_darwin_arm64.tar.gz (%URL%/download/v1.2.3/sloguard_1.2.3_darwin_arm64.tar.gz: HTTP 404): " +
				"is v1.2.3 released, and for darwin/arm64? Releases: %URL%",
		},
		"a version that was never released": {
			os: "Linux", arch: "X64", version: "v9.9.9", downloads: 1,
			want: "::error title=sloguard install::release v9.9.9 has no sloguard_9.9.9_checksums.txt (%URL%/download/v9.9.9/sloguard_9.9.9_checksums.txt: HTTP 404): " +
				"is v9.9.9 released, and for linux/amd64? Releases: %URL%",
		},
		"a checksums file without the archive": {
			os: "Linux", arch: "X64", version: "1.3.0", downloads: 2,
			want: "::error title=sloguard install::sloguard_1.3.0_checksums.txt of release v1.3.0 lists no sloguard_1.3.0_linux_amd64.tar.gz: nothing was installed.",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, rel, noEntry)
			r := newRunner(t, srv, t.TempDir())
			r.env["RUNNER_OS"], r.env["RUNNER_ARCH"] = tc.os, tc.arch
			if tc.version != "" {
				r.with["version"] = tc.version
			}
			res := r.run()
			if res.ok || res.failed != "install" {
				t.Fatalf("want the install step to fail; failed %q:\n%s", res.failed, res.stdout)
			}
			wantLine(t, res.stdout, strings.ReplaceAll(tc.want, "%URL%", srv.releasesURL()))
			if n := len(srv.downloads()); n != tc.downloads {
				t.Errorf("%d downloads, want %d", n, tc.downloads)
			}
		})
	}
}

func TestInstallsEveryPlatform(t *testing.T) {
	srv := newServer(t, newRelease(t, "v1.2.3"))
	tests := []struct{ os, arch, dir, exe string }{
		{"Linux", "X64", "x64", "sloguard"},
		{"Linux", "ARM64", "arm64", "sloguard"},
		{"macOS", "X64", "x64", "sloguard"},
		{"macOS", "ARM64", "arm64", "sloguard"},
		{"Windows", "X64", "x64", "sloguard.exe"},
	}
	for _, tc := range tests {
		t.Run(tc.os+" "+tc.arch, func(t *testing.T) {
			cache := t.TempDir()
			r := newRunner(t, srv, cache)
			r.env["RUNNER_OS"], r.env["RUNNER_ARCH"] = tc.os, tc.arch
			res := r.run()
			if !res.ok {
				t.Fatalf("step %s failed:\n%s", res.failed, res.stdout)
			}
			if want := filepath.Join(cache, "sloguard", "1.2.3", tc.dir, tc.exe); res.steps["install"]["path"] != want {
				t.Errorf("path %q, want %q", res.steps["install"]["path"], want)
			}
			wantLine(t, res.stdout, "sloguard v1.2.3 ran with 0 argument(s)")
		})
	}
}

// TestVersionFromTheActionRef: the action's ref (or the version input)
// names a release directly, or is resolved through the repository's tags.
func TestVersionFromTheActionRef(t *testing.T) {
	srv := newServer(t, newRelease(t, "v1.1.0"), newRelease(t, "v1.2.3"), newRelease(t, "v1.10.0"), newRelease(t, "v2.0.0-rc.1"))
	old := srv.commit(t, "v1.1.0")
	srv.commit(t, "a:v1.2.3", "v1")
	srv.commit(t, "v1.10.0", "v2.0.0-rc.1")
	untagged := srv.commit(t)
	tests := map[string]struct {
		ref, version, actionPath string
		want                     string // the tag installed, or the error line
	}{
		"a release tag":                                  {ref: "v1.2.3", want: "v1.2.3"},
		"a major tag: the release on its commit":         {ref: "v1", want: "v1.2.3"},
		"a commit SHA: the release tag on it":            {ref: old, want: "v1.1.0"},
		"the version input wins over the ref":            {ref: "v1", version: "1.10.0", want: "v1.10.0"},
		"latest: the newest release, by number":          {ref: "v1", version: "latest", want: "v1.10.0"},
		"a pre-release, when named":                      {ref: "v1", version: "v2.0.0-rc.1", want: "v2.0.0-rc.1"},
		"the ref from the action's path when it is lost": {actionPath: "_actions/sloguard/sloguard/v1", want: "v1.2.3"},
		"a commit without a release": {
			ref:  untagged,
			want: "::error title=sloguard install::the action's ref \"" + untagged + "\" (commit " + untagged[:12] + ") is not a release: no vX.Y.Z tag points at it. Use the action at a release (uses: sloguard/sloguard@v1), or set the input version, e.g. version: v1.2.3, or version: latest.",
		},
		"a branch whose head is no release": {
			ref:  "main",
			want: "::error title=sloguard install::the action's ref \"main\" (commit " + untagged[:12] + ") is not a release: no vX.Y.Z tag points at it. Use the action at a release (uses: sloguard/sloguard@v1), or set the input version, e.g. version: v1.2.3, or version: latest.",
		},
		"a ref the repository does not have": {
			ref:  "v7",
			want: "::error title=sloguard install::the action's ref \"v7\" is neither a release, a tag nor a branch of %REPO%. Set the input version to a release, e.g. version: v1.2.3, or version: latest.",
		},
		"a local action without a version": {
			ref: "", actionPath: "work/shop/shop",
			want: "::error title=sloguard install::which sloguard release to install is unknown: the action runs from a local path (uses: ./). Set the input version, e.g. version: v1.2.3, or version: latest.",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRunner(t, srv, t.TempDir())
			r.github["action_ref"] = tc.ref
			if tc.actionPath != "" {
				r.github["action_ref"], r.github["action_repository"] = "", ""
				r.actionPath = tc.actionPath
			}
			if tc.version != "" {
				r.with["version"] = tc.version
			}
			res := r.run()
			if !strings.HasPrefix(tc.want, "::error") {
				if !res.ok || res.steps["install"]["version"] != tc.want {
					t.Fatalf("installed %q (step %s failed), want %s:\n%s", res.steps["install"]["version"], res.failed, tc.want, res.stdout)
				}
				return
			}
			if res.ok {
				t.Fatalf("want a failure:\n%s", res.stdout)
			}
			wantLine(t, res.stdout, strings.ReplaceAll(tc.want, "%REPO%", srv.URL+"/sloguard/sloguard"))
		})
	}
}
