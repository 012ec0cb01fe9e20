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

func TestRunPretty(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-cooldown", "20ms"}))
	s := out.String()
	assert.Contains(t, s, `"Value": "counted"`)
	assert.Contains(t, s, `"Value": "ignored"`)
	assert.Equal(t, 3, strings.Count(s, `"Name": "circuit_breaker.state_change"`), "closed→open, open→half_open, half_open→closed")
	assert.Contains(t, s, "### call 5: payment provider unavailable; breaker open")
	assert.Contains(t, s, "### call 6: rejected (circuit breaker is open)")
	assert.Contains(t, s, "### call 8: charged; breaker closed")
	assert.Contains(t, s, `### tracker: "card declined: insufficient funds" is ignored (no rule matched it)`)
	assert.Contains(t, s, `### tracker: "payment provider unavailable" is counted (rule transient)`)
	assert.Contains(t, s, "### transition: closed -> open (tripped; the window had 4 calls, 2 failures)")
	assert.Contains(t, s, "### transition: open -> half_open (retry;")
	assert.Contains(t, s, "### transition: half_open -> closed (recovered;")
}

// span is the part of stdouttrace's JSON that the test reads.
type span struct {
	Name       string
	Attributes []struct {
		Key   string
		Value struct{ Value any }
	}
	Events []struct {
		Name       string
		Attributes []struct {
			Key   string
			Value struct{ Value any }
		}
	}
	Status struct{ Code, Description string }
}

func (s span) attr(key string) any {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.Value
		}
	}
	return nil
}

func TestRunCompact(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-cooldown=20ms", "-compact"}))
	var spans []span
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "{") {
			var s span
			require.NoError(t, json.Unmarshal([]byte(line), &s), line)
			spans = append(spans, s)
		}
	}
	require.Len(t, spans, 8)
	type row struct {
		State, Outcome, Decision, ErrorType any
		Events                              []string
	}
	var got []row
	for _, s := range spans {
		assert.Equal(t, "circuit_breaker payments", s.Name)
		r := row{s.attr("circuit_breaker.state"), s.attr("circuit_breaker.outcome"), s.attr("circuit_breaker.decision"), s.attr("error.type"), nil}
		for _, e := range s.Events {
			var from, to any
			for _, kv := range e.Attributes {
				switch kv.Key {
				case "circuit_breaker.previous_state":
					from = kv.Value.Value
				case "circuit_breaker.state":
					to = kv.Value.Value
				}
			}
			r.Events = append(r.Events, e.Name+" "+from.(string)+"→"+to.(string))
		}
		got = append(got, r)
	}
	assert.Equal(t, []row{
		{"closed", "success", nil, nil, nil},
		{"closed", "error", "ignored", "card_declined", nil},
		{"closed", "success", nil, nil, nil},
		{"closed", "error", "counted", "provider_unavailable", nil},
		{"closed", "error", "counted", "provider_unavailable", []string{"circuit_breaker.state_change closed→open"}},
		{"open", "rejected", nil, "circuit_breaker_open", nil},
		{"half_open", "success", nil, nil, []string{"circuit_breaker.state_change open→half_open", "circuit_breaker.state_change half_open→closed"}},
		{"closed", "success", nil, nil, nil},
	}, got)
}

func TestRunBadFlag(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, run(context.Background(), &out, []string{"-nope"}))
}
