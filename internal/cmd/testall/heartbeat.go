package main

import (
	"fmt"
	"io"
	"time"
)

// heartbeatEvery is how often a step that is still running is reported.
const heartbeatEvery = 30 * time.Second

// heartbeat prints "still running: what (elapsed)" to w every interval
// until done is closed, so that a long step (the e2e module's go vet on a
// cold build cache takes minutes) never leaves the output silent. It
// returns when done is closed.
func heartbeat(w io.Writer, what string, every time.Duration, done <-chan struct{}) {
	start := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fmt.Fprintf(w, "   still running: %s (%s)\n", what, time.Since(start).Round(time.Second))
		}
	}
}
