package breakerstatus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// The error types that errorType gives without looking at the error's Go
// type, spelled as otelbridge spells error.type.
const (
	errorTypeOther    = "_OTHER"
	errorTypePanic    = "panic"
	errorTypeCanceled = "context_canceled"
	errorTypeDeadline = "context_deadline_exceeded"
)

var (
	wrapErrorType   = reflect.TypeOf(fmt.Errorf("w: %w", errors.New("e")))
	wrapErrorsType  = reflect.TypeOf(fmt.Errorf("w: %w %w", errors.New("e"), errors.New("e")))
	errorStringType = reflect.TypeOf(errors.New("e"))
	joinErrorType   = reflect.TypeOf(errors.Join(errors.New("e"), errors.New("e")))
)

// errorType is the class of a call's error, in otelbridge's order: an
// ErrorType() string method anywhere in the error's tree, the context
// errors, the Go type name after looking through fmt.Errorf("%w")
// wrappers, and _OTHER for errors.New values, joins and unnamed types.
// A panic is "panic".
func errorType(err error, panicked bool) string {
	if panicked {
		return errorTypePanic
	}
	if err == nil {
		return errorTypeOther
	}
	var et interface{ ErrorType() string }
	if errors.As(err, &et) {
		if s := et.ErrorType(); s != "" {
			return s
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return errorTypeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return errorTypeDeadline
	}
	for reflect.TypeOf(err) == wrapErrorType {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	t := reflect.TypeOf(err)
	switch t {
	case wrapErrorType, wrapErrorsType, errorStringType, joinErrorType:
		return errorTypeOther
	}
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Name() == "" || base.PkgPath() == "" {
		return errorTypeOther
	}
	if t.PkgPath() != "" && t.Name() != "" {
		return t.PkgPath() + "." + t.Name()
	}
	return t.String()
}
