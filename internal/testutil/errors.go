package testutil

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrPlain is an errors.New error: its error.type is "_OTHER".
var ErrPlain = errors.New("plain failure")

// TypedError is an error with a named type and no ErrorType method: its
// error.type is its Go type name, "*testutil.TypedError".
type TypedError struct {
	// Op names the failed operation.
	Op string
}

// Error returns "<op>: typed failure".
func (e *TypedError) Error() string { return e.Op + ": typed failure" }

// ClassifiedError names its own class through ErrorType, which becomes its
// error.type.
type ClassifiedError struct {
	// Class is returned by ErrorType.
	Class string
	// Msg is returned by Error.
	Msg string
}

// Error returns e.Msg.
func (e *ClassifiedError) Error() string { return e.Msg }

// ErrorType returns e.Class.
func (e *ClassifiedError) ErrorType() string { return e.Class }

// StatusError is an HTTP-like failure with a status code; its error.type
// is the code, as in OpenTelemetry's HTTP conventions.
type StatusError struct {
	// Code is the status code.
	Code int
}

// Error returns "upstream answered <code>".
func (e *StatusError) Error() string { return fmt.Sprintf("upstream answered %d", e.Code) }

// ErrorType returns the status code.
func (e *StatusError) ErrorType() string { return strconv.Itoa(e.Code) }

// ServerError reports whether the code is a 5xx.
func (e *StatusError) ServerError() bool { return e.Code >= 500 && e.Code <= 599 }

// Status fixtures.
var (
	// ErrUnavailable is a 503.
	ErrUnavailable = &StatusError{Code: 503}
	// ErrNotFound is a 404.
	ErrNotFound = &StatusError{Code: 404}
)

// IsServerError reports whether err is or wraps a 5xx [StatusError].
func IsServerError(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.ServerError()
}
