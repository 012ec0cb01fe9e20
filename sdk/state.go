package sdk

import "fmt"

// State is the state of a circuit breaker. Its String form is the value
// fluxgate uses everywhere (logs, span and metric attributes).
type State uint8

// The six breaker states.
const (
	// StateClosed admits every call and evaluates the tripper after every
	// recorded outcome.
	StateClosed State = iota
	// StateOpen rejects calls until the retry policy lets one through, which
	// moves the breaker to StateHalfOpen.
	StateOpen
	// StateHalfOpen admits a limited number of probe calls, chosen by the
	// permit, and closes or re-opens according to the tripper.
	StateHalfOpen
	// StateMetricsOnly admits every call and records outcomes but never
	// trips. Only a manual command leaves it. (Shadow mode, where the
	// breaker trips and probes as usual but refuses nothing, is an
	// enforcement of 0: see breaker.WithEnforcement.)
	StateMetricsOnly
	// StateDisabled passes every call through and records nothing. Only a
	// manual command leaves it.
	StateDisabled
	// StateForcedOpen rejects every call. Only a manual command leaves it.
	StateForcedOpen
)

// NumStates is the number of breaker states; States()[i] has the value i.
const NumStates = 6

var stateNames = [NumStates]string{"closed", "open", "half_open", "metrics_only", "disabled", "forced_open"}

// States returns the six states in their numeric order.
func States() [NumStates]State {
	return [NumStates]State{StateClosed, StateOpen, StateHalfOpen, StateMetricsOnly, StateDisabled, StateForcedOpen}
}

// String returns fluxgate's name for the state: "closed", "open",
// "half_open", "metrics_only", "disabled" or "forced_open".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Valid reports whether s is one of the six states.
func (s State) Valid() bool { return int(s) < NumStates }

// MarshalText implements encoding.TextMarshaler with the String form.
func (s State) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("sdk: invalid state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the String
// form of a state.
func (s *State) UnmarshalText(text []byte) error {
	v, err := ParseState(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseState returns the state whose String form is name.
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if n == name {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("sdk: unknown state %q", name)
}
