package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// The dependency answers what the request's do parameter asks for, so
// that a replica's script decides the mix: "ok" (200), an HTTP status code
// ("404", "503", ...), "stall" (no answer until the caller gives up, at
// most maxStall) or "poison" (200 with a header that makes the replica's
// transport panic).
const maxStall = 2 * time.Second

// poisonHeader marks a poisoned response.
const poisonHeader = "X-E2e-Poison"

func newDependency(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch do := r.URL.Query().Get("do"); do {
		case "ok":
			_, _ = io.WriteString(w, "ok")
		case "poison":
			w.Header().Set(poisonHeader, "1")
			_, _ = io.WriteString(w, "ok")
		case "stall":
			select {
			case <-r.Context().Done():
			case <-time.After(maxStall):
			}
		default:
			code, err := strconv.Atoi(do)
			if err != nil || code < 200 || code > 599 {
				http.Error(w, "bad do parameter "+strconv.Quote(do), http.StatusTeapot)
				return
			}
			http.Error(w, http.StatusText(code), code)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
