package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// root is the repository, two levels up.
var root = filepath.Join("..", "..")

// stage is one FROM ... of a Dockerfile and its instructions.
type stage struct {
	from  string
	name  string
	nodes []*parser.Node
}

func (s stage) all(instruction string) []*parser.Node {
	var out []*parser.Node
	for _, n := range s.nodes {
		if strings.EqualFold(n.Value, instruction) {
			out = append(out, n)
		}
	}
	return out
}

// args are an instruction's arguments, and whether they are in exec (JSON)
// form.
func args(n *parser.Node) ([]string, bool) {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out, n.Attributes["json"]
}

func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile:%d: %s", w.Location.Start.Line, w.Short)
	}
	var stages []stage
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			a, _ := args(n)
			s := stage{from: a[0]}
			if len(a) == 3 && strings.EqualFold(a[1], "as") {
				s.name = a[2]
			}
			stages = append(stages, s)
			continue
		}
		if len(stages) == 0 {
			if !strings.EqualFold(n.Value, "arg") {
				t.Fatalf("Dockerfile:%d: %s before the first FROM", n.StartLine, n.Value)
			}
			continue
		}
		stages[len(stages)-1].nodes = append(stages[len(stages)-1].nodes, n)
	}
	return stages
}

// goBuild finds the build stage's `go build` and returns its words with the
// build arguments given, and the binary it writes (-o).
func goBuild(t *testing.T, s stage, env []string) (words []string, out string) {
	t.Helper()
	for _, run := range s.all("run") {
		a, _ := args(run)
		cmd := strings.Join(a, " ")
		if !strings.Contains(cmd, "go build") {
			continue
		}
		ws, err := shell.NewLex('\\').ProcessWords(cmd, shell.EnvsFromSlice(env))
		if err != nil {
			t.Fatalf("Dockerfile:%d: %v", run.StartLine, err)
		}
		return withoutOutput(t, ws)
	}
	t.Fatalf("the %s stage runs no go build", s.name)
	return nil, ""
}

// withoutOutput drops `-o FILE` from a go build command line.
func withoutOutput(t *testing.T, ws []string) ([]string, string) {
	t.Helper()
	i := slices.Index(ws, "-o")
	if i < 0 || i+1 >= len(ws) {
		t.Fatalf("go build without -o: %q", ws)
	}
	return append(slices.Clone(ws[:i]), ws[i+2:]...), ws[i+1]
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): want a build stage and a minimal final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	words, binary := goBuild(t, build, []string{"VERSION=v9.9.9", "COMMIT=abc1234"})

	t.Run("the build is static, reproducible and stamped", func(t *testing.T) {
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath"} {
			if !slices.Contains(words, want) {
				t.Errorf("go build lacks %s: %q", want, words)
			}
		}
		ldflags := ""
		for _, w := range words {
			if v, ok := strings.CutPrefix(w, "-ldflags="); ok {
				ldflags = v
			}
		}
		for _, want := range []string{"-X main.version=v9.9.9", "-X main.commit=abc1234"} {
			if !strings.Contains(ldflags, want) {
				t.Errorf("-ldflags %q lacks %q (the VERSION and COMMIT build arguments)", ldflags, want)
			}
		}
		if !slices.Contains(words, "./cmd/sloguard") {
			t.Errorf("go build does not build ./cmd/sloguard: %q", words)
		}
	})

	t.Run("the final stage is minimal, with CA certificates", func(t *testing.T) {
		base, _, _ := strings.Cut(final.from, "@")
		switch {
		case strings.HasPrefix(base, "gcr.io/distroless/static"):
			if strings.Contains(base, "nonroot") {
				t.Errorf("%s runs as nonroot: GitHub needs root for container actions", base)
			}
		case base == "scratch":
			found := false
			for _, c := range final.all("copy") {
				a, _ := args(c)
				found = found || slices.ContainsFunc(a, func(s string) bool {
					return strings.Contains(s, "ca-certificates") || strings.Contains(s, "/etc/ssl/certs")
				})
			}
			if !found {
				t.Error("FROM scratch without CA certificates: HTTPS to backends and GitHub would fail")
			}
		default:
			t.Errorf("final stage FROM %s: want gcr.io/distroless/static or scratch", final.from)
		}
	})

	t.Run("it runs as root, in the runner's working directory", func(t *testing.T) {
		for _, u := range final.all("user") {
			if a, _ := args(u); len(a) > 0 && a[0] != "root" && a[0] != "0" && a[0] != "0:0" {
				t.Errorf("Dockerfile:%d: USER %s: GitHub runs container actions as root, to write the workspace and file commands", u.StartLine, a[0])
			}
		}
		if w := final.all("workdir"); len(w) > 0 {
			t.Errorf("Dockerfile:%d: WORKDIR in the final stage: the runner sets the working directory (the workspace)", w[0].StartLine)
		}
	})

	t.Run("the entrypoint is the binary, in exec form", func(t *testing.T) {
		eps := final.all("entrypoint")
		if len(eps) != 1 {
			t.Fatalf("%d ENTRYPOINT(s) in the final stage, want 1", len(eps))
		}
		a, exec := args(eps[0])
		if !exec || len(a) != 1 || !strings.HasPrefix(a[0], "/") {
			t.Fatalf("ENTRYPOINT %q (exec form %v): want [\"/absolute/path\"] alone, so that the action's inputs, not a shell, drive it", a, exec)
		}
		copied := false
		for _, c := range final.all("copy") {
			src, _ := args(c)
			if slices.Contains(c.Flags, "--from="+build.name) && len(src) == 2 && src[0] == binary && (src[1] == a[0] || src[1] == filepath.Dir(a[0])+"/") {
				copied = true
			}
		}
		if !copied {
			t.Errorf("the final stage does not COPY --from=%s %s %s", build.name, binary, a[0])
		}
	})
}

// TestMakeBuildIsTheDockerBuild keeps `make build` and the Dockerfile's
// build one command.
func TestMakeBuildIsTheDockerBuild(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed: apt-get install -y make")
	}
	stages := parseDockerfile(t)
	docker, _ := goBuild(t, stages[0], []string{"VERSION=v9.9.9", "COMMIT=abc1234"})
	cmd := exec.Command("make", "-s", "-n", "build", "VERSION=v9.9.9", "COMMIT=abc1234")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make -n build: %v", err)
	}
	ws, err := shell.NewLex('\\').ProcessWords(strings.TrimSpace(string(out)), shell.EnvsFromSlice(nil))
	if err != nil {
		t.Fatal(err)
	}
	makeBuild, _ := withoutOutput(t, ws)
	if !slices.Equal(makeBuild, docker) {
		t.Errorf("make build and the Dockerfile build differ:\nmake:   %q\ndocker: %q", makeBuild, docker)
	}
}
