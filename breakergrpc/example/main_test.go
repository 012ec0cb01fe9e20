package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// want is the whole output: every RPC's line and span tree, the client's
// breaker opening after the third Unavailable, and the refused RPC last,
// with no RPC span under its breaker span.
const want = `check inventory -> SERVING (breaker closed)
  circuit_breaker inventory [circuit_breaker.outcome=success]
    └─ grpc.health.v1.Health/Check [rpc.response.status_code=OK]
check catalog   -> NotFound: unknown service (breaker closed)
  circuit_breaker inventory [circuit_breaker.outcome=error circuit_breaker.decision=ignored error.type=NOT_FOUND]
    └─ grpc.health.v1.Health/Check [rpc.response.status_code=NOT_FOUND]
-- the server sheds load (its breaker is forced open)
check inventory -> Unavailable: circuit breaker is forced open (breaker closed)
  circuit_breaker inventory [circuit_breaker.outcome=error circuit_breaker.decision=counted circuit_breaker.rule=grpc_failure error.type=UNAVAILABLE]
    └─ grpc.health.v1.Health/Check [rpc.response.status_code=UNAVAILABLE]
check inventory -> Unavailable: circuit breaker is forced open (breaker closed)
  circuit_breaker inventory [circuit_breaker.outcome=error circuit_breaker.decision=counted circuit_breaker.rule=grpc_failure error.type=UNAVAILABLE]
    └─ grpc.health.v1.Health/Check [rpc.response.status_code=UNAVAILABLE]
  breaker inventory: closed -> open (tripped)
check inventory -> Unavailable: circuit breaker is forced open (breaker open)
  circuit_breaker inventory [circuit_breaker.outcome=error circuit_breaker.decision=counted circuit_breaker.rule=grpc_failure error.type=UNAVAILABLE]
    └─ grpc.health.v1.Health/Check [rpc.response.status_code=UNAVAILABLE]
check inventory -> Unavailable, not sent: circuit breaker is open
  circuit_breaker inventory [circuit_breaker.outcome=rejected error.type=circuit_breaker_open]
`

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	assert.Equal(t, want, out.String())
}
