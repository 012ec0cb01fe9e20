package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

type valueError struct{}

func (valueError) Error() string { return "value error" }

type typed struct{ class string }

func (e *typed) Error() string     { return "typed" }
func (e *typed) ErrorType() string { return e.class }

func TestErrorType(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}
	tests := []struct {
		name   string
		err    error
		custom func(error) string
		want   string
	}{
		{"nil", nil, nil, "_OTHER"},
		{"ErrorType method", &typed{"http_503"}, nil, "http_503"},
		{"ErrorType wrapped", fmt.Errorf("call: %w", &typed{"http_503"}), nil, "http_503"},
		{"ErrorType in a join", errors.Join(errors.New("a"), &typed{"x"}), nil, "x"},
		{"empty ErrorType falls through", &typed{""}, nil, "*otelbridge.typed"},
		{"ErrorType beats context", fmt.Errorf("%w %w", context.Canceled, &typed{"mine"}), nil, "mine"},
		{"canceled", context.Canceled, nil, "context_canceled"},
		{"canceled wrapped", fmt.Errorf("read: %w", context.Canceled), nil, "context_canceled"},
		{"deadline", context.DeadlineExceeded, nil, "context_deadline_exceeded"},
		{"deadline in net error", &net.OpError{Op: "read", Err: context.DeadlineExceeded}, nil, "context_deadline_exceeded"},
		{"custom", errors.New("x"), func(error) string { return "mine" }, "mine"},
		{"custom after context", context.Canceled, func(error) string { return "mine" }, "context_canceled"},
		{"empty custom falls through", opErr, func(error) string { return "" }, "*net.OpError"},
		{"pointer type name", opErr, nil, "*net.OpError"},
		{"type name through fmt wrappers", fmt.Errorf("a: %w", fmt.Errorf("b: %w", opErr)), nil, "*net.OpError"},
		{"value type name", syscall.ECONNREFUSED, nil, "syscall.Errno"},
		{"value type of this package", valueError{}, nil, "github.com/fluxgate/fluxgate/otelbridge.valueError"},
		{"fs.PathError", &fs.PathError{Op: "open", Path: "x", Err: os.ErrNotExist}, nil, "*fs.PathError"},
		{"errors.New", errors.New("boom"), nil, "_OTHER"},
		{"fmt.Errorf without %w", fmt.Errorf("boom %d", 1), nil, "_OTHER"},
		{"wrapped errors.New", fmt.Errorf("ctx: %w", errors.New("boom")), nil, "_OTHER"},
		{"two %w", fmt.Errorf("%w %w", errors.New("a"), errors.New("b")), nil, "_OTHER"},
		{"join", errors.Join(errors.New("a"), errors.New("b")), nil, "_OTHER"},
		{"unnamed type", &struct{ valueError }{}, nil, "_OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errorType(tt.err, tt.custom))
		})
	}
}

func TestErrorTypeDoesNotAllocate(t *testing.T) {
	errs := []error{
		context.Canceled,
		fmt.Errorf("x: %w", &typed{"c"}),
		&net.OpError{Op: "dial", Err: errors.New("x")},
		syscall.ECONNRESET,
		errors.New("plain"),
	}
	for _, err := range errs {
		errorType(err, nil) // warm the type-name cache
		assert.Zero(t, testing.AllocsPerRun(100, func() { errorType(err, nil) }), "%T", err)
	}
}
