package breakerhttp

import (
	"errors"
	"path"
	"reflect"
	"strings"
)

// errorStringType is the type of errors.New's errors (and fmt.Errorf's
// without %w).
var errorStringType = reflect.TypeOf(errors.New(""))

// http2Sentinels are the messages of the errors that net/http's HTTP/2
// client (and golang.org/x/net/http2's, which has the same ones) returns
// when it loses a connection; they are errors.New values, known only by
// their message.
var http2Sentinels = map[string]bool{
	"http2: client connection lost":               true, // the server stopped answering PINGs
	"http2: client conn is closed":                true,
	"http2: client conn not usable":               true,
	"http2: client conn could not be established": true,
}

// http2GoAwayPrefix starts the messages of the errors.New values with
// which the client ends a stream that the server's GOAWAY says it did not
// process ("... received Server's graceful shutdown GOAWAY", which the
// Transport retries on a new connection when it can, and "... received
// GOAWAY from server ErrCode:...").
const http2GoAwayPrefix = "http2: Transport received "

// isHTTP2Failure reports whether err, or an error it wraps, is an HTTP/2
// stream or connection failure. net/http's HTTP/2 client has its own
// errors for them, none of which is a net.Error:
//
//   - a stream error: the server reset the stream (RST_STREAM, as
//     net/http's server does when a handler panics or aborts), or the
//     client reset it because the server broke the protocol;
//   - a connection error: the server broke the protocol;
//   - a GOAWAY error: the server sent GOAWAY and closed the connection
//     before the response was complete;
//   - the errors of a lost connection and of a GOAWAY that ended a stream
//     the server had not processed (see http2Sentinels and http2GoAwayPrefix).
//
// The first three are net/http's unexported http2StreamError,
// http2ConnectionError and http2GoAwayError (golang.org/x/net/http2's
// StreamError, ConnectionError and GoAwayError when that package's
// Transport is used): this package depends on neither, so it knows them
// by their type's package and name, which it reads by reflection. The
// others are errors.New values, known by their message. Neither way
// allocates.
func isHTTP2Failure(err error) bool {
	for err != nil {
		if isHTTP2Error(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if isHTTP2Failure(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// isHTTP2Error reports whether err itself (not what it wraps) is one of
// the errors isHTTP2Failure looks for.
func isHTTP2Error(err error) bool {
	t := reflect.TypeOf(err)
	if t == errorStringType {
		msg := err.Error()
		return http2Sentinels[msg] || strings.HasPrefix(msg, http2GoAwayPrefix)
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch pkg, name := t.PkgPath(), t.Name(); {
	case pkg == "net/http":
		return name == "http2StreamError" || name == "http2ConnectionError" || name == "http2GoAwayError"
	case path.Base(pkg) == "http2":
		return name == "StreamError" || name == "ConnectionError" || name == "GoAwayError"
	}
	return false
}
