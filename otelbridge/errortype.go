package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// builtinErrorTypes are the error.type values that this module defines; they
// do not count against the per-series limit.
var builtinErrorTypes = map[string]bool{
	ErrorTypeOther:                true,
	ErrorTypePanic:                true,
	ErrorTypeCanceled:             true,
	ErrorTypeDeadlineExceeded:     true,
	"circuit_breaker_open":        true,
	"circuit_breaker_half_open":   true,
	"circuit_breaker_forced_open": true,
}

// errorTyper is implemented by errors that name their own class, as
// semconv.ErrorType expects.
type errorTyper interface {
	ErrorType() string
}

// errorType derives the error.type of err, in the order that the package
// documentation and docs/telemetry.md give:
//  1. an ErrorType() method on err or anywhere in its tree (the first one in
//     errors.As order that returns a non-empty string);
//  2. context.Canceled → context_canceled, context.DeadlineExceeded →
//     context_deadline_exceeded;
//  3. custom, when given and non-empty;
//  4. the Go type name of err, after looking through fmt.Errorf("%w")
//     wrappers, as semconv.ErrorType spells it; errors.New values, other
//     wrappers and unnamed types give _OTHER.
//
// It does not allocate for errors whose type it has seen before.
func errorType(err error, custom func(error) string) string {
	if err == nil {
		return ErrorTypeOther
	}
	if s := findErrorType(err); s != "" {
		return s
	}
	if errors.Is(err, context.Canceled) {
		return ErrorTypeCanceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrorTypeDeadlineExceeded
	}
	if custom != nil {
		if s := custom(err); s != "" {
			return s
		}
	}
	return typeName(err)
}

// findErrorType walks err's tree depth-first, as errors.As does, without
// allocating.
func findErrorType(err error) string {
	for err != nil {
		if et, ok := err.(errorTyper); ok {
			if s := et.ErrorType(); s != "" {
				return s
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if s := findErrorType(e); s != "" {
					return s
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

var (
	fmtWrapErrorType  = reflect.TypeOf(fmt.Errorf("w: %w", errors.New("e")))
	fmtWrapErrorsType = reflect.TypeOf(fmt.Errorf("w: %w %w", errors.New("e"), errors.New("e")))
	errorStringType   = reflect.TypeOf(errors.New("e"))
	joinErrorType     = reflect.TypeOf(errors.Join(errors.New("e"), errors.New("e")))

	// typeNames caches typeName's result by reflect.Type; Go programs have
	// a bounded set of error types.
	typeNames sync.Map // reflect.Type → string
)

func typeName(err error) string {
	for reflect.TypeOf(err) == fmtWrapErrorType {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	t := reflect.TypeOf(err)
	if s, ok := typeNames.Load(t); ok {
		return s.(string)
	}
	s := computeTypeName(t)
	typeNames.Store(t, s)
	return s
}

func computeTypeName(t reflect.Type) string {
	switch t {
	case fmtWrapErrorType, fmtWrapErrorsType, errorStringType, joinErrorType:
		return ErrorTypeOther
	}
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Name() == "" || base.PkgPath() == "" {
		return ErrorTypeOther
	}
	// The same spelling as semconv.ErrorType: "pkg/path.Name" for named
	// types, "*pkg.Name" for pointers to them.
	if pkg, name := t.PkgPath(), t.Name(); pkg != "" && name != "" {
		return pkg + "." + name
	}
	return t.String()
}
