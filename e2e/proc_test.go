package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a process the test started. Its output is kept for error
// messages.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // of Wait, once done is closed
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// process's stdout and stderr.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc starts cmd with its stdout and stderr captured (unless the
// caller set them).
func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM, then SIGKILL if it is still running
// after grace. It returns once the process has exited.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill ends the process at once with SIGKILL: it gets no chance to flush.
func (p *proc) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// tail returns the last lines of the process's output.
func (p *proc) tail() string {
	s := p.out.String()
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Callers that hand it to another process retry with another port when
// that process finds it taken (see startWithRetry).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// errPortTaken tells startWithRetry to try again with other ports.
var errPortTaken = errors.New("port taken")

// startWithRetry calls start up to five times, for as long as it fails with
// errPortTaken: another process took a port between freePort and the
// start.
func startWithRetry[T any](t testing.TB, what string, start func() (T, error)) T {
	t.Helper()
	var err error
	for range 5 {
		var v T
		v, err = start()
		if err == nil {
			return v
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
		t.Logf("%s: %v; trying other ports", what, err)
	}
	t.Fatalf("starting %s: %v", what, err)
	panic("unreachable")
}

// waitFor calls cond every interval until it returns nil or ctx ends, and
// returns the last error.
func waitFor(ctx context.Context, interval time.Duration, cond func() error) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// addrInUse reports whether a process's output says that its listen
// address was taken.
func addrInUse(out string) bool {
	return strings.Contains(out, "address already in use")
}
