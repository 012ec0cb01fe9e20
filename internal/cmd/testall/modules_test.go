package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree writes files (slash-separated paths, relative to a new temp dir) and
// returns the dir.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return root
}

func TestFindModules(t *testing.T) {
	root := tree(t, map[string]string{
		"go.mod":                    "module " + libraryModule + "\n",
		"examples/go.mod":           "module " + libraryModule + "/examples\n",
		"e2e/go.mod":                "module " + libraryModule + "/e2e\n",
		"breakergrpc/go.mod":        "module " + libraryModule + "/breakergrpc\n",
		"a/b/c/go.mod":              "module x/c\n",
		"sdk/testdata/m/go.mod":     "module ignored\n",
		".hidden/go.mod":            "module ignored\n",
		"vendor/x/go.mod":           "module ignored\n",
		"_scratch/go.mod":           "module ignored\n",
		"sdk/breaker/breaker.go":    "package breaker\n",
		"examples/quickstart/x.go":  "package main\n",
		"examples/testdata/go.mod2": "",
	})
	mods, err := findModules(root)
	require.NoError(t, err)
	assert.Equal(t, []string{".", "a/b/c", "breakergrpc", "e2e", "examples"}, mods)

	_, err = findModules(tree(t, map[string]string{"sub/go.mod": "module x\n"}))
	assert.ErrorContains(t, err, "no go.mod at the repository root")
}

func TestFindRoot(t *testing.T) {
	root := tree(t, map[string]string{
		"go.mod":          "module " + libraryModule + "\n\ngo 1.26.0\n",
		"examples/go.mod": "module " + libraryModule + "/examples\n",
		"examples/slog/x": "",
	})
	for _, start := range []string{root, filepath.Join(root, "examples"), filepath.Join(root, "examples", "slog")} {
		got, err := findRoot(start)
		require.NoError(t, err)
		assert.Equal(t, root, got, "from %s", start)
	}
	_, err := findRoot(t.TempDir())
	assert.ErrorContains(t, err, "no go.mod of module "+libraryModule)
}

func TestModulePath(t *testing.T) {
	tests := []struct{ gomod, want string }{
		{"module github.com/fluxgate/fluxgate\n\ngo 1.26.0\n", "github.com/fluxgate/fluxgate"},
		{"// comment\nmodule \"example.com/q\"\n", "example.com/q"},
		{"go 1.26.0\n", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, modulePath(tt.gomod))
	}
}

func TestSkipped(t *testing.T) {
	tests := []struct {
		flag string
		e2e  bool
		want map[string]bool
	}{
		{"", false, map[string]bool{}},
		{"", true, map[string]bool{"e2e": true}},
		{"benchmarks, ./examples/", false, map[string]bool{"benchmarks": true, "examples": true}},
		{"e2e", true, map[string]bool{"e2e": true}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, skipped(tt.flag, tt.e2e), "skip %q, e2e %v", tt.flag, tt.e2e)
	}
}

// TestListFromThisRepository runs the command with -list in the checkout:
// the root module and the examples module are among those it would test.
func TestListFromThisRepository(t *testing.T) {
	t.Setenv(skipE2EEnv, "1")
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{"-list"}, &out, &errOut), errOut.String())
	lines := bytes.Fields(out.Bytes())
	assert.Contains(t, lines, []byte("."))
	assert.Contains(t, lines, []byte("examples"))
	assert.Contains(t, lines, []byte("benchmarks"))
	assert.NotContains(t, lines, []byte("e2e"))
}

func TestBadArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run([]string{"extra"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "unexpected arguments")
	assert.Equal(t, 2, run([]string{"-nosuchflag"}, &out, &errOut))
}

func TestHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		done := make(chan struct{})
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			heartbeat(&out, "[e2e] go vet ./...", 30*time.Second, done)
		}()
		time.Sleep(95 * time.Second)
		close(done)
		<-ended
		assert.Equal(t, "   still running: [e2e] go vet ./... (30s)\n"+
			"   still running: [e2e] go vet ./... (1m0s)\n"+
			"   still running: [e2e] go vet ./... (1m30s)\n", out.String())
	})
}

func TestRunStep(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	root := t.TempDir()
	tests := []struct {
		name    string
		step    step
		wantErr bool
		want    []string
	}{
		{"ok", step{module: ".", args: []string{"go", "env", "GOWORK"}}, false,
			[]string{"== (2/5) [.] go env GOWORK\n", "off\n", "-- ok   [.] go env GOWORK ("}},
		{"failing command", step{module: ".", args: []string{"go", "no-such-command"}}, true,
			[]string{"== (2/5) [.] go no-such-command\n", "-- FAIL [.] go no-such-command: exit status"}},
		{"silent step with output", step{module: ".", args: []string{"go", "env", "GOWORK"}, silent: true}, true,
			[]string{"off\n-- FAIL [.] go env GOWORK: unexpected output ("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runStep(tt.step, 2, 5, root, goBin, &out)
			assert.Equal(t, tt.wantErr, err != nil, "%v", err)
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestInstallsAreKnownModules(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := findRoot(wd)
	require.NoError(t, err)
	mods, err := findModules(root)
	require.NoError(t, err)
	for m, note := range installs {
		assert.Contains(t, mods, m, "installs names a module that does not exist")
		assert.NotEmpty(t, note)
	}
}
