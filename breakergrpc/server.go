package breakergrpc

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// PushbackTrailer is the trailer in which a server interceptor's refusal
// tells the client, in milliseconds, when to try again: gRPC's retry
// pushback, which a gRPC client that retries Unavailable honours.
const PushbackTrailer = "grpc-retry-pushback-ms"

// UnaryServerInterceptor returns a server interceptor that sheds load with
// b: every unary RPC the server receives is a call of b.
//
//	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(breakergrpc.UnaryServerInterceptor(b)))
//
// When b refuses an RPC, the handler is not called: the client gets a status
// error with code Unavailable (which, on the server, matches
// [breaker.ErrNotPermitted]), with the details described in the package
// documentation and, when b knows when it will admit calls again, the
// [PushbackTrailer]. Otherwise the handler runs under the context of its
// [breaker.Call] (so its spans are children of the breaker's span) and the
// error it returns goes, as a [*StatusError], to b's tracker; gRPC gets the
// handler's reply and error unchanged. A handler that panics is recorded as
// a counted failure and the panic goes on: gRPC recovers no panic, so put a
// recovery interceptor before this one to turn panics into statuses.
//
// UnaryServerInterceptor panics if b is nil.
func UnaryServerInterceptor(b *breaker.Breaker, opts ...Option) grpc.UnaryServerInterceptor {
	return newInterceptor("UnaryServerInterceptor", b, opts).unaryServer
}

func (ic *interceptor) unaryServer(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if ic.skip(ctx, info.FullMethod) {
		return handler(ctx, req)
	}
	b, err := ic.pick(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	c, err := b.Allow(ctx)
	if err != nil {
		err = refused(err)
		if md := pushback(err); md != nil {
			_ = grpc.SetTrailer(ctx, md) // fails only outside a server call
		}
		return nil, err
	}
	done := false
	defer endPanic(&c, &done)
	reply, err := handler(c.Context(), req)
	done = true
	c.Done(newStatusError(err))
	return reply, err
}

// StreamServerInterceptor returns a server interceptor that sheds load with
// b: every streaming RPC the server receives is a call of b, from the
// handler's start to its return.
//
//	srv := grpc.NewServer(grpc.ChainStreamInterceptor(breakergrpc.StreamServerInterceptor(b)))
//
// Refusals, classification and panics are as for [UnaryServerInterceptor];
// the handler's stream returns the Call's context from its Context method.
//
// StreamServerInterceptor panics if b is nil.
func StreamServerInterceptor(b *breaker.Breaker, opts ...Option) grpc.StreamServerInterceptor {
	return newInterceptor("StreamServerInterceptor", b, opts).streamServer
}

func (ic *interceptor) streamServer(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := ss.Context()
	if ic.skip(ctx, info.FullMethod) {
		return handler(srv, ss)
	}
	b, err := ic.pick(ctx, info.FullMethod)
	if err != nil {
		return err
	}
	c, err := b.Allow(ctx)
	if err != nil {
		err = refused(err)
		if md := pushback(err); md != nil {
			ss.SetTrailer(md)
		}
		return err
	}
	done := false
	defer endPanic(&c, &done)
	err = handler(srv, &serverStream{ServerStream: ss, ctx: c.Context()})
	done = true
	c.Done(newStatusError(err))
	return err
}

// serverStream is a ServerStream whose Context is the Call's.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the context of the breaker's Call for the stream.
func (s *serverStream) Context() context.Context { return s.ctx }

// pushback returns the trailer that tells a client when the refusal err
// ends, or nil when the breaker has no estimate.
func pushback(err error) metadata.MD {
	r, ok := err.(refusal)
	if !ok {
		return nil
	}
	d := r.npe.RetryAfter()
	if d <= 0 {
		return nil
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond // rounded up, never 0
	return metadata.Pairs(PushbackTrailer, strconv.FormatInt(int64(ms), 10))
}
