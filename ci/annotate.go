package ci

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Problem is something wrong at a place in a file of the repository, such
// as a config error, for an annotation on that line.
type Problem struct {
	File string // as given (relative to the working directory, or absolute)
	Line int    // 0 when unknown
	Msg  string
}

// AnnotateProblems writes each problem as an error annotation on its file
// and line: `::error file=…,line=…::` on GitHub (ten are shown per step:
// the rest say so in one more), `##vso[task.logissue type=error;
// sourcepath=…;linenumber=…]` on Azure Pipelines. File paths are made
// relative to the repository's root (GITHUB_WORKSPACE,
// BUILD_SOURCESDIRECTORY) when they lie in it. Outside CI it writes nothing.
func AnnotateProblems(getenv func(string) string, w io.Writer, title string, problems []Problem) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		for i, p := range problems {
			if i == maxAnnotations-1 && len(problems) > maxAnnotations {
				fmt.Fprintf(w, "::error title=%s::%s\n", escapeProperty(title), escapeData(fmt.Sprintf("%d more problem(s): see the log", len(problems)-i)))
				return
			}
			props := "title=" + escapeProperty(title)
			if f := relToRoot(p.File, getenv("GITHUB_WORKSPACE")); f != "" {
				props = "file=" + escapeProperty(f) + lineProp(",line=", p.Line) + "," + props
			}
			fmt.Fprintf(w, "::error %s::%s\n", props, escapeData(p.Msg))
		}
	case isAzure(getenv):
		for _, p := range problems {
			props := "type=error"
			if f := relToRoot(p.File, getenv("BUILD_SOURCESDIRECTORY")); f != "" {
				props += ";sourcepath=" + escapeAzureProperty(f) + lineProp(";linenumber=", p.Line)
			}
			fmt.Fprintf(w, "##vso[task.logissue %s]%s\n", props, escapeAzureData(p.Msg))
		}
	}
}

func lineProp(prefix string, line int) string {
	if line <= 0 {
		return ""
	}
	return prefix + strconv.Itoa(line)
}

func isAzure(getenv func(string) string) bool {
	return getenv("TF_BUILD") == "True" || getenv("TF_BUILD") == "true"
}

// RepoPath is file relative to the repository's root, with slashes, or ""
// when it lies outside (an annotation elsewhere would point at nothing).
func RepoPath(file string, getenv func(string) string) string {
	root := getenv("GITHUB_WORKSPACE")
	if root == "" {
		root = getenv("BUILD_SOURCESDIRECTORY")
	}
	return relToRoot(file, root)
}

func relToRoot(file, root string) string {
	if file == "" {
		return ""
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return ""
	}
	if root == "" {
		if filepath.IsAbs(file) {
			return ""
		}
		return filepath.ToSlash(filepath.Clean(file))
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if a, err := filepath.EvalSymlinks(abs); err == nil {
		abs = a
	} else if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(d, filepath.Base(abs)) // a file that does not exist (yet)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}

// Warn tells the pipeline that sloguard could not do something it was
// asked to, without failing the step: `::warning` on GitHub,
// `task.logissue type=warning` on Azure Pipelines, a line elsewhere.
func Warn(getenv func(string) string, w io.Writer, title, msg string) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		fmt.Fprintf(w, "::warning title=%s::%s\n", escapeProperty(title), escapeData(msg))
	case isAzure(getenv):
		fmt.Fprintf(w, "##vso[task.logissue type=warning]%s\n", escapeAzureData(title+": "+msg))
	default:
		fmt.Fprintf(w, "sloguard: warning: %s: %s\n", title, msg)
	}
}
