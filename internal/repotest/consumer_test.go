package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consumerMain is a program that uses the library the way an application
// does: a breaker with the OpenTelemetry bridge on the global providers,
// on a status page.
const consumerMain = `package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

func main() {
	reg, err := breakerstatus.NewRegistry()
	if err != nil {
		panic(err)
	}
	b, err := breaker.New("consumer",
		breaker.WithTracker(tracker.All()),
		breaker.WithHooks(otelbridge.Hooks(), reg.Hooks()),
	)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	if err := reg.Add(b); err != nil {
		panic(err)
	}
	h, err := breakerstatus.NewHandler(reg)
	if err != nil {
		panic(err)
	}
	http.Handle("/debug/breakers", h)
	fmt.Println(b.Do(context.Background(), func(context.Context) error { return nil }))
}
`

// heavy are module path fragments that must not reach a consumer's module
// graph at all: they are needed only by the examples, the benchmarks and the
// integration modules, which are modules of their own.
var heavy = []string{
	"prometheus",           // client_golang, client_model, common, the OTel exporter
	"otelhttp", "otelgrpc", // contrib instrumentation
	"go.opentelemetry.io/otel/exporters",
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"github.com/sony/gobreaker",
	"github.com/failsafe-go/failsafe-go",
	"go.opentelemetry.io/collector",
	"github.com/chromedp", // the status page example's browser test
}

// testOnly are modules the library's own tests need. Go's module graph
// pruning still lists them in a consumer's "go list -m all" (they are
// requirements of the library's go.mod), but a consumer's go.mod never
// requires them and its build never compiles a package of theirs.
var testOnly = []string{
	"go.opentelemetry.io/otel/sdk",
	"github.com/stretchr/testify",
	"go.uber.org/goleak",
	"pgregory.net/rapid",
}

// TestConsumerModuleGraphIsLean builds a throw-away module in a temporary
// directory that imports sdk/breaker, sdk/tracker and otelbridge from this
// checkout (through a replace directive), tidies it and checks its module
// graph, its go.mod and the packages its build compiles.
func TestConsumerModuleGraphIsLean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command and may download modules; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	gomod := "module example.com/consumer\n\ngo 1.26.0\n\n" +
		"require github.com/fluxgate/fluxgate v0.0.0\n\n" +
		"replace github.com/fluxgate/fluxgate => " + filepath.ToSlash(root) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(consumerMain), 0o644))

	gocmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		// The consumer is a module of its own: no workspace, and go.mod and
		// go.sum may be written by tidy.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	gocmd("mod", "tidy")
	graph := strings.Fields(gocmd("list", "-m", "-f", "{{.Path}}", "all"))
	deps := strings.Fields(gocmd("list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."))
	tidied, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	required := requiredModules(string(tidied))

	// The test can fail: the graph has the library and the OTel API.
	require.Contains(t, graph, "github.com/fluxgate/fluxgate")
	require.Contains(t, graph, "go.opentelemetry.io/otel")
	require.Contains(t, deps, "github.com/fluxgate/fluxgate/otelbridge")
	require.Contains(t, required, "go.opentelemetry.io/otel/trace")

	for _, m := range graph {
		for _, h := range heavy {
			assert.NotContains(t, m, h, "a consumer's module graph has %s", m)
		}
	}
	for _, bad := range slices.Concat(heavy, testOnly) {
		for _, m := range required {
			assert.False(t, strings.HasPrefix(m, bad), "the consumer's tidy go.mod requires %s", m)
		}
		for _, p := range deps {
			assert.False(t, strings.HasPrefix(p, bad), "the consumer's build compiles %s", p)
		}
	}
}

// requiredModules returns the module paths of the require lines of a
// go.mod file (single and block form).
func requiredModules(gomod string) []string {
	var mods []string
	inBlock := false
	for line := range strings.Lines(gomod) {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock:
			mods = append(mods, f[0])
		case f[0] == "require" && len(f) > 1 && f[1] == "(":
			inBlock = true
		case f[0] == "require" && len(f) > 1:
			mods = append(mods, f[1])
		}
	}
	return mods
}
