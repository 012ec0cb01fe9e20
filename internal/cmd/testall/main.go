package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// libraryModule is the module path of the repository root.
const libraryModule = "github.com/fluxgate/fluxgate"

// skipE2EEnv names the environment variable that skips the e2e module.
const skipE2EEnv = "FLUXGATE_SKIP_E2E"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// step is one command run in one module.
type step struct {
	module string   // the module's directory, relative to the root
	args   []string // the command and its arguments
	silent bool     // the step fails if the command prints anything (gofmt -l)
}

// String returns the step as printed: the module, the command's base name
// and its arguments.
func (s step) String() string {
	return "[" + s.module + "] " + filepath.Base(s.args[0]) + " " + strings.Join(s.args[1:], " ")
}

// run is the command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("testall", flag.ContinueOnError)
	flags.SetOutput(stderr)
	race := flags.Bool("race", true, "run go test with the race detector")
	staticcheck := flags.String("staticcheck", "", "path of a staticcheck binary to run in every module (none if empty)")
	skipFlag := flags.String("skip", "", "comma-separated module directories to skip, relative to the repository root")
	list := flags.Bool("list", false, "print the modules that would be tested and exit")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "testall: unexpected arguments %q\n", flags.Args())
		return 2
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(stderr, "testall:", err)
		return 2
	}
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "testall:", err)
		return 2
	}
	root, err := findRoot(wd)
	if err != nil {
		fmt.Fprintln(stderr, "testall:", err)
		return 2
	}
	mods, err := findModules(root)
	if err != nil {
		fmt.Fprintln(stderr, "testall:", err)
		return 2
	}
	skip := skipped(*skipFlag, os.Getenv(skipE2EEnv) == "1")

	gofmt, err := gofmtPath(goBin)
	if err != nil {
		fmt.Fprintln(stderr, "testall:", err)
		return 2
	}
	// gofmt -l lists the files that are not formatted, in every module.
	steps := []step{{module: ".", args: []string{gofmt, "-l", "."}, silent: true}}
	var tested, skippedMods []string
	for _, m := range mods {
		if skip[m] {
			skippedMods = append(skippedMods, m)
			continue
		}
		tested = append(tested, m)
		test := []string{"go", "test"}
		if *race {
			test = append(test, "-race")
		}
		steps = append(steps,
			step{module: m, args: []string{"go", "mod", "tidy", "-diff"}},
			step{module: m, args: []string{"go", "vet", "./..."}},
			step{module: m, args: append(test, "./...")},
		)
		if *staticcheck != "" {
			steps = append(steps, step{module: m, args: []string{*staticcheck, "./..."}})
		}
	}
	if *list {
		for _, m := range tested {
			fmt.Fprintln(stdout, m)
		}
		return 0
	}

	start := time.Now()
	var failed []string
	noted := map[string]bool{}
	for i, s := range steps {
		if note, ok := installs[s.module]; ok && !noted[s.module] {
			noted[s.module] = true
			fmt.Fprintf(stdout, "note: %s\n", note)
		}
		if err := runStep(s, i+1, len(steps), root, goBin, stdout); err != nil {
			failed = append(failed, s.String())
		}
	}

	summary := fmt.Sprintf("%d modules (%s)", len(tested), strings.Join(tested, " "))
	if len(skippedMods) > 0 {
		summary += fmt.Sprintf(", skipped %s", strings.Join(skippedMods, " "))
	}
	if len(failed) > 0 {
		fmt.Fprintf(stdout, "testall: FAIL: %d of %d steps failed in %s, %s:\n", len(failed), len(steps), summary, since(start))
		for _, f := range failed {
			fmt.Fprintf(stdout, "testall:   %s\n", f)
		}
		return 1
	}
	fmt.Fprintf(stdout, "testall: PASS: %d steps in %s, %s\n", len(steps), summary, since(start))
	return 0
}

// runStep runs step s, number n of total, in its module under root, and
// reports on out: a line when it starts, a heartbeat line at least every
// heartbeatEvery while it runs, and a line with its result and time.
func runStep(s step, n, total int, root, goBin string, out io.Writer) error {
	fmt.Fprintf(out, "== (%d/%d) %s\n", n, total, s)
	t0 := time.Now()
	bin := s.args[0]
	if bin == "go" {
		bin = goBin
	}
	cmd := exec.Command(bin, s.args[1:]...)
	cmd.Dir = filepath.Join(root, filepath.FromSlash(s.module))
	cmd.Env = append(os.Environ(), "GOWORK=off")
	// A process the step started and left behind (a test's server) may
	// hold the output pipe open; do not wait for it for ever.
	cmd.WaitDelay = time.Minute
	// The command's output and the heartbeat share out; lw serializes them.
	lw := &lockedWriter{w: out}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = lw, lw
	if s.silent {
		cmd.Stdout, cmd.Stderr = &buf, &buf
	}
	done := make(chan struct{})
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		heartbeat(lw, s.String(), heartbeatEvery, done)
	}()
	err := cmd.Run()
	close(done)
	<-beat
	out.Write(buf.Bytes())
	if err == nil && buf.Len() > 0 {
		err = errors.New("unexpected output")
	}
	if err != nil {
		fmt.Fprintf(out, "-- FAIL %s: %v (%s)\n", s, err, since(t0))
		return err
	}
	fmt.Fprintf(out, "-- ok   %s (%s)\n", s, since(t0))
	return nil
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// gofmtPath returns the gofmt of the Go installation that goBin belongs to.
func gofmtPath(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "gofmt")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("gofmt not found: %w", err)
	}
	return p, nil
}

// since returns the time since t, rounded for people.
func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
