// Package breakergrpc puts fluxgate circuit breakers around gRPC calls:
// unary and stream interceptors for clients, which stop calling a failing
// server, and for servers, which shed load when their own work fails.
//
// Protect a client in one line, with a breaker that classifies by status
// code:
//
//	b, err := breaker.New("inventory", breaker.WithTracker(breakergrpc.Tracker()))
//	...
//	conn, err := grpc.NewClient(target, creds,
//		grpc.WithChainUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)),
//		grpc.WithChainStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))
//
// and a server with [UnaryServerInterceptor] and [StreamServerInterceptor]
// in grpc.ChainUnaryInterceptor and grpc.ChainStreamInterceptor.
//
// For a breaker per method, per service or per tenant, use the Group
// variants ([GroupUnaryClientInterceptor] and the three others) with a
// [breaker.Group] and a [KeyFunc] such as [ByMethod], [ByService] or
// [ByIncomingMetadata]: one key's failures never open another key's
// breaker.
//
// # Model
//
// Every RPC an interceptor sees is one call of its breaker, made with the
// two-step [breaker.Breaker.Allow] and [breaker.Call.Done]: admitted or
// refused before anything is sent (on a client) or before the handler runs
// (on a server), and reported once when it ends. A unary RPC ends when the
// invoker or the handler returns; a client stream at the first error of
// RecvMsg (io.EOF is a success) or when its context ends (see
// [StreamClientInterceptor]); a server stream when its handler returns.
// The call's duration, which slow-call rules judge, runs from admission to
// that end.
//
// # Classification
//
// An RPC that fails is handed to the breaker's tracker as a [*StatusError]:
// the RPC's error, with its status code, whose ErrorType is the code's
// canonical name ("UNAVAILABLE", "NOT_FOUND", ...), the error.type that
// otelgrpc reports for the same RPC. The caller (or gRPC, on a server)
// always gets the RPC's own error, untouched.
//
// What counts is the breaker's tracker's decision. [Tracker] is the ready
// rule: it counts Unavailable, DeadlineExceeded, ResourceExhausted,
// Internal, Unknown and DataLoss, and ignores Canceled and the codes that
// describe the request (InvalidArgument, NotFound, AlreadyExists,
// PermissionDenied, Unauthenticated, FailedPrecondition, OutOfRange,
// Unimplemented, Aborted). [Codes] counts the codes you list. Both are
// [tracker.Rule] values, composable with every combinator of package
// tracker. A breaker built without [breaker.WithTracker] counts every
// error, whatever its code. Whatever the tracker says, an RPC whose own
// context was canceled is ignored by the breaker. The page
// docs/failures.md of the repository lists, for every common way an RPC
// fails (a stopped server, a deadline, a stream reset or refused, each
// code), the decision, the rule and the error.type; a test against
// grpc-go keeps it true.
//
// # Refusals
//
// When the breaker refuses an RPC, the interceptor returns a status error
// with code Unavailable (status.Code reports it; gRPC sends it from a
// server) that also matches [breaker.ErrNotPermitted] with [errors.Is] and
// gives the [breaker.NotPermittedError] with [errors.As], on the side that
// refused. Its status carries an ErrorInfo detail (reason
// CIRCUIT_BREAKER_OPEN, CIRCUIT_BREAKER_HALF_OPEN or
// CIRCUIT_BREAKER_FORCED_OPEN, domain [ErrorInfoDomain], the breaker's name
// and state) and, when the breaker knows when it will admit calls again, a
// RetryInfo detail with the time left; a server interceptor also sets the
// [PushbackTrailer]. Returning a refusal allocates nothing; its status is
// built when something asks for it.
//
// A caller whose context ends while it waits for a half-open slot gets the
// code gRPC gives its context's error, Canceled or DeadlineExceeded, with a
// message that says the same ("context canceled while waiting for a
// half-open circuit breaker slot"), and the same details. The error
// matches both the context's error and [breaker.ErrNotPermitted] with
// [errors.Is], exactly as the breaker's own error does: the breaker did not
// run the RPC (so code that falls back on a refusal does so here too), and
// the reason it did not is that the caller gave up.
//
// # Telemetry
//
// Give the breaker otelbridge's hooks and every RPC gets a breaker span
// (with circuit_breaker.decision, circuit_breaker.rule and error.type),
// whose context the RPC runs in: on a client, the span of an otelgrpc
// stats handler on the connection is a child of the breaker's span; on a
// server, the breaker's span is a child of otelgrpc's server span and the
// handler's spans are children of the breaker's.
//
// # Concurrency and cost
//
// The interceptors are safe for concurrent use, as gRPC requires. On the
// success path a unary interceptor adds the breaker's own cost and
// allocates nothing; a failed RPC costs one allocation (its
// [*StatusError]). A client stream costs about four allocations beyond the
// breaker's and gRPC's (its wrapper and the watch on its context, a
// [context.AfterFunc]); a server stream one (its wrapper).
package breakergrpc
