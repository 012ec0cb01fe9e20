package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of run and
// reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sample returns the value of the sample of metric whose labels include
// every one of labels (`name="value"`), and whether there is one.
func sample(exposition, metric string, labels ...string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		return line[strings.LastIndexByte(line, ' ')+1:], true
	}
	return "", false
}

func TestRunServesMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, []string{"-listen", "127.0.0.1:0", "-load", "0", "-cooldown", "1h"}) }()

	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/metrics`)
	var base string
	require.Eventually(t, func() bool {
		m := addr.FindStringSubmatch(out.String())
		if m != nil {
			base = "http://" + m[1]
		}
		return m != nil
	}, 5*time.Second, 5*time.Millisecond, "the address line; output: %s", out)

	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	// Before any call: the state gauge is there already.
	_, metrics := get("/metrics")
	v, ok := sample(metrics, "circuit_breaker_state", `circuit_breaker_name="payments"`, `circuit_breaker_state="closed"`)
	require.True(t, ok, metrics)
	assert.Equal(t, "1", v)

	var codes []int
	for range 7 {
		resp, _ := get("/charge")
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusServiceUnavailable {
			assert.Equal(t, "3600", resp.Header.Get("Retry-After"))
		}
	}
	assert.Equal(t, []int{200, 402, 502, 200, 502, 502, 503}, codes, "the 6th call trips the breaker; the 7th is rejected")

	_, metrics = get("/metrics")
	for _, tt := range []struct {
		metric string
		labels []string
		want   string
	}{
		{"circuit_breaker_calls_total", []string{`circuit_breaker_outcome="success"`, `circuit_breaker_state="closed"`}, "2"},
		{"circuit_breaker_calls_total", []string{`circuit_breaker_decision="counted"`, `error_type="provider_unavailable"`}, "3"},
		{"circuit_breaker_calls_total", []string{`circuit_breaker_decision="ignored"`, `error_type="card_declined"`}, "1"},
		{"circuit_breaker_calls_total", []string{`circuit_breaker_outcome="rejected"`, `circuit_breaker_state="open"`, `error_type="circuit_breaker_open"`}, "1"},
		{"circuit_breaker_state", []string{`circuit_breaker_state="open"`}, "1"},
		{"circuit_breaker_state", []string{`circuit_breaker_state="closed"`}, "0"},
		{"circuit_breaker_transitions_total", []string{`circuit_breaker_previous_state="closed"`, `circuit_breaker_state="open"`}, "1"},
		{"circuit_breaker_call_duration_seconds_count", []string{`circuit_breaker_outcome="error"`, `circuit_breaker_decision="counted"`}, "3"},
	} {
		got, ok := sample(metrics, tt.metric, append(tt.labels, `circuit_breaker_name="payments"`, `otel_scope_name="github.com/fluxgate/fluxgate/otelbridge"`)...)
		if assert.True(t, ok, "%s %v", tt.metric, tt.labels) {
			assert.Equal(t, tt.want, got, "%s %v", tt.metric, tt.labels)
		}
	}

	// OpenMetrics, for a Prometheus with exemplar storage: each latency
	// bucket that got a call links to the span of one such call.
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	assert.Contains(t, resp.Header.Get("Content-Type"), "application/openmetrics-text")
	exemplar := regexp.MustCompile(`^circuit_breaker_call_duration_seconds_bucket\{[^}]*circuit_breaker_outcome="success"[^}]*\} \d+ # \{(span_id="[0-9a-f]{16}",trace_id="[0-9a-f]{32}"|trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}")\} `)
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		found = found || exemplar.MatchString(line)
	}
	assert.True(t, found, "a success bucket with an exemplar (trace_id, span_id):\n%s", body)
	assert.NotContains(t, metrics, "trace_id", "the classic text format has no exemplars")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestRunWithLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	out := &syncBuffer{}
	require.NoError(t, run(ctx, out, []string{"-listen", "127.0.0.1:0", "-load", "5ms", "-cooldown", "20ms"}))
	assert.Contains(t, out.String(), "serving http://127.0.0.1:")
}

func TestRunBadListenAddress(t *testing.T) {
	assert.Error(t, run(context.Background(), io.Discard, []string{"-listen", "256.0.0.1:bad"}))
}
