package packaging

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

type goreleaserYAML struct {
	Builds []struct {
		Main         string   `yaml:"main"`
		Binary       string   `yaml:"binary"`
		Env          []string `yaml:"env"`
		Flags        []string `yaml:"flags"`
		Ldflags      []string `yaml:"ldflags"`
		Goos         []string `yaml:"goos"`
		Goarch       []string `yaml:"goarch"`
		ModTimestamp string   `yaml:"mod_timestamp"`
		Ignore       []struct{ Goos, Goarch string }
	} `yaml:"builds"`
	Archives []struct {
		NameTemplate    string `yaml:"name_template"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	SBOMs []struct {
		Artifacts string   `yaml:"artifacts"`
		Cmd       string   `yaml:"cmd"`
		Args      []string `yaml:"args"`
	} `yaml:"sboms"`
}

// TestReleaseBuildIsMakeBuild keeps the release's build what `make build`
// runs (and the Dockerfile: TestMakeBuildIsTheDockerBuild), with the
// version GoReleaser knows, and its assets named as action/install.sh
// expects them.
func TestReleaseBuildIsMakeBuild(t *testing.T) {
	var g goreleaserYAML
	readYAML(t, ".goreleaser.yaml", &g)
	if len(g.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(g.Builds))
	}
	b := g.Builds[0]
	words := append(slices.Clone(b.Env), "go", "build")
	words = append(words, b.Flags...)
	ld := strings.NewReplacer("v{{ .Version }}", "v9.9.9", "{{ .ShortCommit }}", "abc1234").Replace(strings.Join(b.Ldflags, " "))
	words = append(words, "-ldflags="+ld, "./"+strings.TrimPrefix(b.Main, "./"))

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
	if !slices.Equal(makeBuild, words) {
		t.Errorf("the release build and make build differ:\nrelease: %q\nmake:    %q", words, makeBuild)
	}
	if b.ModTimestamp != "{{ .CommitTimestamp }}" {
		t.Errorf("mod_timestamp %q: want the commit's time, so that two builds of a commit are byte for byte the same", b.ModTimestamp)
	}

	t.Run("every runner the action installs on has an archive, named as install.sh asks", func(t *testing.T) {
		var targets []string
		for _, os := range b.Goos {
			for _, arch := range b.Goarch {
				if !slices.ContainsFunc(b.Ignore, func(i struct{ Goos, Goarch string }) bool { return i.Goos == os && i.Goarch == arch }) {
					targets = append(targets, os+"_"+arch)
				}
			}
		}
		slices.Sort(targets)
		want := []string{"darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64", "windows_amd64"}
		if !slices.Equal(targets, want) {
			t.Errorf("targets %q, want %q", targets, want)
		}
		a := g.Archives[0]
		if a.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" || len(a.FormatOverrides) != 1 ||
			a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
			t.Errorf("archives %+v: want sloguard_<version>_<os>_<arch>.tar.gz, zip on windows", a)
		}
		if g.Checksum.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_checksums.txt" || g.Checksum.Algorithm != "sha256" {
			t.Errorf("checksum %+v: want sloguard_<version>_checksums.txt in sha256", g.Checksum)
		}
	})

	t.Run("the SBOMs need no network and no syft", func(t *testing.T) {
		if len(g.SBOMs) != 1 || g.SBOMs[0].Cmd != "go" || !slices.Contains(g.SBOMs[0].Args, "bin") ||
			!slices.Contains(g.SBOMs[0].Args, "-noserial") || !slices.Contains(g.SBOMs[0].Args, "-notimestamp") {
			t.Errorf("sboms %+v: want cyclonedx-gomod bin through go run, without serial or timestamp (reproducible)", g.SBOMs)
		}
	})
}
