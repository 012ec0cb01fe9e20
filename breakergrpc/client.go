package breakergrpc

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// UnaryClientInterceptor returns a client interceptor that protects every
// unary RPC with b:
//
//	conn, err := grpc.NewClient(target, creds,
//		grpc.WithUnaryInterceptor(breakergrpc.UnaryClientInterceptor(b)))
//
// When b refuses an RPC, the interceptor sends nothing and returns a status
// error with code Unavailable that matches [breaker.ErrNotPermitted] (see
// the package documentation). Otherwise the RPC runs under the context of
// its [breaker.Call] (so the spans of an otelgrpc stats handler on the
// connection are children of the breaker's span) and its error, as a
// [*StatusError], goes to b's tracker; the caller gets the RPC's error
// unchanged.
//
// UnaryClientInterceptor panics if b is nil.
func UnaryClientInterceptor(b *breaker.Breaker, opts ...Option) grpc.UnaryClientInterceptor {
	return newInterceptor("UnaryClientInterceptor", b, opts).unaryClient
}

func (ic *interceptor) unaryClient(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if ic.skip(ctx, method) {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	b, err := ic.pick(ctx, method)
	if err != nil {
		return err
	}
	c, err := b.Allow(ctx)
	if err != nil {
		return refused(err)
	}
	done := false
	defer endPanic(&c, &done)
	err = invoker(c.Context(), method, req, reply, cc, opts...)
	done = true
	c.Done(invokeStatusError(err))
	return err
}

// StreamClientInterceptor returns a client interceptor that protects every
// streaming RPC with b:
//
//	conn, err := grpc.NewClient(target, creds,
//		grpc.WithStreamInterceptor(breakergrpc.StreamClientInterceptor(b)))
//
// A refused stream is not opened: the interceptor returns a status error
// with code Unavailable that matches [breaker.ErrNotPermitted]. An admitted
// stream is one call of b, from its opening to the first of:
//
//   - the first error of RecvMsg: io.EOF is a success, any other error is
//     the RPC's outcome, classified by b's tracker as a [*StatusError];
//   - for an RPC whose server sends one message (a client-streaming RPC),
//     RecvMsg returning that message: a success;
//   - an error of Header, or an error other than io.EOF of SendMsg (io.EOF
//     means the stream ended and RecvMsg has its status);
//   - the end of the stream's context: canceled (ignored, as the caller
//     gave up) or past its deadline (DeadlineExceeded, counted by
//     [Tracker]).
//
// These are the ways grpc-go says a stream ends. A caller that abandons a
// stream without any of them (no draining RecvMsg, a context that never
// ends) leaks it in grpc-go, and leaves its call in flight in b: if b
// admitted it while half-open, it holds its half-open slot until b's next
// transition, which drops its outcome.
//
// The stream runs under the context of its [breaker.Call], so the spans of
// an otelgrpc stats handler are children of the breaker's span. The caller
// gets every error of the stream unchanged.
//
// StreamClientInterceptor panics if b is nil.
func StreamClientInterceptor(b *breaker.Breaker, opts ...Option) grpc.StreamClientInterceptor {
	return newInterceptor("StreamClientInterceptor", b, opts).streamClient
}

func (ic *interceptor) streamClient(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if ic.skip(ctx, method) {
		return streamer(ctx, desc, cc, method, opts...)
	}
	b, err := ic.pick(ctx, method)
	if err != nil {
		return nil, err
	}
	s := &clientStream{serverStreams: desc.ServerStreams}
	s.call, err = b.Allow(ctx)
	if err != nil {
		return nil, refused(err)
	}
	done := false
	defer endPanic(&s.call, &done)
	cs, err := streamer(s.call.Context(), desc, cc, method, opts...)
	done = true
	if err != nil {
		s.call.Done(newStatusError(err))
		return nil, err
	}
	s.ClientStream = cs
	s.stop = context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	return s, nil
}

// clientStream reports the outcome of its stream to its Call once.
type clientStream struct {
	grpc.ClientStream
	serverStreams bool
	call          breaker.Call
	ended         atomic.Bool
	stop          func() bool // stops the context.AfterFunc
}

// finish ends the call from a method of the stream: it stops the watch on
// the stream's context, then reports err.
func (s *clientStream) finish(err error) {
	s.stop()
	s.end(err)
}

// end reports the stream's outcome, the first time it is called. err is
// nil, io.EOF or the error that ended the stream. The stream's methods call
// it through finish, the watch on the stream's context directly (stop is
// set only after the watch started).
func (s *clientStream) end(err error) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	s.call.Done(newStatusError(err))
}

// RecvMsg receives a message; its first error ends the call.
func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil || !s.serverStreams {
		s.finish(err)
	}
	return err
}

// SendMsg sends a message; an error other than io.EOF ends the call.
func (s *clientStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	if err != nil && err != io.EOF {
		s.finish(err)
	}
	return err
}

// Header returns the header metadata; an error ends the call.
func (s *clientStream) Header() (md metadata.MD, err error) {
	md, err = s.ClientStream.Header()
	if err != nil {
		s.finish(err)
	}
	return md, err
}
