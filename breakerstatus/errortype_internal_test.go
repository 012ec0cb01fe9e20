package breakerstatus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
)

type classified struct{ class string }

func (e classified) Error() string     { return "classified" }
func (e classified) ErrorType() string { return e.class }

func TestErrorType(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		panicked bool
		want     string
	}{
		{"ErrorType method", classified{"503"}, false, "503"},
		{"wrapped ErrorType", fmt.Errorf("call: %w", classified{"503"}), false, "503"},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false, "context_canceled"},
		{"deadline", context.DeadlineExceeded, false, "context_deadline_exceeded"},
		{"pointer type", &fs.PathError{Op: "open", Err: errors.New("e")}, false, "*fs.PathError"},
		{"wrapped pointer type", fmt.Errorf("x: %w", &fs.PathError{Op: "open", Err: errors.New("e")}), false, "*fs.PathError"},
		{"errors.New", errors.New("plain"), false, "_OTHER"},
		{"join", errors.Join(errors.New("a"), errors.New("b")), false, "_OTHER"},
		{"panic", nil, true, "panic"},
		{"nil", nil, false, "_OTHER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errorType(tt.err, tt.panicked))
		})
	}
}
