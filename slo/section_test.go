package slo

import (
	"strings"
	"testing"
)

type sectionTarget struct {
	Mode  string               `yaml:"mode"`
	Items []sectionTargetItem  `yaml:"items"`
	Inner *sectionTargetNested `yaml:"inner"`
}

type sectionTargetItem struct {
	Name string `yaml:"name"`
}

type sectionTargetNested struct {
	Limit int `yaml:"limit"`
}

const sectionConfig = `version: 1
providers:
  - {name: prom, type: prometheus, url: http://127.0.0.1:9090}
slos:
  - name: a
    objective: 99
    sli:
      error_query: sum(rate(e[{{.window}}]))
      total_query: sum(rate(t[{{.window}}]))
serve:
  mode: strict
  items:
    - name: one
    - nme: two
  inner:
    limit: many
`

func TestSectionIsKeptForItsOwnerAndDecodedStrictly(t *testing.T) {
	cfg, err := Parse("s.yaml", []byte(sectionConfig), withTypes(Options{}))
	if err != nil {
		t.Fatalf("the serve block must be accepted by slo: %v", err)
	}
	if cfg.Serve == nil || cfg.Serve.Key != "serve" || cfg.Serve.File != "s.yaml" {
		t.Fatalf("Serve = %+v, want the serve block of s.yaml", cfg.Serve)
	}
	var v sectionTarget
	probs := cfg.Serve.Decode(&v)
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	want := []string{
		`s.yaml:14: serve.items[1].nme: unknown key "nme": did you mean name?`,
		`s.yaml:16: serve.inner.limit: expected a whole number, got "many"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v.Mode != "strict" || len(v.Items) != 2 || v.Items[0].Name != "one" {
		t.Errorf("what could be decoded must be kept: %+v", v)
	}
	if p := cfg.Serve.Problem("items[0].name", "bad %s", "name"); p.Error() != "s.yaml:13: serve.items[0].name: bad name" {
		t.Errorf("Problem = %q", p.Error())
	}
}

func TestNoSectionWithoutTheKey(t *testing.T) {
	cfg, err := Parse("s.yaml", []byte(strings.Split(sectionConfig, "serve:")[0]), withTypes(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Serve != nil {
		t.Errorf("Serve = %+v, want nil without a serve block", cfg.Serve)
	}
}
