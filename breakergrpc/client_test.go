package breakergrpc_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/fluxgate/fluxgate/breakergrpc"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// verdict is what a test expects the breaker to make of one call.
type verdict struct {
	outcome   sdk.Outcome
	decision  sdk.Decision
	rule      string
	errorType string // of the error the tracker saw
}

func success() verdict { return verdict{outcome: sdk.OutcomeSuccess} }
func counted(et string) verdict {
	return verdict{sdk.OutcomeError, sdk.DecisionCounted, breakergrpc.RuleFailure, et}
}

// ignored is the verdict of an error that Tracker ignores: no rule matched
// it, so it names none.
func ignored(et string) verdict {
	return verdict{sdk.OutcomeError, sdk.DecisionIgnored, "", et}
}

// verdictOf returns what the breaker made of a call, as its CallEnd says.
func verdictOf(t *testing.T, e sdk.CallEnd) verdict {
	t.Helper()
	v := verdict{outcome: e.Outcome, decision: e.Decision, rule: e.Rule}
	if e.Err != nil {
		et, ok := e.Err.(interface{ ErrorType() string })
		require.True(t, ok, "the error the breaker saw has no ErrorType: %T", e.Err)
		v.errorType = et.ErrorType()
	}
	return v
}

// codeCases are the status codes a handler may return, and what Tracker
// makes of them.
var codeCases = []struct {
	code codes.Code
	want verdict
}{
	{codes.OK, success()},
	{codes.Unavailable, counted("UNAVAILABLE")},
	{codes.DeadlineExceeded, counted("DEADLINE_EXCEEDED")},
	{codes.ResourceExhausted, counted("RESOURCE_EXHAUSTED")},
	{codes.Internal, counted("INTERNAL")},
	{codes.Unknown, counted("UNKNOWN")},
	{codes.DataLoss, counted("DATA_LOSS")},
	{codes.Canceled, ignored("CANCELLED")},
	{codes.InvalidArgument, ignored("INVALID_ARGUMENT")},
	{codes.NotFound, ignored("NOT_FOUND")},
	{codes.AlreadyExists, ignored("ALREADY_EXISTS")},
	{codes.PermissionDenied, ignored("PERMISSION_DENIED")},
	{codes.Unauthenticated, ignored("UNAUTHENTICATED")},
	{codes.FailedPrecondition, ignored("FAILED_PRECONDITION")},
	{codes.OutOfRange, ignored("OUT_OF_RANGE")},
	{codes.Unimplemented, ignored("UNIMPLEMENTED")},
	{codes.Aborted, ignored("ABORTED")},
}

// neverTrips keeps a breaker closed through any number of failures.
var neverTrips = breaker.WithTripper(breaker.FailureStreak(1 << 30))

func TestUnaryClientClassifiesByCode(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, svc := startServer(t)
	client := dial(t, addr, grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)))

	for _, tc := range codeCases {
		t.Run(tc.code.String(), func(t *testing.T) {
			_, err := client.UnaryCall(t.Context(), statusReq(tc.code))

			// The caller gets gRPC's own error, untouched.
			assert.Equal(t, tc.code, status.Code(err))
			_, wrapped := errors.AsType[*breakergrpc.StatusError](err)
			assert.False(t, wrapped, "the caller must not see the tracker's StatusError")
			if tc.code != codes.OK {
				assert.Equal(t, "asked for "+tc.code.String(), status.Convert(err).Message())
			}

			got := rec.take()
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, verdictOf(t, got[0]))
			if tc.code == codes.OK {
				return
			}
			// The tracker saw a StatusError around the very same error.
			se, ok := got[0].Err.(*breakergrpc.StatusError)
			require.True(t, ok, "%T", got[0].Err)
			assert.Equal(t, tc.code, se.Code())
			assert.True(t, se.Unwrap() == err, "StatusError unwraps to the caller's error")
			assert.Equal(t, err.Error(), se.Error())
			assert.Equal(t, status.Convert(err).Proto(), status.Convert(se).Proto(), "the same status, details included")
		})
	}
	assert.EqualValues(t, len(codeCases), svc.hits.Load())
}

func TestUnaryClientCallerContext(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, _ := startServer(t)
	client := dial(t, addr, grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)))

	t.Run("canceled by the caller is ignored", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
		assert.Equal(t, codes.Canceled, status.Code(err))
		got := rec.take()
		require.Len(t, got, 1)
		assert.Equal(t, sdk.DecisionIgnored, got[0].Decision)
		assert.Equal(t, breaker.RuleContextCanceled, got[0].Rule)
	})
	t.Run("the caller's deadline is counted", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
		defer cancel()
		_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
		assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
		got := rec.take()
		require.Len(t, got, 1)
		assert.Equal(t, counted("DEADLINE_EXCEEDED"), verdictOf(t, got[0]))
	})
}

// openBreaker returns a breaker that opens at the first counted failure
// and stays open for a minute.
func openBreaker(t *testing.T, opts ...breaker.Option) *breaker.Breaker {
	return newBreaker(t, append([]breaker.Option{
		breaker.WithTracker(breakergrpc.Tracker()),
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Cooldown(time.Minute, 0)),
	}, opts...)...)
}

func TestUnaryClientRefusal(t *testing.T) {
	b := openBreaker(t)
	addr, svc := startServer(t)
	client := dial(t, addr, grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)))

	_, err := client.UnaryCall(t.Context(), statusReq(codes.Unavailable))
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Equal(t, sdk.StateOpen, b.State())
	require.EqualValues(t, 1, svc.hits.Load())

	_, err = client.UnaryCall(t.Context(), statusReq(codes.OK))
	assert.EqualValues(t, 1, svc.hits.Load(), "no RPC is sent while the breaker is open")
	checkRefusal(t, err, "CIRCUIT_BREAKER_OPEN", true)

	var npe breaker.NotPermittedError
	require.ErrorAs(t, err, &npe)
	assert.Equal(t, sdk.StateOpen, npe.State())
	assert.Equal(t, "grpc-test", npe.Name())
	assert.Equal(t, "circuit_breaker_open", err.(interface{ ErrorType() string }).ErrorType())
	assert.Equal(t, "rpc error: code = Unavailable desc = circuit breaker is open", err.Error())

	b.ForceOpen(t.Context())
	_, err = client.EmptyCall(t.Context(), &testgrpc.Empty{})
	checkRefusal(t, err, "CIRCUIT_BREAKER_FORCED_OPEN", false)
	assert.EqualValues(t, 1, svc.hits.Load())
}

// checkRefusal checks that err is a refusal: a status error with code
// Unavailable and an ErrorInfo detail with reason, that matches
// ErrNotPermitted, and has a RetryInfo detail if and only if retry.
func checkRefusal(t *testing.T, err error, reason string, retry bool) {
	t.Helper()
	require.ErrorIs(t, err, breaker.ErrNotPermitted)
	checkRefusalStatus(t, err, reason, retry)
}

// checkRefusalStatus checks the status of a refusal, as a client gets it
// from its own interceptor or from a server's.
func checkRefusalStatus(t *testing.T, err error, reason string, retry bool) {
	t.Helper()
	s, ok := status.FromError(err)
	require.True(t, ok, "a refusal is a status error: %v", err)
	assert.Equal(t, codes.Unavailable, s.Code())
	var info *errdetails.ErrorInfo
	var delay *errdetails.RetryInfo
	for _, d := range s.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			delay = d
		}
	}
	require.NotNil(t, info, "ErrorInfo detail")
	assert.Equal(t, reason, info.GetReason())
	assert.Equal(t, breakergrpc.ErrorInfoDomain, info.GetDomain())
	assert.Equal(t, "grpc-test", info.GetMetadata()["name"])
	if !retry {
		assert.Nil(t, delay, "no RetryInfo without an estimate")
		return
	}
	require.NotNil(t, delay, "RetryInfo detail")
	d := delay.GetRetryDelay().AsDuration()
	assert.Positive(t, d)
	assert.LessOrEqual(t, d, time.Minute)
}

func TestStreamClient(t *testing.T) {
	respond := func(n int) []*testgrpc.ResponseParameters {
		return make([]*testgrpc.ResponseParameters, n)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient)
		want verdict
	}{
		{"server stream to EOF", func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient) {
			s, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: respond(3)})
			require.NoError(t, err)
			require.Equal(t, 3, drain(s.Recv))
		}, success()},
		{"server stream error", func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient) {
			s, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{
				ResponseParameters: respond(2), ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.Unavailable)}})
			require.NoError(t, err)
			n, err := drainErr(s.Recv)
			require.Equal(t, 2, n)
			assert.Equal(t, codes.Unavailable, status.Code(err), "the caller gets the stream's error")
		}, counted("UNAVAILABLE")},
		{"server stream ignored error", func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient) {
			s, err := c.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{
				ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.NotFound)}})
			require.NoError(t, err)
			require.Equal(t, 0, drain(s.Recv))
		}, ignored("NOT_FOUND")},
		{"client stream", func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient) {
			s, err := c.StreamingInputCall(ctx)
			require.NoError(t, err)
			for range 3 {
				require.NoError(t, s.Send(&testgrpc.StreamingInputCallRequest{}))
			}
			resp, err := s.CloseAndRecv()
			require.NoError(t, err)
			assert.EqualValues(t, 3, resp.GetAggregatedPayloadSize())
		}, success()},
		{"bidi stream error", func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient) {
			s, err := c.FullDuplexCall(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: respond(1)}))
			_, err = s.Recv()
			require.NoError(t, err)
			require.NoError(t, s.Send(&testgrpc.StreamingOutputCallRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.Internal)}}))
			_, err = s.Recv()
			assert.Equal(t, codes.Internal, status.Code(err))
		}, counted("INTERNAL")},
		{"bidi stream closed by the client", func(t *testing.T, ctx context.Context, c testgrpc.TestServiceClient) {
			s, err := c.FullDuplexCall(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: respond(2)}))
			require.NoError(t, s.CloseSend())
			require.Equal(t, 2, drain(s.Recv))
		}, success()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec ends
			b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
			addr, _ := startServer(t)
			client := dial(t, addr, grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))
			tc.run(t, t.Context(), client)
			got := rec.take()
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, verdictOf(t, got[0]))
		})
	}
}

// drain receives until the first error and returns the number of messages.
func drain[T any](recv func() (T, error)) int {
	n, _ := drainErr(recv)
	return n
}

// drainErr receives until the first error and returns the number of
// messages and that error.
func drainErr[T any](recv func() (T, error)) (int, error) {
	n := 0
	for {
		if _, err := recv(); err != nil {
			return n, err
		}
		n++
	}
}

func TestStreamClientReportsOnce(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, _ := startServer(t)
	client := dial(t, addr, grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))

	ctx, cancel := context.WithCancel(t.Context())
	s, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	require.Equal(t, 0, drain(s.Recv))
	_, err = s.Recv() // after the end
	require.Error(t, err)
	cancel() // and the context's end after that
	got := rec.take()
	require.Len(t, got, 1)
	assert.Equal(t, success(), verdictOf(t, got[0]))
}

// expiringCtx is a context whose deadline passes when the test says so.
type expiringCtx struct {
	context.Context
	done chan struct{}
}

func newExpiringCtx(parent context.Context) *expiringCtx {
	return &expiringCtx{Context: parent, done: make(chan struct{})}
}

func (c *expiringCtx) Done() <-chan struct{} { return c.done }

func (c *expiringCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func (c *expiringCtx) expire() { close(c.done) }

func TestStreamClientContextEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func() (context.Context, func())
		want verdict
	}{
		{"canceled", func() (context.Context, func()) {
			return context.WithCancel(t.Context())
		}, verdict{sdk.OutcomeError, sdk.DecisionIgnored, breaker.RuleContextCanceled, "CANCELLED"}},
		{"deadline", func() (context.Context, func()) {
			ctx := newExpiringCtx(t.Context())
			return ctx, ctx.expire
		}, counted("DEADLINE_EXCEEDED")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec ends
			rec.ch = make(chan sdk.CallEnd, 1)
			b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
			addr, _ := startServer(t)
			client := dial(t, addr, grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))

			ctx, end := tc.end()
			s, err := client.FullDuplexCall(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: make([]*testgrpc.ResponseParameters, 1)}))
			_, err = s.Recv()
			require.NoError(t, err)
			// The caller abandons the stream: no more RecvMsg, only the
			// context's end.
			end()
			select {
			case got := <-rec.ch:
				assert.Equal(t, tc.want, verdictOf(t, got))
				// The tracker saw the context's error, with the code gRPC
				// gives it.
				se, ok := got.Err.(*breakergrpc.StatusError)
				require.True(t, ok, "%T", got.Err)
				assert.Equal(t, se.Code(), status.Code(se))
				assert.ErrorIs(t, se, ctx.Err())
			case <-time.After(30 * time.Second): // a bound on a hang, not a timing
				t.Fatal("the stream's call never ended")
			}
		})
	}
}

func TestStreamClientRefusal(t *testing.T) {
	b := openBreaker(t)
	addr, svc := startServer(t)
	client := dial(t, addr, grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))
	b.ForceOpen(t.Context())

	s, err := client.FullDuplexCall(t.Context())
	assert.Nil(t, s)
	checkRefusal(t, err, "CIRCUIT_BREAKER_FORCED_OPEN", false)
	assert.Zero(t, svc.hits.Load(), "no stream is opened while the breaker is open")
}

func TestStreamClientOpenFails(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, _ := startServer(t)
	client := dial(t, addr, grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))

	ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancel()
	_, err := client.FullDuplexCall(ctx)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	got := rec.take()
	require.Len(t, got, 1)
	assert.Equal(t, counted("DEADLINE_EXCEEDED"), verdictOf(t, got[0]))
}

// A caller whose context ends while it waits for a half-open slot gets the
// code gRPC gives its context's error, with a message that says so, and an
// error that matches both that context error and breaker.ErrNotPermitted.
func TestUnaryClientHalfOpenWaitEnds(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()),
		breaker.WithTripper(breaker.FailureStreak(1)),
		breaker.WithRetry(breaker.Always()), // the next call after opening is a probe
		breaker.WithPermit(breaker.All()),
		breaker.WithMaxHalfOpenCalls(1),
		breaker.WithHooks(rec.hooks()))
	addr, svc := startServer(t)
	client := dial(t, addr,
		grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)),
		grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))

	_, err := client.UnaryCall(t.Context(), statusReq(codes.Unavailable))
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Equal(t, sdk.StateOpen, b.State())

	// The probe: a stream held open takes the only half-open slot.
	probe, err := client.FullDuplexCall(t.Context())
	require.NoError(t, err)
	require.NoError(t, probe.Send(&testgrpc.StreamingOutputCallRequest{ResponseParameters: make([]*testgrpc.ResponseParameters, 1)}))
	_, err = probe.Recv()
	require.NoError(t, err)
	require.Equal(t, sdk.StateHalfOpen, b.State())

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancelExpired := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancelExpired()
	for _, tc := range []struct {
		ctx   context.Context
		code  codes.Code
		cause error
		desc  string
	}{
		{canceled, codes.Canceled, context.Canceled, "context canceled while waiting for a half-open circuit breaker slot"},
		{expired, codes.DeadlineExceeded, context.DeadlineExceeded, "context deadline exceeded while waiting for a half-open circuit breaker slot"},
	} {
		_, err = client.EmptyCall(tc.ctx, &testgrpc.Empty{})
		st := status.Convert(err)
		assert.Equal(t, tc.code, st.Code(), "%v", err)
		assert.Equal(t, tc.desc, st.Message(), "the message says what the code says")
		assert.Equal(t, "rpc error: code = "+tc.code.String()+" desc = "+tc.desc, err.Error())
		assert.ErrorIs(t, err, tc.cause, "the caller's context error")
		assert.ErrorIs(t, err, breaker.ErrNotPermitted, "the breaker did not run the call, as its own error says")
	}
	assert.EqualValues(t, 2, svc.hits.Load(), "the waiting calls are not sent")

	require.NoError(t, probe.CloseSend())
	require.Equal(t, 0, drain(probe.Recv))
	assert.Equal(t, sdk.StateClosed, b.State(), "the probe's success closes the breaker")
	rec.take()
}

// A SendMsg error other than io.EOF ends the stream, and its call.
func TestStreamClientSendError(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	addr, _ := startServer(t)
	client := dial(t, addr, grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))

	s, err := client.FullDuplexCall(t.Context())
	require.NoError(t, err)
	err = s.SendMsg("not a protocol buffer") // the codec cannot marshal it
	require.Error(t, err)
	assert.Equal(t, codes.Internal, status.Code(err))
	got := rec.take()
	require.Len(t, got, 1)
	assert.Equal(t, counted("INTERNAL"), verdictOf(t, got[0]))
}

// grpc-go's unary Invoke can fail with a bare io.EOF, without a status:
// when a stream that the server refused (RST_STREAM REFUSED_STREAM) is
// retried transparently and the retry's request cannot be sent either
// (see the refused-stream rows of TestFailureMatrix). The transport lost
// the stream: the tracker sees Unavailable, the caller the error itself.
func TestUnaryClientBareEOF(t *testing.T) {
	var rec ends
	b := newBreaker(t, breaker.WithTracker(breakergrpc.Tracker()), neverTrips, breaker.WithHooks(rec.hooks()))
	intercept := breakergrpc.UnaryClientInterceptor(b)
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return io.EOF }

	err := intercept(t.Context(), "/grpc.testing.TestService/UnaryCall", &testgrpc.SimpleRequest{}, &testgrpc.SimpleResponse{}, nil, invoker)
	assert.Same(t, io.EOF, err, "the caller gets the RPC's error untouched")
	got := rec.take()
	require.Len(t, got, 1)
	assert.Equal(t, counted("UNAVAILABLE"), verdictOf(t, got[0]))
	var se *breakergrpc.StatusError
	require.ErrorAs(t, got[0].Err, &se)
	assert.Equal(t, codes.Unavailable, se.Code())
	assert.Equal(t, codes.Unavailable, status.Code(se))
}
