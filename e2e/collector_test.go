package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// buildCollectorInBackground starts building cmd/otelcol, so that the
// build overlaps with starting Prometheus, and returns a func that waits for
// the build and returns the binary's path, failing t if it failed. A test
// that ends before then ends the build.
func buildCollectorInBackground(t *testing.T) (wait func() string) {
	t.Helper()
	type built struct {
		bin string
		err error
	}
	done := make(chan built, 1)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var building sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		building.Wait()
	})
	building.Go(func() {
		bin, err := buildCollector(ctx, dir)
		done <- built{bin, err}
	})
	return func() string {
		t.Helper()
		b := <-done
		if b.err != nil {
			t.Fatal(b.err)
		}
		return b.bin
	}
}

// buildCollector builds cmd/otelcol into dir and returns the binary's
// path; ending ctx ends the build. The Go build cache makes every build after the first one quick.
func buildCollector(ctx context.Context, dir string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(dir, "otelcol")
	// A cold build compiles about a thousand packages; the Go build cache
	// makes every later one take seconds.
	ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "./cmd/otelcol")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/otelcol: %v\n%s", err, lastLines(string(out), 30))
	}
	return bin, nil
}

// collector is a running OpenTelemetry Collector: OTLP/HTTP in on
// otlpAddr; spans out to the test's span sink, metrics out by remote
// write to Prometheus.
type collector struct {
	bin      string
	cfgFile  string
	otlpAddr string // host:port of the OTLP/HTTP receiver

	mu   sync.Mutex // guards proc
	proc *proc
}

// collectorConfig is the Collector's configuration. The remote-write queue
// has one consumer, so that the samples of a series reach Prometheus in
// order. (The Collector's own telemetry is off: see cmd/otelcol.)
const collectorConfig = `receivers:
  otlp:
    protocols:
      http:
        endpoint: %[1]s
exporters:
  otlphttp/spans:
    traces_endpoint: %[2]s
    compression: none
    retry_on_failure:
      enabled: false
  prometheusremotewrite:
    endpoint: %[3]s/api/v1/write
    remote_write_queue:
      num_consumers: 1
    target_info:
      enabled: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp/spans]
    metrics:
      receivers: [otlp]
      exporters: [prometheusremotewrite]
`

// startCollector writes the configuration and starts the Collector on a
// free port.
func startCollector(t testing.TB, bin, spansURL, promURL string) *collector {
	t.Helper()
	return startCollectorOn(t, bin, spansURL, promURL, func() int { return freePort(t) })
}

// startCollectorOn is startCollector with the ports to try from port.
func startCollectorOn(t testing.TB, bin, spansURL, promURL string, port func() int) *collector {
	t.Helper()
	dir := t.TempDir()
	c := startWithRetry(t, "collector", func() (*collector, error) {
		c := &collector{
			bin:      bin,
			cfgFile:  filepath.Join(dir, "otelcol.yaml"),
			otlpAddr: "127.0.0.1:" + strconv.Itoa(port()),
		}
		cfg := fmt.Sprintf(collectorConfig, c.otlpAddr, spansURL, promURL)
		if err := os.WriteFile(c.cfgFile, []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		return c, c.start()
	})
	t.Cleanup(c.stop)
	return c
}

// start starts the Collector process and waits until its receiver
// accepts connections.
func (c *collector) start() error {
	p, err := startProc("collector", exec.Command(c.bin, "--config=file:"+c.cfgFile))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = waitFor(ctx, 100*time.Millisecond, func() error {
		if p.exited() {
			return nil
		}
		return c.ready()
	})
	if p.exited() {
		if addrInUse(p.out.String()) {
			return errPortTaken
		}
		return fmt.Errorf("collector exited: %v\n%s", p.err, p.tail())
	}
	if err != nil {
		p.stop(5 * time.Second)
		return fmt.Errorf("collector did not start listening: %v\n%s", err, p.tail())
	}
	c.mu.Lock()
	c.proc = p
	c.mu.Unlock()
	return nil
}

// ready posts an empty OTLP trace request to the receiver: only the
// Collector answers it with 200 (a process that holds the port and is not
// the Collector does not).
func (c *collector) ready() error {
	resp, err := readyClient.Post("http://"+c.otlpAddr+"/v1/traces", "application/x-protobuf", http.NoBody)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("OTLP receiver: %s", resp.Status)
	}
	return nil
}

// stop shuts the Collector down gracefully (SIGTERM): it drains what it
// has queued before it exits.
func (c *collector) stop() {
	c.mu.Lock()
	p := c.proc
	c.proc = nil
	c.mu.Unlock()
	if p != nil {
		p.stop(20 * time.Second)
	}
}
