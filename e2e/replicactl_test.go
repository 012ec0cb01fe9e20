package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

// replicaProc is the test's handle on a replica process.
type replicaProc struct {
	name  string
	proc  *proc
	stdin io.WriteCloser
	msgs  chan replicaMsg // every message but "call"
	calls atomic.Int64    // "call" messages seen
	first *truth          // the truth of the flush at construction
}

// startReplica starts the test binary as a replica with cfg and waits for
// its first flush, right after its breaker was built.
func startReplica(t testing.TB, cfg replicaConfig) *replicaProc {
	t.Helper()
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), replicaEnv+"="+string(cfgJSON))
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := startProc("replica "+cfg.Instance, cmd)
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	r := &replicaProc{name: cfg.Instance, proc: p, stdin: stdin, msgs: make(chan replicaMsg, 16)}
	go func() {
		defer pr.Close()
		defer close(r.msgs)
		dec := json.NewDecoder(pr)
		for {
			var m replicaMsg
			if err := dec.Decode(&m); err != nil {
				return
			}
			if m.Kind == "call" {
				r.calls.Add(1)
				continue
			}
			r.msgs <- m
		}
	}()
	t.Cleanup(r.proc.kill)
	r.first, err = r.await("truth", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// await returns the next message, which must be of kind.
func (r *replicaProc) await(kind string, timeout time.Duration) (*truth, error) {
	select {
	case m, ok := <-r.msgs:
		if !ok {
			<-r.proc.done
			return nil, fmt.Errorf("replica %s exited (%v) while the test waited for %q:\n%s", r.name, r.proc.err, kind, r.proc.tail())
		}
		if m.Kind != kind {
			return nil, fmt.Errorf("replica %s: got %q, want %q", r.name, m.Kind, kind)
		}
		return m.Truth, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("replica %s: no %q within %s:\n%s", r.name, kind, timeout, r.proc.tail())
	}
}

func (r *replicaProc) send(cmd string) error {
	_, err := fmt.Fprintln(r.stdin, cmd)
	return err
}

// startRun tells the replica to make n calls; finishRun waits until it has.
func (r *replicaProc) startRun(n int) error { return r.send(fmt.Sprint("run ", n)) }

func (r *replicaProc) finishRun() error {
	_, err := r.await("ran", 2*time.Minute)
	return err
}

// enforce sets the enforcement of the replica's group to f.
func (r *replicaProc) enforce(f float64) error {
	if err := r.send(fmt.Sprint("enforce ", f)); err != nil {
		return err
	}
	_, err := r.await("enforced", 30*time.Second)
	return err
}

// flush has the replica export everything now and returns its truth.
func (r *replicaProc) flush() (*truth, error) {
	if err := r.send("flush"); err != nil {
		return nil, err
	}
	return r.await("truth", 30*time.Second)
}

// quit has the replica flush, shut down and exit, and returns its final
// truth.
func (r *replicaProc) quit() (*truth, error) {
	if err := r.send("quit"); err != nil {
		return nil, err
	}
	t, err := r.await("truth", 30*time.Second)
	if err == nil {
		select {
		case <-r.proc.done:
		case <-time.After(10 * time.Second):
			return t, fmt.Errorf("replica %s did not exit after quit", r.name)
		}
	}
	return t, err
}
