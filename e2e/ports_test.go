package e2e

import (
	"net"
	"strings"
	"testing"
)

// testCollectorPortTaken starts a second Collector on a port that another
// listener holds: it must come up on another port.
func testCollectorPortTaken(t *testing.T, e *env) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	tries := 0
	c := startCollectorOn(t, e.col.bin, e.sink.url(), e.prom.url, func() int {
		tries++
		if tries == 1 {
			return taken
		}
		return freePort(t)
	})
	defer c.stop()
	if tries != 2 {
		t.Errorf("started after %d tries, want 2 (the taken port, then a free one)", tries)
	}
	if err := c.ready(); err != nil {
		t.Error(err)
	}
}

// TestTakenPortPicksAnother starts Prometheus on a port that another
// listener holds: the start must notice and come up on another port.
func TestTakenPortPicksAnother(t *testing.T) {
	requirePrometheus(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	tries := 0
	p := startPrometheusOn(t, nil, func() int {
		tries++
		if tries == 1 {
			return taken
		}
		return freePort(t)
	})
	if tries != 2 {
		t.Errorf("started after %d tries, want 2 (the taken port, then a free one)", tries)
	}
	if strings.HasSuffix(p.url, ":"+itoa(int64(taken))) {
		t.Errorf("Prometheus claims the taken port: %s", p.url)
	}
	if err := p.ready(); err != nil {
		t.Error(err)
	}
}
