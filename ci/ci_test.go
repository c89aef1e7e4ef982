package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envOf turns a map into a getenv function.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDetect(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"GitHub Actions sets GITHUB_ACTIONS=true": {map[string]string{"GITHUB_ACTIONS": "true"}, "github"},
		"Azure Pipelines sets TF_BUILD=True":      {map[string]string{"TF_BUILD": "True"}, "azure"},
		"a terminal is local":                     {map[string]string{}, "local"},
		"GITHUB_ACTIONS=false is local":           {map[string]string{"GITHUB_ACTIONS": "false"}, "local"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Detect(envOf(tc.env), &strings.Builder{}).Name(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestReportPath(t *testing.T) {
	cases := map[string]struct {
		flag    string
		env     map[string]string
		wantDir string // "" means the flag itself
	}{
		"--report wins over everything":  {"out/r.json", map[string]string{"RUNNER_TEMP": "/rt", "AGENT_TEMPDIRECTORY": "/at"}, ""},
		"RUNNER_TEMP before the agent's": {"", map[string]string{"RUNNER_TEMP": "/rt", "AGENT_TEMPDIRECTORY": "/at"}, "/rt"},
		"AGENT_TEMPDIRECTORY on Azure":   {"", map[string]string{"AGENT_TEMPDIRECTORY": "/at"}, "/at"},
		"the system's temp dir last":     {"", map[string]string{}, os.TempDir()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ReportPath(tc.flag, envOf(tc.env))
			if tc.wantDir == "" {
				if got != tc.flag {
					t.Errorf("got %s, want %s", got, tc.flag)
				}
				return
			}
			if filepath.Dir(got) != tc.wantDir || !strings.HasPrefix(filepath.Base(got), "sloguard-") || filepath.Ext(got) != ".json" {
				t.Errorf("got %s, want %s/sloguard-*.json", got, tc.wantDir)
			}
		})
	}
	if a, b := ReportPath("", envOf(nil)), ReportPath("", envOf(nil)); a == b {
		t.Errorf("two runs share the report path %s", a)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "r.json")
	if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"{\n  \"a\": 1\n}\n", "short\n"} {
		if err := WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("content: got %q, want %q", got, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v: later steps, run as another user, must be able to read the record", fi.Mode().Perm())
	}
	assertOnly(t, filepath.Join(dir, "sub"), "r.json")
	assertOnly(t, dir, "keep", "sub")
}

func TestWriteFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "isdir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("x")); err == nil {
		t.Fatal("want an error when the target is a directory")
	}
	assertOnly(t, dir, "isdir")
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v (a temp file left behind?)", dir, got, names)
	}
}

func TestLocalDoesNothing(t *testing.T) {
	var l Platform = Local{}
	l.Mask([]string{"x"})
	if err := l.Publish(failing(3), "", []byte("md")); err != nil || l.Run() != nil {
		t.Errorf("Local: %v %v", err, l.Run())
	}
}
