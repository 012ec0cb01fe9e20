package breakerstatus_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

var commandStates = map[string]sdk.State{
	breakerstatus.CommandReset:       sdk.StateClosed,
	breakerstatus.CommandDisable:     sdk.StateDisabled,
	breakerstatus.CommandMetricsOnly: sdk.StateMetricsOnly,
	breakerstatus.CommandForceOpen:   sdk.StateForcedOpen,
}

// start moves every breaker of f away from the state cmd leads to, so that
// a command that did nothing cannot pass.
func (f *fixture) start(t *testing.T, cmd string) {
	t.Helper()
	other := func(b *breaker.Breaker) {
		if cmd == breakerstatus.CommandDisable {
			b.MetricsOnly(t.Context())
		} else {
			b.Disable(t.Context())
		}
	}
	other(f.b)
	for _, k := range []string{"a", "b"} {
		b, err := f.g.Get(k)
		require.NoError(t, err)
		other(b)
	}
}

func (f *fixture) states(t *testing.T) map[string]sdk.State {
	t.Helper()
	m := map[string]sdk.State{"payments": f.b.State()}
	for k, info := range f.g.Info() {
		m["hosts/"+k] = info.State
	}
	return m
}

func TestCommands(t *testing.T) {
	targets := []struct {
		name, body string
		changes    []string // the entries of states() the command changes
	}{
		{"breaker", `"name":"payments"`, []string{"payments"}},
		{"key", `"name":"hosts","key":"a"`, []string{"hosts/a"}},
		{"group", `"name":"hosts","all":true`, []string{"hosts/a", "hosts/b"}},
	}
	for cmd, want := range commandStates {
		for _, tg := range targets {
			body := fmt.Sprintf(`{"command":%q,%s}`, cmd, tg.body)
			t.Run(cmd+"/"+tg.name+"/allowed", func(t *testing.T) {
				f := newFixture(t)
				f.start(t, cmd)
				before := f.states(t)
				var logs bytes.Buffer
				h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth),
					breakerstatus.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
				require.NoError(t, err)
				w := post(t, h, body)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				var res breakerstatus.CommandResult
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &res))
				assert.Equal(t, cmd, res.Command)
				assert.Equal(t, "alice", res.By)
				assert.Equal(t, want.String(), res.State)

				after := f.states(t)
				for k := range before {
					if contains(tg.changes, k) {
						assert.Equal(t, want, after[k], k)
					} else {
						assert.Equal(t, before[k], after[k], "%s is not a target", k)
					}
				}
				// Logged with who, what, the target and the result.
				var rec map[string]any
				require.NoError(t, json.Unmarshal(logs.Bytes(), &rec), logs.String())
				assert.Equal(t, "INFO", rec["level"])
				assert.Equal(t, "alice", rec["who"])
				assert.Equal(t, cmd, rec["command"])
				assert.Equal(t, strings.Split(tg.changes[0], "/")[0], rec["name"])
				assert.Equal(t, "ok", rec["result"])
				// The page shows who did it.
				st := status(t, h)
				name, key, _ := strings.Cut(tg.changes[0], "/")
				b, err := findBreaker(st, name, key)
				require.NoError(t, err)
				require.NotEmpty(t, b.Transitions)
				assert.Equal(t, "manual", b.Transitions[0].Reason)
				assert.Equal(t, "alice", b.Transitions[0].By)
			})
			for _, refused := range []struct {
				name string
				opts []breakerstatus.HandlerOption
				hdr  []string
				msg  string
			}{
				{"read-only", nil, nil, "read-only"},
				{"unauthorised", []breakerstatus.HandlerOption{breakerstatus.WithAuthorize(tokenAuth)}, []string{"Authorization", "Bearer wrong"}, "not authorised"},
				{"no credentials", []breakerstatus.HandlerOption{breakerstatus.WithAuthorize(tokenAuth)}, []string{"Authorization", ""}, "not authorised"},
			} {
				t.Run(cmd+"/"+tg.name+"/"+refused.name, func(t *testing.T) {
					f := newFixture(t)
					f.start(t, cmd)
					before := f.states(t)
					var logs bytes.Buffer
					opts := append(refused.opts, breakerstatus.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
					h, err := breakerstatus.NewHandler(f.reg, opts...)
					require.NoError(t, err)
					w := post(t, h, body, refused.hdr...)
					require.Equal(t, http.StatusForbidden, w.Code)
					assert.Contains(t, errorBody(t, w), refused.msg)
					assert.Equal(t, before, f.states(t), "a refused command changes nothing")
					assert.Contains(t, logs.String(), `"level":"WARN"`)
					assert.Contains(t, logs.String(), refused.msg)
				})
			}
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestCommandsBadInput(t *testing.T) {
	long := `{"command":"reset","name":"` + strings.Repeat("x", 5000) + `"}`
	tests := []struct {
		name   string
		method string
		ctype  string
		body   string
		code   int
		msg    string
	}{
		{"unknown breaker", "POST", "application/json", `{"command":"reset","name":"nope"}`, 404, `no breaker or group named "nope"`},
		{"unknown key", "POST", "application/json", `{"command":"reset","name":"hosts","key":"zzz"}`, 404, `holds no key "zzz"`},
		{"unknown command", "POST", "application/json", `{"command":"explode","name":"payments"}`, 400, `unknown command "explode"`},
		{"no command", "POST", "application/json", `{"name":"payments"}`, 400, `unknown command ""`},
		{"no name", "POST", "application/json", `{"command":"reset"}`, 400, "no name"},
		{"unknown field", "POST", "application/json", `{"command":"reset","name":"payments","force":true}`, 400, "malformed"},
		{"malformed", "POST", "application/json", `{"command":`, 400, "malformed"},
		{"two objects", "POST", "application/json", `{"command":"reset","name":"payments"}{}`, 400, "one JSON object"},
		{"not an object", "POST", "application/json", `"reset"`, 400, "malformed"},
		{"oversized", "POST", "application/json", long, 413, "larger than 4096 bytes"},
		{"form body", "POST", "application/x-www-form-urlencoded", `command=reset&name=payments`, 415, "Content-Type: application/json"},
		{"no content type", "POST", "", `{"command":"reset","name":"payments"}`, 415, "Content-Type: application/json"},
		{"key and all", "POST", "application/json", `{"command":"reset","name":"hosts","key":"a","all":true}`, 400, "either key or all"},
		{"group without key", "POST", "application/json", `{"command":"reset","name":"hosts"}`, 400, "give a key, or all"},
		{"breaker with key", "POST", "application/json", `{"command":"reset","name":"payments","key":"a"}`, 400, "is a breaker, not a group"},
		{"breaker with all", "POST", "application/json", `{"command":"reset","name":"payments","all":true}`, 400, "is a breaker, not a group"},
		{"PUT", "PUT", "application/json", `{"command":"reset","name":"payments"}`, 405, "method PUT is not allowed"},
		{"DELETE", "DELETE", "", ``, 405, "method DELETE is not allowed"},
		{"PATCH", "PATCH", "application/json", `{"command":"reset","name":"payments"}`, 405, "method PATCH is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.start(t, breakerstatus.CommandReset)
			before := f.states(t)
			h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth))
			require.NoError(t, err)
			r, err := http.NewRequest(tt.method, "http://example.test/debug/breakers", strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			r.Header.Set("Authorization", "Bearer sesame")
			w := recorder()
			h.ServeHTTP(w, r)
			require.Equal(t, tt.code, w.Code, w.Body.String())
			assert.Contains(t, errorBody(t, w), tt.msg)
			if tt.code == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, HEAD, POST", w.Header().Get("Allow"))
			}
			assert.Equal(t, before, f.states(t), "bad input changes nothing")
			assert.Equal(t, 2, f.g.Len(), "no key was built")
		})
	}
}

func TestCommandOverflowKey(t *testing.T) {
	reg, err := breakerstatus.NewRegistry()
	require.NoError(t, err)
	g, err := breaker.NewGroup("hosts", breaker.WithHooks(reg.Hooks()), breaker.WithMaxKeys(1))
	require.NoError(t, err)
	require.NoError(t, reg.AddGroup(g))
	a, err := g.Get("a")
	require.NoError(t, err)
	a.ForceOpen(t.Context()) // never evicted: the next key overflows
	over, err := g.Get("b")
	require.NoError(t, err)
	require.Equal(t, breaker.OverflowKey, over.Key())
	h, err := breakerstatus.NewHandler(reg, breakerstatus.WithAuthorize(tokenAuth))
	require.NoError(t, err)

	st := status(t, h)
	require.Len(t, st.Groups[0].Breakers, 2)
	ob, err := findBreaker(st, "hosts", breaker.OverflowKey)
	require.NoError(t, err)
	assert.True(t, ob.Overflow)
	assert.Equal(t, 1, st.Groups[0].Keys, "the overflow breaker is not a key of its own")

	w := post(t, h, `{"command":"force_open","name":"hosts","key":"_OTHER"}`)
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, errorBody(t, w), "overflow breaker")
	assert.Equal(t, sdk.StateClosed, over.State())
	assert.Equal(t, 1, g.Len())

	w = post(t, h, `{"command":"force_open","name":"hosts","all":true}`)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, sdk.StateForcedOpen, over.State(), "the group command reaches it")
}
