package breakerstatus_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk"
)

func TestCrossOriginCommandsRefused(t *testing.T) {
	tests := []struct {
		name string
		hdr  []string
		code int
	}{
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same-site fetch from another origin", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"origin mismatch without Sec-Fetch-Site", []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"same-origin fetch", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"matching origin", []string{"Sec-Fetch-Site", "", "Origin", "http://example.com"}, http.StatusOK},
		{"no browser headers (curl)", []string{"Sec-Fetch-Site", ""}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth))
			require.NoError(t, err)
			// httptest.NewRequest's Host is example.com.
			w := post(t, h, `{"command":"force_open","name":"payments"}`, tt.hdr...)
			require.Equal(t, tt.code, w.Code, w.Body.String())
			if tt.code == http.StatusForbidden {
				assert.Contains(t, errorBody(t, w), "cross-origin")
				assert.Equal(t, sdk.StateClosed, f.b.State(), "refused: nothing changed")
			} else {
				assert.Equal(t, sdk.StateForcedOpen, f.b.State())
			}
		})
	}
}

func TestTrustedOrigin(t *testing.T) {
	f := newFixture(t)
	cop := http.NewCrossOriginProtection()
	require.NoError(t, cop.AddTrustedOrigin("https://admin.example"))
	h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth), breakerstatus.WithCrossOriginProtection(cop))
	require.NoError(t, err)
	w := post(t, h, `{"command":"force_open","name":"payments"}`, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, sdk.StateClosed, f.b.State())
	w = post(t, h, `{"command":"force_open","name":"payments"}`, "Sec-Fetch-Site", "cross-site", "Origin", "https://admin.example")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, sdk.StateForcedOpen, f.b.State())
}

func TestAuthorizeSeesNoCrossOriginRequest(t *testing.T) {
	f := newFixture(t)
	called := false
	h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(func(*http.Request) (string, bool) {
		called = true
		return "mallory", true
	}))
	require.NoError(t, err)
	w := post(t, h, `{"command":"force_open","name":"payments"}`, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, w.Code)
	assert.False(t, called, "the cross-origin check comes first")
}

func TestPage(t *testing.T) {
	f := newFixture(t)
	fail(f.b)
	fail(f.b)
	t.Run("read-only", func(t *testing.T) {
		h, err := breakerstatus.NewHandler(f.reg)
		require.NoError(t, err)
		w := get(t, h, "/debug/breakers", "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
		body := w.Body.String()
		assert.Contains(t, body, "Read-only.")
		assert.Contains(t, body, `data-commands="false"`)
		assert.NotContains(t, body, `id="fg-token"`)
		assert.Contains(t, body, `data-refresh="2000"`)
		assert.Contains(t, body, "<li>payments: open since", "the no-script list")
		assert.Contains(t, body, "<li>hosts [a]: closed since")
		assert.Contains(t, body, `aria-live="polite"`)
		for _, id := range []string{"fg-f-name", "fg-f-key", "fg-f-state"} {
			assert.Contains(t, body, `<label for="`+id+`"`)
		}
		csp := w.Header().Get("Content-Security-Policy")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.Contains(t, csp, "default-src 'none'")
		nonce := strings.TrimPrefix(strings.Fields(csp)[3], "'nonce-")
		nonce = strings.TrimSuffix(strings.TrimSuffix(nonce, ";"), "'")
		assert.Contains(t, body, `<script nonce="`+nonce+`">`)
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
	})
	t.Run("commands", func(t *testing.T) {
		h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth), breakerstatus.WithRefresh(0))
		require.NoError(t, err)
		body := get(t, h, "/debug/breakers?format=html").Body.String()
		assert.Contains(t, body, "Commands are on.")
		assert.Contains(t, body, `data-commands="true"`)
		assert.Contains(t, body, `<label for="fg-token">`)
		assert.Contains(t, body, `data-refresh="0"`)
	})
	t.Run("names are escaped", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.g.Get(`<script>alert(1)</script>`)
		require.NoError(t, err)
		h, err := breakerstatus.NewHandler(f.reg)
		require.NoError(t, err)
		body := get(t, h, "/debug/breakers").Body.String()
		assert.NotContains(t, body, `<script>alert(1)</script>`)
		assert.Contains(t, body, `&lt;script&gt;alert(1)&lt;/script&gt;`)
	})
	t.Run("unknown format", func(t *testing.T) {
		h, err := breakerstatus.NewHandler(f.reg)
		require.NoError(t, err)
		w := get(t, h, "/debug/breakers?format=xml")
		require.Equal(t, http.StatusBadRequest, w.Code)
		assert.Contains(t, errorBody(t, w), `unknown format "xml"`)
	})
	t.Run("HEAD", func(t *testing.T) {
		h, err := breakerstatus.NewHandler(f.reg)
		require.NoError(t, err)
		r, err := http.NewRequest(http.MethodHead, "/debug/breakers?format=json", nil)
		require.NoError(t, err)
		w := recorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusOK, w.Code)
	})
}

func TestOptionsValidated(t *testing.T) {
	_, err := breakerstatus.NewRegistry(breakerstatus.WithMaxBreakers(0), breakerstatus.WithMaxTracked(-1),
		breakerstatus.WithTransitionsPerBreaker(-1), breakerstatus.WithRecentTransitions(-2),
		breakerstatus.WithMaxKeysListed(0), nil)
	require.Error(t, err)
	for _, want := range []string{"WithMaxBreakers(0): must be at least 1", "WithMaxTracked(-1): must be at least 1",
		"WithTransitionsPerBreaker(-1): must be at least 0", "WithRecentTransitions(-2): must be at least 0",
		"WithMaxKeysListed(0): must be at least 1", "option 5 is nil"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = breakerstatus.NewHandler(nil, breakerstatus.WithAuthorize(nil), breakerstatus.WithLogger(nil),
		breakerstatus.WithRefresh(time.Millisecond), breakerstatus.WithCrossOriginProtection(nil))
	require.Error(t, err)
	for _, want := range []string{"registry is nil", "WithAuthorize(nil)", "WithLogger(nil)", "WithRefresh(1ms): must be 0 (off) or at least 100ms",
		"WithCrossOriginProtection(nil)"} {
		assert.Contains(t, err.Error(), want)
	}
}
