package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	// An 800 ms cooldown: Retry-After rounds it up to 1, never down to 0.
	require.NoError(t, run(context.Background(), &out, []string{"-cooldown=800ms"}))
	assert.Equal(t, `... the database is up
GET /checkout -> 200 OK
... the database goes down
GET /checkout -> 500 Internal Server Error
  breaker "GET /checkout": closed -> open (tripped)
GET /checkout -> 500 Internal Server Error
GET /checkout -> 503 Service Unavailable, Retry-After: 1 (handler not called)
GET /health   -> 200 OK
... the database is back; waiting 800ms for the cooldown
  breaker "GET /checkout": open -> half_open (retry)
  breaker "GET /checkout": half_open -> closed (recovered)
GET /checkout -> 200 OK
GET /checkout -> 200 OK
`, out.String())
}

func TestRunRejectsBadCooldown(t *testing.T) {
	var out bytes.Buffer
	require.ErrorContains(t, run(context.Background(), &out, []string{"-cooldown=0s"}), "-cooldown must be positive")
}
