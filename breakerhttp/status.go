package breakerhttp

import (
	"net/http"
	"strconv"
	"strings"
)

// StatusError is what the breaker's tracker sees for a response whose
// status code is 400 or more: on the client, the status of the response
// the server sent; on the server, the status the handler wrote. It never
// reaches the caller of a [Transport], who gets the response itself with a
// nil error, nor the client of a [NewHandler] server.
//
// Trackers find it with errors.As:
//
//	var se *breakerhttp.StatusError
//	if errors.As(err, &se) && se.StatusCode() == http.StatusBadGateway { ... }
//
// The status errors of codes 400 to 599 are shared, immutable values:
// reporting one allocates nothing.
type StatusError struct {
	code int
	typ  string // strconv.Itoa(code)
}

// statusErrors holds the StatusError of every code from 400 to 599.
var statusErrors = func() *[200]StatusError {
	var t [200]StatusError
	var all strings.Builder // one allocation for every ErrorType string
	for i := range t {
		all.WriteString(strconv.Itoa(400 + i))
	}
	s := all.String()
	for i := range t {
		t[i] = StatusError{code: 400 + i, typ: s[3*i : 3*i+3]}
	}
	return &t
}()

// statusError returns the error the tracker sees for a response with
// status code: nil below 400, a *StatusError otherwise.
func statusError(code int) error {
	switch {
	case code < 400:
		return nil
	case code < 600:
		return &statusErrors[code-400]
	}
	return &StatusError{code: code, typ: strconv.Itoa(code)}
}

// StatusCode returns the response's status code.
func (e *StatusError) StatusCode() int { return e.code }

// Error returns "breakerhttp: status 503 Service Unavailable".
func (e *StatusError) Error() string {
	s := "breakerhttp: status " + e.typ
	if t := http.StatusText(e.code); t != "" {
		s += " " + t
	}
	return s
}

// ErrorType returns the status code in decimal ("503"), the error.type
// that OpenTelemetry's HTTP conventions, and otelhttp, give a response with
// that status.
func (e *StatusError) ErrorType() string { return e.typ }
