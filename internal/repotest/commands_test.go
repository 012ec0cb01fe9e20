package repotest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// commandDocs are the documents whose go commands must build: every
// command in them runs from the repository root.
var commandDocs = []string{"README.md", "CONTRIBUTING.md", "e2e/README.md", "examples/README.md", "docs/*.md"}

// goCommand is a go run or go test command found in a document.
type goCommand struct {
	where string   // file:line
	text  string   // the command as written, after cd and environment
	dir   string   // where it runs, slash-separated, relative to the root
	sub   string   // "run" or "test"
	pkgs  []string // the packages (or .go files) it names; "." when none
}

// fence is a fenced code block of Markdown, with its info string.
var fence = regexp.MustCompile("(?ms)^[ \t]*```([^\n`]*)\n(.*?)^[ \t]*```")

// inlineCode is an inline code span of Markdown.
var inlineCode = regexp.MustCompile("`([^`\n]+)`")

// extractCommands returns the go run and go test commands of a Markdown
// document: those on the lines of its fenced code blocks (but Go code) and
// those in its inline code spans. file names the document in where.
func extractCommands(file, text string) []goCommand {
	var cmds []goCommand
	lineOf := func(offset int) int { return strings.Count(text[:offset], "\n") + 1 }
	rest := []byte(text)
	for _, m := range fence.FindAllStringSubmatchIndex(text, -1) {
		info := strings.TrimSpace(text[m[2]:m[3]])
		for i := m[0]; i < m[1]; i++ {
			rest[i] = ' ' // not inline code
		}
		if info == "go" {
			continue
		}
		body, start := text[m[4]:m[5]], lineOf(m[4])
		lines := strings.Split(body, "\n")
		for i := 0; i < len(lines); i++ {
			line, n := lines[i], i
			for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
				i++
				line = strings.TrimSuffix(line, `\`) + " " + lines[i]
			}
			cmds = append(cmds, commandsOf(fmt.Sprintf("%s:%d", file, start+n), line)...)
		}
	}
	for _, m := range inlineCode.FindAllSubmatchIndex(rest, -1) {
		cmds = append(cmds, commandsOf(fmt.Sprintf("%s:%d", file, lineOf(m[0])), string(rest[m[2]:m[3]]))...)
	}
	return cmds
}

// commandsOf returns the go run and go test commands of one shell line.
func commandsOf(where, line string) []goCommand {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "$ ")
	var cmds []goCommand
	dir := "."
	for _, words := range splitShell(line) {
		for len(words) > 0 && isAssignment(words[0]) {
			words = words[1:] // FOO=1 go test ...
		}
		if len(words) == 0 {
			continue
		}
		if words[0] == "cd" && len(words) == 2 {
			dir = path.Clean(path.Join(dir, words[1]))
			continue
		}
		if c, ok := parseGo(words); ok {
			c.where, c.dir = where, path.Clean(path.Join(dir, c.dir))
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// splitShell splits a shell line into simple commands (at unquoted &&, ||,
// ;, | and newlines) of words, with quotes removed; an unquoted # that
// starts a word starts a comment.
func splitShell(line string) [][]string {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '\\' && i+1 < len(line):
			word.WriteByte(line[i+1])
			inWord = true
			i++
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds
		case c == ';' || c == '|' || c == '&' || c == '\n':
			endCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// isAssignment reports whether w is an environment assignment, NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	return ok && envName.MatchString(name)
}

// envName is the name of an environment variable.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// valueFlags are the flags of go run and go test that take the next word
// as their value when it is not given with =.
var valueFlags = map[string]bool{
	"C": true, "p": true, "tags": true, "ldflags": true, "gcflags": true, "asmflags": true, "mod": true,
	"modfile": true, "overlay": true, "pkgdir": true, "buildmode": true, "compiler": true, "pgo": true,
	"exec": true, "o": true, "covermode": true, "coverpkg": true, "coverprofile": true, "run": true,
	"skip": true, "bench": true, "benchtime": true, "count": true, "timeout": true, "cpu": true,
	"parallel": true, "fuzz": true, "fuzztime": true, "fuzzminimizetime": true, "shuffle": true,
	"list": true, "cpuprofile": true, "memprofile": true, "blockprofile": true, "mutexprofile": true,
	"trace": true, "outputdir": true,
}

// parseGo parses the words of a go run or go test command; ok is false for
// anything else.
func parseGo(words []string) (c goCommand, ok bool) {
	if len(words) < 2 || words[0] != "go" {
		return c, false
	}
	c.dir = "."
	i := 1
	for i < len(words) && strings.HasPrefix(words[i], "-C") {
		if v, found := strings.CutPrefix(words[i], "-C="); found {
			c.dir = path.Join(c.dir, v)
			i++
		} else if i+1 < len(words) {
			c.dir = path.Join(c.dir, words[i+1])
			i += 2
		} else {
			return c, false
		}
	}
	if i >= len(words) || (words[i] != "run" && words[i] != "test") {
		return c, false
	}
	c.sub = words[i]
	c.text = strings.Join(words, " ")
	for i++; i < len(words); i++ {
		w := words[i]
		if w == "-args" {
			break
		}
		if strings.HasPrefix(w, "-") {
			name := strings.TrimLeft(w, "-")
			if !strings.Contains(name, "=") && valueFlags[name] {
				i++
			}
			continue
		}
		c.pkgs = append(c.pkgs, w)
		if c.sub == "run" && !strings.HasSuffix(w, ".go") {
			break // the rest are the program's arguments
		}
	}
	if len(c.pkgs) == 0 {
		c.pkgs = []string{"."}
	}
	return c, true
}

// checkCommands type-checks, with go vet (which compiles what the command
// would compile, test files included, and runs nothing), the packages that
// each command names, in the directory it names, with one go vet per
// directory; when that fails, each command of the directory is checked
// alone so that the failure names its command. It returns one problem per
// failing command.
func checkCommands(t *testing.T, root string, cmds []goCommand) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	byDir := map[string][]goCommand{}
	var dirs []string
	for _, c := range cmds {
		if _, ok := byDir[c.dir]; !ok {
			dirs = append(dirs, c.dir)
		}
		byDir[c.dir] = append(byDir[c.dir], c)
	}
	vet := func(dir string, pkgs []string) error {
		if rel := path.Clean(dir); rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("directory %s is outside the repository", dir)
		}
		abs := filepath.Join(root, filepath.FromSlash(dir))
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return fmt.Errorf("no directory %s", dir)
		}
		cmd := exec.Command(goBin, append([]string{"vet"}, pkgs...)...)
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go vet %s in %s: %v\n%s", strings.Join(pkgs, " "), dir, err, out)
		}
		return nil
	}
	var problems []string
	for _, dir := range dirs {
		var pkgs []string
		for _, c := range byDir[dir] {
			for _, p := range c.pkgs {
				if !slices.Contains(pkgs, p) {
					pkgs = append(pkgs, p)
				}
			}
		}
		if vet(dir, pkgs) == nil {
			continue
		}
		for _, c := range byDir[dir] {
			if err := vet(dir, c.pkgs); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q does not build: %v", c.where, c.text, err))
			}
		}
	}
	return problems
}

// documentedCommands returns the go commands of every document of
// commandDocs.
func documentedCommands(t *testing.T, root string) []goCommand {
	t.Helper()
	var cmds []goCommand
	for _, pattern := range commandDocs {
		files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		require.NoError(t, err)
		require.NotEmpty(t, files, "no document %s", pattern)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			rel, err := filepath.Rel(root, f)
			require.NoError(t, err)
			cmds = append(cmds, extractCommands(filepath.ToSlash(rel), string(data))...)
		}
	}
	return cmds
}

// TestDocumentedCommandsBuild checks that every go run and go test command
// of the documents builds where it says it runs. It runs go vet, so it is
// skipped with -short.
func TestDocumentedCommandsBuild(t *testing.T) {
	root := repoRoot(t)
	cmds := documentedCommands(t, root)
	texts := make([]string, len(cmds))
	for i, c := range cmds {
		texts[i] = c.dir + ": " + c.text
	}
	// The two commands of the README's first screen are among them.
	require.Contains(t, texts, "examples: go -C examples run ./quickstart")
	require.Contains(t, texts, ".: go run ./internal/cmd/testall")
	if testing.Short() {
		t.Skip("builds every documented command; skipped with -short")
	}
	for _, p := range checkCommands(t, root, cmds) {
		assert.Fail(t, "documented command does not build", p)
	}
}

func TestExtractCommands(t *testing.T) {
	doc := strings.Join([]string{
		"Run `go run ./internal/cmd/testall` or `go vet ./...` (not a run).",
		"",
		"```sh",
		"go -C examples run ./quickstart -compact   # the demo",
		"cd e2e && go test -race -v .",
		"FLUXGATE_STRESS=1 go test -race -v -run 'TestStress$|X' ./sdk/breaker",
		"go test -race -run TestModel ./otelbridge -args -stress.duration=5m",
		"$ go test -run='^$' -fuzz=FuzzTimeWindow -fuzztime 60s ./sdk/breaker ./sdk/tracker",
		"go run ./examples/prometheus; curl -s localhost:9464/metrics | grep x",
		"go test \\",
		"  ./breakerhttp",
		"go -C=breakergrpc test",
		"go build ./... && go version",
		"```",
		"",
		"```go",
		"go run(ctx) // Go code, not a command",
		"```",
		"and `cd breakergrpc && go run ./example` too.",
	}, "\n")
	got := extractCommands("doc.md", doc)
	type c struct{ where, dir, sub, pkgs string }
	var short []c
	for _, g := range got {
		short = append(short, c{g.where, g.dir, g.sub, strings.Join(g.pkgs, " ")})
	}
	assert.Equal(t, []c{
		{"doc.md:4", "examples", "run", "./quickstart"},
		{"doc.md:5", "e2e", "test", "."},
		{"doc.md:6", ".", "test", "./sdk/breaker"},
		{"doc.md:7", ".", "test", "./otelbridge"},
		{"doc.md:8", ".", "test", "./sdk/breaker ./sdk/tracker"},
		{"doc.md:9", ".", "run", "./examples/prometheus"},
		{"doc.md:10", ".", "test", "./breakerhttp"},
		{"doc.md:12", "breakergrpc", "test", "."},
		{"doc.md:1", ".", "run", "./internal/cmd/testall"},
		{"doc.md:19", "breakergrpc", "run", "./example"},
	}, short)
}

// TestCheckCommandsFailsOnBrokenCommands runs the check on commands that
// cannot build: the examples are a module of their own, so go run
// ./examples/prometheus from the root fails; a directory that does not
// exist fails; a command that builds passes.
func TestCheckCommandsFailsOnBrokenCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet; skipped with -short")
	}
	root := repoRoot(t)
	doc := "```sh\n" +
		"go run ./examples/prometheus\n" +
		"go -C no-such-dir run .\n" +
		"go test ./sdk/no-such-package\n" +
		"go run ./internal/cmd/testall -list\n" +
		"```\n"
	problems := checkCommands(t, root, extractCommands("broken.md", doc))
	require.Len(t, problems, 3, "%q", problems)
	all := strings.Join(problems, "\n")
	assert.Contains(t, all, "broken.md:2: \"go run ./examples/prometheus\" does not build")
	assert.Contains(t, all, "broken.md:3: \"go -C no-such-dir run .\" does not build: no directory no-such-dir")
	assert.Contains(t, all, "broken.md:4: \"go test ./sdk/no-such-package\" does not build")
	assert.NotContains(t, all, "broken.md:5")
}
