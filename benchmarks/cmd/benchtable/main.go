// Command benchtable runs the comparison benchmarks of this module and
// prints one Markdown table: the median ns/op, B/op and allocs/op of every
// row, its ratio to gobreaker measured in the same run, and a check of each
// target of the performance budget.
//
// Run it from the benchmarks directory (or use ../run.sh):
//
//	go run ./cmd/benchtable                  # 10 samples per row, 200ms each
//	go run ./cmd/benchtable -count 10 -benchtime 500ms
//	go run ./cmd/benchtable -in raw.txt      # tabulate saved `go test -bench` output
//
// By default the samples are interleaved: the whole suite runs -count times
// with `go test -count=1`, so that a burst of load on the machine lands on
// one sample of many rows rather than on all samples of one row, which
// would skew its ratio. -interleave=false runs `go test -count=N` once
// instead. Either way every row has -count samples, and the table shows
// their median.
//
// The raw `go test` output is echoed to stderr as it arrives and, with
// -raw FILE, saved for benchstat or a later -in.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func main() {
	var (
		count      = flag.Int("count", 10, "samples per benchmark (at least 5 for the published table)")
		benchtime  = flag.String("benchtime", "200ms", "go test -benchtime for each sample")
		bench      = flag.String("bench", ".", "go test -bench regexp")
		interleave = flag.Bool("interleave", true, "run the suite -count times with -count=1 instead of once with -count=N")
		in         = flag.String("in", "", "tabulate this saved `go test -bench` output instead of running the benchmarks")
		raw        = flag.String("raw", "", "also save the raw `go test` output to this file")
		strict     = flag.Bool("strict", false, "exit with status 1 when a budget target is missed")
	)
	flag.Parse()
	if err := run(*count, *benchtime, *bench, *interleave, *in, *raw, *strict); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(count int, benchtime, bench string, interleave bool, in, raw string, strict bool) error {
	var out bytes.Buffer
	var cmdline string
	if in != "" {
		data, err := os.ReadFile(in)
		if err != nil {
			return err
		}
		out.Write(data)
		cmdline = "benchtable -in " + in
	} else {
		if count < 1 {
			return errors.New("-count must be at least 1")
		}
		if err := checkDir(); err != nil {
			return err
		}
		passes, perPass := 1, count
		if interleave {
			passes, perPass = count, 1
		}
		args := []string{"test", "-run", "^$", "-bench", bench, "-benchmem",
			"-count", fmt.Sprint(perPass), "-benchtime", benchtime, "."}
		cmdline = "go " + strings.Join(quoteArgs(args), " ")
		if passes > 1 {
			cmdline = fmt.Sprintf("%d × `%s`", passes, cmdline)
		}
		start := time.Now()
		for i := range passes {
			if passes > 1 {
				fmt.Fprintf(os.Stderr, "benchtable: pass %d of %d\n", i+1, passes)
			}
			if err := goTest(args, &out); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "benchtable: benchmarks took %s\n", time.Since(start).Round(time.Second))
	}
	if raw != "" {
		if err := os.WriteFile(raw, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	res, err := parse(&out)
	if err != nil {
		return err
	}
	if len(res.rows) == 0 {
		return errors.New("no benchmark results in the output")
	}
	m := machine(res.cpu)
	checks := evaluate(res)
	render(os.Stdout, m, cmdline, res, checks)
	if strict {
		for _, c := range checks {
			if c.status == statusMiss {
				return errors.New("a budget target was missed")
			}
		}
	}
	return nil
}

// checkDir makes sure the benchmarks run in this module, not another one.
func checkDir() error {
	data, err := os.ReadFile("go.mod")
	if err != nil || !bytes.Contains(data, []byte("module github.com/fluxgate/fluxgate/benchmarks")) {
		return errors.New("run me from the benchmarks directory (cd benchmarks && go run ./cmd/benchtable), or use benchmarks/run.sh")
	}
	return nil
}

// goTest runs go test with args, echoing its output to stderr and
// appending it to out.
func goTest(args []string, out *bytes.Buffer) error {
	cmd := exec.Command("go", args...)
	// A fresh clone may need the module graph completed (the library's own
	// requirements change over time): let go update go.sum as needed.
	if flags := os.Getenv("GOFLAGS"); !strings.Contains(flags, "-mod=") {
		cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(flags+" -mod=mod"))
	}
	cmd.Stdout = io.MultiWriter(out, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test: %w", err)
	}
	return nil
}

func quoteArgs(args []string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$ *") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return q
}

// machineInfo names the machine the table was measured on.
type machineInfo struct {
	cpu    string
	nproc  int
	gomax  int
	goVer  string
	goos   string
	goarch string
	kernel string
	rev    string // the library's git revision, when known
}

func machine(cpuFromTest string) machineInfo {
	m := machineInfo{
		cpu:    cpuFromTest,
		nproc:  runtime.NumCPU(),
		gomax:  runtime.GOMAXPROCS(0),
		goVer:  runtime.Version(),
		goos:   runtime.GOOS,
		goarch: runtime.GOARCH,
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		if v := strings.TrimSpace(string(out)); v != "" {
			m.goVer = v
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(data))
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.rev = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			m.rev += " with uncommitted changes"
		}
	}
	return m
}
