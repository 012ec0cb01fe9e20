package breakerhttp

import (
	"net/http"
)

// wrapWriter returns the wrapper of w that a handler gets, and the
// responseWriter inside it that records the status. The wrapper offers
// exactly the optional interfaces of w that net/http defines or uses:
// [http.Flusher] (with FlushError, for [http.ResponseController]),
// [http.Hijacker], [io.ReaderFrom], [http.Pusher] and http.CloseNotifier.
// Go cannot add methods to a value at run time, so there is a type for
// each of the 32 combinations; each is one allocation, the responseWriter
// and the parts that refer to it together.
func wrapWriter(w http.ResponseWriter) (*responseWriter, http.ResponseWriter) {
	var m int
	if _, ok := w.(http.Flusher); ok {
		m |= 1
	}
	if _, ok := w.(http.Hijacker); ok {
		m |= 2
	}
	if _, ok := w.(readerFrom); ok {
		m |= 4
	}
	if _, ok := w.(http.Pusher); ok {
		m |= 8
	}
	if _, ok := w.(closeNotifier); ok {
		m |= 16
	}
	switch m {
	case 0:
		rw := &responseWriter{w: w}
		return rw, rw
	case 1:
		s := &struct {
			responseWriter
			flusherPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w = &s.responseWriter
		return &s.responseWriter, s
	case 2:
		s := &struct {
			responseWriter
			hijackerPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w = &s.responseWriter
		return &s.responseWriter, s
	case 3:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 4:
		s := &struct {
			responseWriter
			readerFromPart
		}{responseWriter: responseWriter{w: w}}
		s.readerFromPart.w = &s.responseWriter
		return &s.responseWriter, s
	case 5:
		s := &struct {
			responseWriter
			flusherPart
			readerFromPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.readerFromPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 6:
		s := &struct {
			responseWriter
			hijackerPart
			readerFromPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.readerFromPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 7:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			readerFromPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.readerFromPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 8:
		s := &struct {
			responseWriter
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.pusherPart.w = &s.responseWriter
		return &s.responseWriter, s
	case 9:
		s := &struct {
			responseWriter
			flusherPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 10:
		s := &struct {
			responseWriter
			hijackerPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 11:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 12:
		s := &struct {
			responseWriter
			readerFromPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.readerFromPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 13:
		s := &struct {
			responseWriter
			flusherPart
			readerFromPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.readerFromPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 14:
		s := &struct {
			responseWriter
			hijackerPart
			readerFromPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.readerFromPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 15:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			readerFromPart
			pusherPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.readerFromPart.w, s.pusherPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 16:
		s := &struct {
			responseWriter
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.closeNotifierPart.w = &s.responseWriter
		return &s.responseWriter, s
	case 17:
		s := &struct {
			responseWriter
			flusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 18:
		s := &struct {
			responseWriter
			hijackerPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 19:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 20:
		s := &struct {
			responseWriter
			readerFromPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.readerFromPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 21:
		s := &struct {
			responseWriter
			flusherPart
			readerFromPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.readerFromPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 22:
		s := &struct {
			responseWriter
			hijackerPart
			readerFromPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.readerFromPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 23:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			readerFromPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.readerFromPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 24:
		s := &struct {
			responseWriter
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 25:
		s := &struct {
			responseWriter
			flusherPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 26:
		s := &struct {
			responseWriter
			hijackerPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 27:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 28:
		s := &struct {
			responseWriter
			readerFromPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.readerFromPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 29:
		s := &struct {
			responseWriter
			flusherPart
			readerFromPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.readerFromPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 30:
		s := &struct {
			responseWriter
			hijackerPart
			readerFromPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.hijackerPart.w, s.readerFromPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	case 31:
		s := &struct {
			responseWriter
			flusherPart
			hijackerPart
			readerFromPart
			pusherPart
			closeNotifierPart
		}{responseWriter: responseWriter{w: w}}
		s.flusherPart.w, s.hijackerPart.w, s.readerFromPart.w, s.pusherPart.w, s.closeNotifierPart.w = &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter, &s.responseWriter
		return &s.responseWriter, s
	}
	panic("unreachable")
}
