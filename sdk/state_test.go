package sdk_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
)

func TestStateStrings(t *testing.T) {
	want := []string{"closed", "open", "half_open", "metrics_only", "disabled", "forced_open"}
	for i, s := range sdk.States() {
		assert.Equal(t, sdk.State(i), s)
		assert.Equal(t, want[i], s.String())
		assert.True(t, s.Valid())
		p, err := sdk.ParseState(want[i])
		require.NoError(t, err)
		assert.Equal(t, s, p)
	}
	assert.Equal(t, "State(9)", sdk.State(9).String())
	assert.False(t, sdk.State(6).Valid())
	_, err := sdk.ParseState("OPEN")
	assert.EqualError(t, err, `sdk: unknown state "OPEN"`)
}

func TestStateJSON(t *testing.T) {
	b, err := json.Marshal(map[string]sdk.State{"s": sdk.StateHalfOpen})
	require.NoError(t, err)
	assert.JSONEq(t, `{"s":"half_open"}`, string(b))
	var got map[string]sdk.State
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, sdk.StateHalfOpen, got["s"])
	_, err = json.Marshal(sdk.State(7))
	assert.Error(t, err)
	assert.Error(t, json.Unmarshal([]byte(`"nope"`), new(sdk.State)))
}

func TestVocabularyStrings(t *testing.T) {
	assert.Equal(t, []string{"success", "error", "rejected", "unknown"},
		[]string{sdk.OutcomeSuccess.String(), sdk.OutcomeError.String(), sdk.OutcomeRejected.String(), sdk.Outcome(9).String()})
	assert.Equal(t, []string{"", "counted", "ignored"},
		[]string{sdk.DecisionNone.String(), sdk.DecisionCounted.String(), sdk.DecisionIgnored.String()})
	assert.Equal(t, []string{"tripped", "retry", "recovered", "reopened", "manual", "half_open_timeout", "unknown"},
		[]string{sdk.ReasonTripped.String(), sdk.ReasonRetry.String(), sdk.ReasonRecovered.String(),
			sdk.ReasonReopened.String(), sdk.ReasonManual.String(), sdk.ReasonHalfOpenTimeout.String(), sdk.Reason(42).String()})
}
