package repotest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/otelbridge"
)

// readmeMaxLines is the length of the README, a front page: the reference
// is in the package docs and docs/.
const readmeMaxLines = 300

// quickstartExample is the file of the Example that the README's
// Quickstart shows, as package main.
const quickstartExample = "breakerhttp/example_quickstart_test.go"

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	require.NoError(t, err)
	return string(data)
}

func TestReadmeIsAFrontPage(t *testing.T) {
	readme := readFile(t, repoRoot(t), "README.md")
	lines := strings.Count(readme, "\n")
	assert.LessOrEqual(t, lines, readmeMaxLines,
		"README.md has %d lines; it is a front page of at most %d: move reference material to the package docs or docs/",
		lines, readmeMaxLines)
}

// TestReadmeQuickstartIsTheExample checks that the README's Quickstart
// code block is the Example of quickstartExample as a program: package
// main, func main, without the Example's doc comment and Output comment.
func TestReadmeQuickstartIsTheExample(t *testing.T) {
	root := repoRoot(t)
	want, err := exampleAsProgram(readFile(t, root, quickstartExample))
	require.NoError(t, err)
	got, err := quickstartBlock(readFile(t, root, "README.md"))
	require.NoError(t, err)
	assert.Equal(t, want, got, "the README's Quickstart must show %s as package main", quickstartExample)
}

var (
	exampleFunc   = regexp.MustCompile(`(?m)^((?://.*\n)*)func (Example\w*)\(\) \{$`)
	outputComment = regexp.MustCompile(`(?m)^\t// (?:Unordered )?[Oo]utput:.*\n(?:\t//.*\n)*`)
	packageClause = regexp.MustCompile(`(?m)^package \w+$`)
	quickstartH2  = regexp.MustCompile(`(?m)^## Quickstart$`)
	goFence       = regexp.MustCompile("(?s)\n```go\n(.*?)```\n")
)

// exampleAsProgram turns an example file with one Example function into
// the program a reader would run.
func exampleAsProgram(src string) (string, error) {
	ms := exampleFunc.FindAllStringSubmatchIndex(src, -1)
	if len(ms) != 1 {
		return "", errorf("want one Example function, found %d", len(ms))
	}
	m := ms[0]
	src = src[:m[2]] + "func main() {" + src[m[1]:]
	src = outputComment.ReplaceAllString(src, "")
	if !packageClause.MatchString(src) {
		return "", errorf("no package clause")
	}
	return packageClause.ReplaceAllString(src, "package main"), nil
}

// quickstartBlock returns the first Go code block of the README's
// Quickstart section.
func quickstartBlock(readme string) (string, error) {
	loc := quickstartH2.FindStringIndex(readme)
	if loc == nil {
		return "", errorf("no \"## Quickstart\" section")
	}
	section := readme[loc[1]:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	m := goFence.FindStringSubmatch(section)
	if m == nil {
		return "", errorf("no Go code block in the Quickstart section")
	}
	return m[1], nil
}

func TestExampleAsProgram(t *testing.T) {
	src := "package x_test\n\nimport \"fmt\"\n\n// Doc.\n// More.\nfunc Example_quickstart() {\n\tfmt.Println(1)\n\t// Output:\n\t// 1\n}\n"
	got, err := exampleAsProgram(src)
	require.NoError(t, err)
	assert.Equal(t, "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(1)\n}\n", got)

	_, err = exampleAsProgram("package x_test\n\nfunc ExampleA() {\n}\n\nfunc ExampleB() {\n}\n")
	assert.ErrorContains(t, err, "found 2")

	readme := "# T\n\n## Quickstart\n\ntext\n\n```go\npackage main\n```\n\n```go\nother\n```\n\n## Next\n"
	block, err := quickstartBlock(readme)
	require.NoError(t, err)
	assert.Equal(t, "package main\n", block)
	_, err = quickstartBlock("# T\n\n## Quickstart\n\nno code\n\n## Next\n\n```go\nx\n```\n")
	assert.ErrorContains(t, err, "no Go code block")
}

// changelogVersion is a released version's heading in CHANGELOG.md.
var changelogVersion = regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`)

// TestChangelogVersionIsTheBridgeVersion checks that otelbridge.Version,
// the version of the bridge's tracer and meter, is the latest version of
// the CHANGELOG.
func TestChangelogVersionIsTheBridgeVersion(t *testing.T) {
	changelog := readFile(t, repoRoot(t), "CHANGELOG.md")
	m := changelogVersion.FindStringSubmatch(changelog)
	require.NotNil(t, m, "CHANGELOG.md has no version heading like \"## [0.1.0] - 2026-12-02\"")
	assert.Equal(t, m[1], otelbridge.Version,
		"otelbridge.Version must be the CHANGELOG's latest version")
}

// errorf is fmt.Errorf, for the helpers above.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
