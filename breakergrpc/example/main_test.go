package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	s := out.String()
	for _, want := range []string{
		"check inventory -> SERVING (breaker closed)\n" +
			"  circuit_breaker inventory [circuit_breaker.outcome=success]\n" +
			"    └─ grpc.health.v1.Health/Check [rpc.response.status_code=OK]\n",
		"check catalog   -> NotFound (breaker closed)\n" +
			"  circuit_breaker inventory [circuit_breaker.outcome=error circuit_breaker.decision=ignored circuit_breaker.rule=grpc_failure error.type=NOT_FOUND]\n" +
			"    └─ grpc.health.v1.Health/Check [rpc.response.status_code=NOT_FOUND]\n",
		"  circuit_breaker inventory [circuit_breaker.outcome=error circuit_breaker.decision=counted circuit_breaker.rule=grpc_failure error.type=UNAVAILABLE]\n" +
			"    └─ grpc.health.v1.Health/Check [rpc.response.status_code=UNAVAILABLE]\n",
		"  breaker inventory: closed -> open (tripped)\n",
		// Refused: no RPC span under the breaker's.
		"check inventory -> Unavailable, not sent: circuit breaker is open\n" +
			"  circuit_breaker inventory [circuit_breaker.outcome=rejected error.type=circuit_breaker_open]\n",
	} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 3, bytes.Count(out.Bytes(), []byte("decision=counted")), "three Unavailable RPCs counted:\n%s", s)
	assert.True(t, bytes.HasSuffix(out.Bytes(), []byte("error.type=circuit_breaker_open]\n")), "the refused RPC is the last:\n%s", s)
}
