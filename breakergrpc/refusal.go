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

// refused returns the error for a refusal err returned by Allow.
func refused(err error) error {
	npe, ok := err.(breaker.NotPermittedError)
	if !ok { // never, today: Allow refuses with a NotPermittedError only
		return status.Error(codes.Unavailable, err.Error())
	}
	return refusal{npe: npe}
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

// GRPCStatus returns the refusal's status: code Unavailable, the breaker's
// message, an ErrorInfo detail (reason "CIRCUIT_BREAKER_OPEN",
// "CIRCUIT_BREAKER_HALF_OPEN" or "CIRCUIT_BREAKER_FORCED_OPEN"; domain
// [ErrorInfoDomain]; metadata "name", "state" and, for a breaker of a
// Group, "key") and, when the breaker knows when it will let calls through
// again, a RetryInfo detail with the time left.
func (e refusal) GRPCStatus() *status.Status {
	s := status.New(codes.Unavailable, e.npe.Error())
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
