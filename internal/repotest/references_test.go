package repotest

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forbidden are names of documents that exist only outside the repository.
// They are spelled in pieces so that this file does not match itself.
var forbidden = []string{
	"DESIGN" + ".md",
	"reference" + "/",
	"fluxgate-" + "behaviour",
	"go-peers" + ".md",
	"telemetry-" + "conventions",
	"/work" + "/",
}

// pendingFiles may be referred to while they are missing, because they are
// being written at the same time as the references to them. A reference to
// a pending file that exists is checked like any other; remove the entry
// once the file is in the repository.
var pendingFiles = map[string]bool{}

var (
	// mdLink is an inline Markdown link or image: [text](target "title").
	mdLink = regexp.MustCompile(`\]\(([^()\s]+)(?:\s+"[^"]*")?\)`)
	// code is a fenced code block or an inline code span of Markdown, where
	// brackets and parentheses are code, not links.
	code = regexp.MustCompile("(?s)```.*?```|`[^`\n]*`")
	// url is anything with a scheme; paths inside URLs are not files here.
	url = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s)\]>"'` + "`" + `]*`)
	// pathRef is a file path in prose or code: a relative path with at least
	// one directory and a file extension, or a bare Markdown file name.
	pathRef = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./-])((?:\.{1,2}/)*(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)+[A-Za-z0-9_.-]+\.(?:md|go|sh|mod|json|ya?ml|txt|proto)|[A-Za-z0-9_-][A-Za-z0-9_.-]*\.md)\b`)
)

// TestNoReferencesOutsideTheRepository reads every text file of the
// repository and fails on a mention of a document that is not in it (the
// forbidden names), on a Markdown link to a missing file, and on a file path
// (in prose, a comment or a code span) that names no file of the
// repository.
func TestNoReferencesOutsideTheRepository(t *testing.T) {
	root := repoRoot(t)
	files := repoTextFiles(t, root)
	require.NotEmpty(t, files)
	require.Contains(t, files, "README.md")

	for _, rel := range files {
		if rel == "internal/repotest/references_test.go" {
			continue // its test cases refer to made-up files on purpose
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		require.NoError(t, err)
		for _, p := range referenceProblems(root, rel, string(data)) {
			assert.Fail(t, "reference to a file outside the repository", "%s: %s", rel, p)
		}
	}
}

// TestReferenceProblems checks the checker on made-up files.
func TestReferenceProblems(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"README.md", "docs/telemetry.md", "sdk/breaker/doc.go"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, f), nil, 0o644))
	}
	tests := []struct {
		name, file, text string
		bad              bool
	}{
		{"link to an existing file", "README.md", "see [the guide](docs/telemetry.md#setup)", false},
		{"relative link up", "docs/telemetry.md", "back to [README](../README.md)", false},
		{"link to a missing file", "README.md", "see [telemetry](docs/telemetry2.md)", true},
		{"brackets in code are not links", "README.md", "`New[any](Settings{Name})` and\n```go\nf[int](x)\n```", false},
		{"anchor and URL links", "README.md", "[a](#model) [b](https://example.com/x/DESIGN2.md)", false},
		{"path in a comment", "sdk/breaker/doc.go", "// see sdk/breaker/doc.go and README.md", false},
		{"missing path in a comment", "sdk/breaker/doc.go", "// see sdk/breaker/model.go", true},
		{"missing bare markdown file", "README.md", "read CHANGES.md", true},
		{"forbidden name", "sdk/breaker/doc.go", "// as " + forbidden[0] + " says", true},
		{"team folder", "README.md", "facts in " + forbidden[1] + "x", true},
		{"import paths are not files", "sdk/breaker/doc.go", "package breaker\n\nimport \"go.opentelemetry.io/otel/sdk/trace\"", false},
		{"string literals in Go are not references", "sdk/breaker/doc.go", "package breaker\n\nvar f = \"e2e/go.mod\"", false},
		{"comments in Go are", "sdk/breaker/doc.go", "package breaker\n\n// see e2e/go.mod\nvar f = 1", true},
		{"forbidden names count in Go strings too", "sdk/breaker/doc.go", "package breaker\n\nvar f = \"" + forbidden[0] + "\"", true},
		{"URL with a path", "README.md", "https://github.com/byExist/fluxgate/blob/main/docs/telemetry.md", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := referenceProblems(root, tt.file, tt.text)
			assert.Equal(t, tt.bad, len(problems) > 0, "%q", problems)
		})
	}
}

// referenceProblems returns the references in text, the content of the
// file rel (slash-separated, relative to root), that point outside the
// repository.
func referenceProblems(root, rel, text string) []string {
	var problems []string
	for _, name := range forbidden {
		if strings.Contains(text, name) {
			problems = append(problems, "mentions "+name+", which is not in the repository")
		}
	}
	dir := path.Dir(rel)
	if strings.HasSuffix(rel, ".md") {
		for _, m := range mdLink.FindAllStringSubmatch(code.ReplaceAllString(text, " "), -1) {
			target := m[1]
			if url.MatchString(target) || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if !exists(root, path.Join(dir, target)) && !pendingFiles[path.Clean(path.Join(dir, target))] {
				problems = append(problems, "links to missing file "+m[1])
			}
		}
	}
	prose := text
	if strings.HasSuffix(rel, ".go") {
		prose = goComments(text)
	}
	prose = url.ReplaceAllString(prose, " ")
	for _, m := range pathRef.FindAllStringSubmatch(prose, -1) {
		if !existsNear(root, dir, m[1]) {
			problems = append(problems, "names missing file "+m[1])
		}
	}
	return problems
}

// goComments returns the comments of a Go source file, one per line: file
// paths are checked in comments only, since string literals in tests name
// files that the tests create. A file that does not parse is returned whole.
func goComments(src string) string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ParseComments)
	if err != nil {
		return src
	}
	var b strings.Builder
	for _, g := range f.Comments {
		for _, c := range g.List {
			b.WriteString(c.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// existsNear reports whether ref names a file or directory relative to dir
// or to one of its parents up to the repository root, or is a pending file.
func existsNear(root, dir, ref string) bool {
	if pendingFiles[path.Clean(ref)] {
		return true
	}
	for d := dir; ; d = path.Dir(d) {
		if exists(root, path.Join(d, ref)) {
			return true
		}
		if d == "." || d == "/" {
			return false
		}
	}
}

// exists reports whether rel, slash-separated and relative to root, exists
// inside the repository.
func exists(root, rel string) bool {
	rel = path.Clean(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
		return false
	}
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// repoTextFiles returns the text files under root, slash-separated and
// relative to it, leaving out version control, fuzz corpora and other test
// data, dependency checksums and binary files.
func repoTextFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || name == "go.sum" || strings.HasPrefix(name, ".") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data, 0) >= 0 || len(data) > 1<<20 {
			return nil // binary or generated
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	require.NoError(t, err)
	return files
}
