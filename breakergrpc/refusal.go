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

// refusal is the error the interceptors return when a breaker refuses an
// RPC: a status error with code Unavailable that unwraps to the breaker's
// [breaker.NotPermittedError], so it matches [breaker.ErrNotPermitted].
//
// It is as small as the NotPermittedError it holds, so returning it
// allocates nothing; its status is built when someone asks for it (gRPC
// does, on a server, to send it).
type refusal struct {
	npe breaker.NotPermittedError
}

// refused returns the error for an error of Allow: a refusal, or the
// caller's context error when its wait for a half-open slot ended, which
// becomes the status gRPC gives a context error (Canceled or
// DeadlineExceeded).
func refused(err error) error {
	if npe, ok := err.(breaker.NotPermittedError); ok {
		return refusal{npe: npe}
	}
	return status.FromContextError(err).Err()
}

// Error returns the message of a status error, as gRPC spells it: "rpc
// error: code = Unavailable desc = circuit breaker is open".
func (e refusal) Error() string {
	return "rpc error: code = Unavailable desc = " + e.npe.Error()
}

// Unwrap returns the breaker's NotPermittedError.
func (e refusal) Unwrap() error { return e.npe }

// ErrorType returns the NotPermittedError's error.type,
// "circuit_breaker_open" for example.
func (e refusal) ErrorType() string { return e.npe.ErrorType() }

// GRPCStatus returns the refusal's status: code Unavailable (or, for a
// caller whose context ended while it waited for a half-open slot, the
// context's code: Canceled or DeadlineExceeded), the breaker's
// message, an ErrorInfo detail (reason "CIRCUIT_BREAKER_OPEN",
// "CIRCUIT_BREAKER_HALF_OPEN" or "CIRCUIT_BREAKER_FORCED_OPEN"; domain
// [ErrorInfoDomain]; metadata "name", "state" and, for a breaker of a
// Group, "key") and, when the breaker knows when it will let calls through
// again, a RetryInfo detail with the time left.
func (e refusal) GRPCStatus() *status.Status {
	code := codes.Unavailable
	if cause := e.npe.Unwrap(); cause != nil { // the caller gave up waiting
		code = status.FromContextError(cause).Code()
	}
	s := status.New(code, e.npe.Error())
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
