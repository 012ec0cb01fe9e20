package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
)

func TestRunRejectsBadFlags(t *testing.T) {
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), &out, []string{"-cooldown=0s"}), "-cooldown must be positive")
	require.Error(t, run(context.Background(), &out, []string{"-no-such-flag"}))
}

// TestRunServesThePage runs the program as a user would, on a free port,
// reads the JSON it serves and stops it.
func TestRunServesThePage(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, pw, []string{"-addr=127.0.0.1:0", "-token=s3cret", "-flap=0"})
		pw.Close()
	}()
	line := make([]byte, 0, 128)
	buf := make([]byte, 1)
	for {
		_, err := pr.Read(buf)
		require.NoError(t, err)
		if buf[0] == '\n' {
			break
		}
		line = append(line, buf[0])
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url, ok := bytes.CutPrefix(line, []byte("status page: "))
	require.True(t, ok, string(line))

	resp, err := http.Get(string(url) + "?format=json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st breakerstatus.Status
	require.NoError(t, decodeJSON(resp.Body, &st))
	assert.Equal(t, breakerstatus.Schema, st.Schema)
	assert.True(t, st.Commands)
	var names []string
	for _, b := range st.Breakers {
		names = append(names, b.Name)
	}
	assert.Equal(t, []string{"inventory", "payments", "recommendations"}, names)
	assert.Equal(t, breakerstatus.EnforcementShadow, st.Breakers[2].EnforcementMode)
	assert.Equal(t, breakerstatus.EnforcementFull, st.Breakers[0].EnforcementMode)
	require.Len(t, st.Groups, 1)
	assert.Equal(t, "warehouses", st.Groups[0].Name)
	assert.True(t, st.Groups[0].HasCap)
	assert.Equal(t, maxOpenFraction, st.Groups[0].MaxOpenFraction)
	require.NotNil(t, st.Groups[0].MaxOpenKeys)
	assert.Equal(t, 1, *st.Groups[0].MaxOpenKeys, "at most four keys x 0.25")

	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// startApp serves the program's page on a free loopback port until the
// test ends, and returns its URL.
func startApp(t *testing.T, cfg config) (*app, string) {
	t.Helper()
	a, err := newApp(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.close()
	})
	return a, "http://" + ln.Addr().String() + "/debug/breakers"
}

func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
