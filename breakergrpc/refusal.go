package breakergrpc

import (
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// ErrorInfoDomain is the domain of the [errdetails.ErrorInfo] detail of a
// refusal's status.
const ErrorInfoDomain = "fluxgate"

// refusal is the error the interceptors return when a breaker does not
// admit an RPC: a status error that unwraps to the breaker's
// [breaker.NotPermittedError], so it matches [breaker.ErrNotPermitted].
// Its code is Unavailable for a refusal, and the code gRPC gives the
// caller's context error (Canceled or DeadlineExceeded) when the caller
// gave up waiting for a half-open slot; that error matches the context
// error too, as the breaker's does.
//
// It is as small as the NotPermittedError it holds, so returning it
// allocates nothing; its status is built when someone asks for it (gRPC
// does, on a server, to send it).
type refusal struct {
	npe breaker.NotPermittedError
}

// refused returns the error for an error of Allow: a refusal, or for any
// other error (none today) the status gRPC gives a context error.
func refused(err error) error {
	if npe, ok := err.(breaker.NotPermittedError); ok {
		return refusal{npe: npe}
	}
	return status.FromContextError(err).Err()
}

// code returns the refusal's status code: Unavailable, or the code of the
// caller's context error when it gave up waiting for a half-open slot.
func (e refusal) code() codes.Code {
	if cause := e.npe.Unwrap(); cause != nil {
		return status.FromContextError(cause).Code()
	}
	return codes.Unavailable
}

// message returns the refusal's status message: the breaker's ("circuit
// breaker is open"), or, for a caller that gave up waiting, its context
// error's followed by " while waiting for a half-open circuit breaker
// slot", so that the message says what the code says.
func (e refusal) message() string {
	if cause := e.npe.Unwrap(); cause != nil {
		return cause.Error() + " while waiting for a half-open circuit breaker slot"
	}
	return e.npe.Error()
}

// Error returns the message of a status error, as gRPC spells it: "rpc
// error: code = Unavailable desc = circuit breaker is open", or "rpc
// error: code = Canceled desc = context canceled while waiting for a
// half-open circuit breaker slot".
func (e refusal) Error() string {
	return "rpc error: code = " + e.code().String() + " desc = " + e.message()
}

// Unwrap returns the breaker's NotPermittedError.
func (e refusal) Unwrap() error { return e.npe }

// ErrorType returns the NotPermittedError's error.type,
// "circuit_breaker_open" for example.
func (e refusal) ErrorType() string { return e.npe.ErrorType() }

// GRPCStatus returns the refusal's status: code Unavailable and the
// breaker's message (or, for a caller whose context ended while it waited
// for a half-open slot, the context's code, Canceled or DeadlineExceeded,
// and a message that says so), an ErrorInfo detail (reason "CIRCUIT_BREAKER_OPEN",
// "CIRCUIT_BREAKER_HALF_OPEN" or "CIRCUIT_BREAKER_FORCED_OPEN"; domain
// [ErrorInfoDomain]; metadata "name", "state" and, for a breaker of a
// Group, "key") and, when the breaker knows when it will let calls through
// again, a RetryInfo detail with the time left.
func (e refusal) GRPCStatus() *status.Status {
	s := status.New(e.code(), e.message())
	info := &errdetails.ErrorInfo{
		Reason:   strings.ToUpper(e.npe.ErrorType()),
		Domain:   ErrorInfoDomain,
		Metadata: map[string]string{"name": e.npe.Name(), "state": e.npe.State().String()},
	}
	if k := e.npe.Key(); k != "" {
		info.Metadata["key"] = k
	}
	details := []protoadapt.MessageV1{info}
	if d := e.npe.RetryAfter(); d > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	}
	// WithDetails fails only for code OK or a detail it cannot marshal.
	if ds, err := s.WithDetails(details...); err == nil {
		s = ds
	}
	return s
}
