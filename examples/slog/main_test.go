package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunJSON(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-json", "-cooldown=10ms"}))
	type record struct {
		Level, Msg, CircuitName, OldState, NewState, Reason string
		WindowCalls, WindowFailures                         int
	}
	var got []record
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		got = append(got, record{
			Level: m["level"].(string), Msg: m["msg"].(string), CircuitName: m["circuit_name"].(string),
			OldState: m["old_state"].(string), NewState: m["new_state"].(string), Reason: m["reason"].(string),
			WindowCalls: int(m["window_calls"].(float64)), WindowFailures: int(m["window_failures"].(float64)),
		})
	}
	const msg = "circuit breaker state changed"
	assert.Equal(t, []record{
		{"WARN", msg, "payments", "closed", "open", "tripped", 2, 2},
		{"INFO", msg, "payments", "open", "half_open", "retry", 0, 0},
		{"WARN", msg, "payments", "half_open", "open", "reopened", 1, 1},
		{"INFO", msg, "payments", "open", "half_open", "retry", 0, 0},
		{"INFO", msg, "payments", "half_open", "closed", "recovered", 1, 0},
		{"ERROR", msg, "payments", "closed", "forced_open", "manual", 0, 0},
		{"INFO", msg, "payments", "forced_open", "closed", "manual", 0, 0},
	}, got)
}

func TestRunText(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-cooldown=10ms"}))
	assert.Contains(t, out.String(), `level=WARN msg="circuit breaker state changed" circuit_name=payments old_state=closed new_state=open`)
	assert.Equal(t, 7, strings.Count(out.String(), "\n"))
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	assert.ErrorIs(t, run(ctx, &out, []string{"-cooldown=1h"}), context.Canceled)
}
