package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
)

const token = "xoxb-test-secret-token"

// fakeSlack records the requests it gets and answers like chat.postMessage,
// with ts "1.000001", "1.000002", ..., or with reply when it is set.
type fakeSlack struct {
	*httptest.Server
	mu       sync.Mutex
	messages []map[string]any
	auth     []string
	reply    map[string]any
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if !assert.NoError(t, json.NewDecoder(r.Body).Decode(&m)) {
			return
		}
		assert.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
		f.mu.Lock()
		f.messages = append(f.messages, m)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		reply := f.reply
		if reply == nil {
			reply = map[string]any{"ok": true, "ts": fmt.Sprintf("1.%06d", len(f.messages))}
		}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(reply)
	}))
	t.Cleanup(f.Close)
	return f
}

// summary is what the tests check of a message.
type summary struct {
	Title, Color, Transition, Thread string
	Broadcast                        bool
}

func (f *fakeSlack) summaries() []summary {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []summary
	for _, m := range f.messages {
		att := m["attachments"].([]any)[0].(map[string]any)
		blocks := att["blocks"].([]any)
		title := blocks[0].(map[string]any)["text"].(map[string]any)["text"].(string)
		fields := blocks[1].(map[string]any)["fields"].([]any)
		transition := strings.TrimPrefix(fields[1].(map[string]any)["text"].(string), "*State Transition:*\n")
		thread, _ := m["thread_ts"].(string)
		broadcast, _ := m["reply_broadcast"].(bool)
		out = append(out, summary{title, att["color"].(string), transition, thread, broadcast})
	}
	return out
}

func TestRun(t *testing.T) {
	slack := newFakeSlack(t)
	t.Setenv("FLUXGATE_TEST_SLACK_TOKEN", token)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{
		"-url", slack.URL, "-channel", "C0123", "-token-env", "FLUXGATE_TEST_SLACK_TOKEN", "-cooldown", "10ms"}))

	assert.Equal(t, []summary{
		{"*🚨 Circuit Breaker Triggered*", "#FF4C4C", "closed → open", "", false},
		{"*🔄 Attempting Circuit Breaker Recovery*", "#FFA500", "open → half_open", "1.000001", false},
		{"*⚠️ Circuit Breaker Re-triggered*", "#FF4C4C", "half_open → open", "1.000001", false},
		{"*🔄 Attempting Circuit Breaker Recovery*", "#FFA500", "open → half_open", "1.000001", false},
		{"*✅ Circuit Breaker Recovered*", "#36a64f", "half_open → closed", "1.000001", true},
		{"*ℹ️ Circuit Breaker State Changed*", "#808080", "closed → forced_open", "", false},
		{"*ℹ️ Circuit Breaker State Changed*", "#808080", "forced_open → closed", "", true},
	}, slack.summaries())

	first := slack.messages[0]
	assert.Equal(t, "C0123", first["channel"])
	fields := first["attachments"].([]any)[0].(map[string]any)["blocks"].([]any)[1].(map[string]any)["fields"].([]any)
	var texts []string
	for _, f := range fields {
		assert.Equal(t, "mrkdwn", f.(map[string]any)["type"])
		texts = append(texts, f.(map[string]any)["text"].(string))
	}
	assert.Equal(t, "*Circuit Breaker:*\npayments", texts[0])
	assert.Regexp(t, `^\*Transition Time:\*\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, texts[2])
	assert.Equal(t, "*Description:*\nThe request failure rate exceeded the threshold.", texts[3])

	for _, a := range slack.auth {
		assert.Equal(t, "Bearer "+token, a)
	}
	assert.NotContains(t, out.String(), token, "the token is never printed")
	assert.Empty(t, out.String(), "nothing to report")
}

func TestRunWithoutToken(t *testing.T) {
	t.Setenv("FLUXGATE_TEST_SLACK_TOKEN", "")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, []string{"-token-env", "FLUXGATE_TEST_SLACK_TOKEN", "-cooldown", "10ms"}))
	s := out.String()
	assert.Contains(t, s, "FLUXGATE_TEST_SLACK_TOKEN is not set: posting to a local stand-in for Slack at http://127.0.0.1:")
	assert.Equal(t, 7, strings.Count(s, "POST to #alerts"))
	assert.Contains(t, s, ", in thread ")
	assert.Contains(t, s, "*✅ Circuit Breaker Recovered*")
}

// send posts the transitions of the named breakers through a Notifier and
// returns the summaries of what Slack got.
func send(t *testing.T, slack *fakeSlack, logs *bytes.Buffer, ts ...sdk.Transition) []summary {
	n := NewNotifier(slack.URL, token, "#c", slog.New(slog.NewTextHandler(logs, nil)))
	h := n.Hooks()
	for _, tr := range ts {
		h.StateChange(context.Background(), tr)
	}
	n.Close()
	return slack.summaries()
}

func tr(name string, from, to sdk.State) sdk.Transition {
	return sdk.Transition{Name: name, From: from, To: to, At: time.Now()}
}

func TestThreadRules(t *testing.T) {
	const (
		closed, open, half, metrics, disabled, forced = sdk.StateClosed, sdk.StateOpen, sdk.StateHalfOpen,
			sdk.StateMetricsOnly, sdk.StateDisabled, sdk.StateForcedOpen
	)
	threads := func(ss []summary) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Thread)
		}
		return out
	}
	tests := []struct {
		name string
		ts   []sdk.Transition
		want []string // thread_ts of each message
	}{
		{"half_open keeps the thread, closed ends it",
			[]sdk.Transition{tr("a", closed, open), tr("a", open, half), tr("a", half, closed), tr("a", closed, open)},
			[]string{"", "1.000001", "1.000001", ""}},
		{"a reset while open ends it",
			[]sdk.Transition{tr("a", closed, open), tr("a", open, closed), tr("a", closed, open)},
			[]string{"", "1.000001", ""}},
		{"disabled ends it",
			[]sdk.Transition{tr("a", closed, open), tr("a", open, disabled), tr("a", disabled, closed)},
			[]string{"", "1.000001", ""}},
		{"metrics_only ends it",
			[]sdk.Transition{tr("a", closed, open), tr("a", open, metrics), tr("a", metrics, open)},
			[]string{"", "1.000001", ""}},
		{"forced_open keeps it; forced_open → closed ends it",
			[]sdk.Transition{tr("a", closed, open), tr("a", open, forced), tr("a", forced, closed), tr("a", closed, open)},
			[]string{"", "1.000001", "1.000001", ""}},
		{"forced_open does not start one",
			[]sdk.Transition{tr("a", closed, forced), tr("a", forced, closed)},
			[]string{"", ""}},
		{"a re-open keeps the first thread",
			[]sdk.Transition{tr("a", closed, open), tr("a", open, half), tr("a", half, open), tr("a", open, half)},
			[]string{"", "1.000001", "1.000001", "1.000001"}},
		{"breakers have threads of their own",
			[]sdk.Transition{tr("a", closed, open), tr("b", closed, open), tr("a", open, half), tr("b", open, half)},
			[]string{"", "", "1.000001", "1.000002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			assert.Equal(t, tt.want, threads(send(t, newFakeSlack(t), &logs, tt.ts...)))
			assert.Empty(t, logs.String())
		})
	}
}

func TestTemplates(t *testing.T) {
	var logs bytes.Buffer
	got := send(t, newFakeSlack(t), &logs,
		tr("a", sdk.StateDisabled, sdk.StateClosed), tr("a", sdk.StateClosed, sdk.StateMetricsOnly))
	assert.Equal(t, []summary{
		{"*ℹ️ Circuit Breaker State Changed*", "#808080", "disabled → closed", "", true},
		{"*ℹ️ Circuit Breaker State Changed*", "#808080", "closed → metrics_only", "", false},
	}, got)
}

func TestFailedPost(t *testing.T) {
	slack := newFakeSlack(t)
	slack.reply = map[string]any{"ok": false, "error": "channel_not_found"}
	var logs bytes.Buffer
	got := send(t, slack, &logs, tr("a", sdk.StateClosed, sdk.StateOpen), tr("a", sdk.StateOpen, sdk.StateHalfOpen))
	assert.Equal(t, "", got[1].Thread, "no thread from a failed post")
	assert.Equal(t, 2, strings.Count(logs.String(), `msg="slack: failed to send message: channel_not_found"`))
	assert.NotContains(t, logs.String(), token)
}

func TestTokenNotInNotifier(t *testing.T) {
	n := NewNotifier("http://127.0.0.1:1", token, "#c", slog.New(slog.DiscardHandler))
	defer n.Close()
	for _, format := range []string{"%v", "%+v", "%#v"} {
		assert.NotContains(t, fmt.Sprintf(format, n), token)
		assert.NotContains(t, fmt.Sprintf(format, *n), token)
	}
}
