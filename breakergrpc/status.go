package breakergrpc

import (
	"context"
	"errors"
	"io"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// StatusError is the error a breaker's tracker sees for an RPC that ended
// with a status other than OK: the RPC's own error, with its status code
// read once. The interceptors hand it to the breaker only; the caller (or,
// on a server, gRPC) always gets the RPC's original error.
//
// Its ErrorType is the code's canonical name ("UNAVAILABLE",
// "DEADLINE_EXCEEDED", ...), the value otelgrpc reports as error.type and
// rpc.response.status_code, so the breaker's span and metrics (through
// otelbridge) name a failure the way the RPC's own span does. An error
// without a status has the code gRPC would send for it (see [Tracker]),
// except the bare io.EOF that grpc-go's unary Invoke returns when the
// transport lost the stream before the request was sent: its code is
// Unavailable. It unwraps to
// the original error, so trackers built on [errors.Is], [errors.As] or
// [status.FromError] see everything the RPC returned, details included.
type StatusError struct {
	code codes.Code
	err  error
}

// newStatusError returns the error the tracker sees for err, or nil for a
// nil err.
func newStatusError(err error) error {
	if err == nil {
		return nil
	}
	return &StatusError{code: codeOf(err), err: err}
}

// invokeStatusError is newStatusError for the error of a unary invoker. A
// io.EOF that carries no status has code Unavailable: grpc-go's
// Invoke returns one when the transport lost the RPC's stream while
// sending its request (a stream the server refused, retried
// transparently, and refused again), where a plain error would read as
// Unknown.
func invokeStatusError(err error) error {
	if errors.Is(err, io.EOF) && codeOf(err) == codes.Unknown { // no status of its own
		return &StatusError{code: codes.Unavailable, err: err}
	}
	return newStatusError(err)
}

// Code returns the RPC's status code.
func (e *StatusError) Code() codes.Code { return e.code }

// Error returns the original error's message.
func (e *StatusError) Error() string { return e.err.Error() }

// Unwrap returns the RPC's original error.
func (e *StatusError) Unwrap() error { return e.err }

// GRPCStatus returns the status of the original error, so that
// [status.FromError] and [status.Code] work on a StatusError as on the
// original. An error that carries no status is reported with Code.
func (e *StatusError) GRPCStatus() *status.Status {
	if s, ok := status.FromError(e.err); ok {
		return s
	}
	return status.New(e.code, e.err.Error())
}

// ErrorType returns the canonical name of the code, as otelgrpc spells
// error.type: "UNAVAILABLE", "CANCELLED", "CODE(42)" for a code gRPC does
// not define.
func (e *StatusError) ErrorType() string { return CodeName(e.code) }

// grpcStatusError is an error that carries a gRPC status, as
// [status.FromError] looks for it.
type grpcStatusError interface {
	error
	GRPCStatus() *status.Status
}

// codeOf returns the status code of err as gRPC would send it: the code of
// the status in err's chain; for an error without a status,
// DeadlineExceeded or Canceled for the context errors (as
// [status.FromContextError] maps them) and Unknown otherwise. It allocates
// nothing.
func codeOf(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if se, ok := err.(*StatusError); ok {
		return se.code
	}
	if gs, ok := errors.AsType[grpcStatusError](err); ok {
		if s := gs.GRPCStatus(); s != nil {
			return s.Code()
		}
		return codes.Unknown
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Unknown
}

// codeNames holds the canonical names of the codes gRPC defines, as the
// gRPC protocol and OpenTelemetry's semantic conventions spell them.
var codeNames = [...]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

// CodeName returns the canonical name of c, as the gRPC protocol and
// OpenTelemetry's rpc semantic conventions (and so otelgrpc) spell it:
// "OK", "CANCELLED", "UNAVAILABLE", ...; "CODE(n)" for a code gRPC does not
// define. (codes.Code's String method spells them "Canceled",
// "Unavailable", ... instead.)
func CodeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "CODE(" + strconv.FormatUint(uint64(c), 10) + ")"
}
