package breakerstatus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// errUpstream is an error with its own class, as a protocol error has.
type errUpstream struct{ code string }

func (e *errUpstream) Error() string     { return "upstream failed with " + e.code }
func (e *errUpstream) ErrorType() string { return e.code }

// fixture is a registry listing a breaker "payments" and a group "hosts"
// (keys a and b), all recorded by the registry's hooks.
type fixture struct {
	reg *breakerstatus.Registry
	b   *breaker.Breaker
	g   *breaker.Group
}

func newFixture(t *testing.T, hooks ...sdk.Hooks) *fixture {
	t.Helper()
	reg, err := breakerstatus.NewRegistry()
	require.NoError(t, err)
	opts := []breaker.Option{
		breaker.WithHooks(append([]sdk.Hooks{reg.Hooks()}, hooks...)...),
		breaker.WithTracker(tracker.Named("upstream_5xx", tracker.TypeOf[*errUpstream]())),
		breaker.WithTripper(breaker.FailureStreak(2)),
	}
	b, err := breaker.New("payments", opts...)
	require.NoError(t, err)
	require.NoError(t, reg.Add(b))
	g, err := breaker.NewGroup("hosts", opts...)
	require.NoError(t, err)
	require.NoError(t, reg.AddGroup(g))
	for _, k := range []string{"a", "b"} {
		_, err := g.Get(k)
		require.NoError(t, err)
	}
	f := &fixture{reg: reg, b: b, g: g}
	// The registry holds breakers weakly: keep them for the whole test.
	t.Cleanup(func() { runtime.KeepAlive(f) })
	return f
}

// fail makes one counted failure through b.
func fail(b *breaker.Breaker) {
	_ = b.Do(context.Background(), func(context.Context) error { return &errUpstream{code: "503"} })
}

func get(t *testing.T, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func status(t *testing.T, h http.Handler) breakerstatus.Status {
	t.Helper()
	w := get(t, h, "/debug/breakers?format=json")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var st breakerstatus.Status
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&st))
	return st
}

// post sends a command body as a same-origin browser would.
func post(t *testing.T, h http.Handler, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/debug/breakers", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Authorization", "Bearer sesame")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			r.Header.Del(header[i])
		} else {
			r.Header.Set(header[i], header[i+1])
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// tokenAuth authorises requests that carry "Bearer sesame", as "alice".
func tokenAuth(r *http.Request) (string, bool) {
	if r.Header.Get("Authorization") == "Bearer sesame" {
		return "alice", true
	}
	return "", false
}

func errorBody(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var e breakerstatus.ErrorResponse
	require.NoError(t, json.NewDecoder(bytes.NewReader(w.Body.Bytes())).Decode(&e))
	require.NotEmpty(t, e.Error)
	return e.Error
}

func findBreaker(st breakerstatus.Status, name, key string) (breakerstatus.Breaker, error) {
	for _, b := range st.Breakers {
		if b.Name == name && key == "" {
			return b, nil
		}
	}
	for _, g := range st.Groups {
		if g.Name != name {
			continue
		}
		for _, b := range g.Breakers {
			if b.Key == key {
				return b, nil
			}
		}
	}
	return breakerstatus.Breaker{}, errors.New("not listed")
}

func recorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
