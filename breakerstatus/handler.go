package breakerstatus

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultRefresh is how often the page of a handler built without
// [WithRefresh] polls for fresh data.
const DefaultRefresh = 2 * time.Second

// maxBody is the largest command body the handler reads.
const maxBody = 4 << 10

// A HandlerOption configures a [Handler]; see [NewHandler].
type HandlerOption interface {
	applyHandler(*handlerConfig)
}

type handlerOptionFunc func(*handlerConfig)

func (f handlerOptionFunc) applyHandler(c *handlerConfig) { f(c) }

type handlerConfig struct {
	authorize func(*http.Request) (string, bool)
	logger    *slog.Logger
	refresh   time.Duration
	cop       *http.CrossOriginProtection
	errs      []error
}

// WithAuthorize turns commands on: the handler serves a POST only if
// authorize returns ok, and logs who (a user name, a token's subject) as
// the command's author. authorize is called for every POST that passed the
// cross-origin check, before its body is read; it may read the request's
// headers, cookies, TLS state or remote address, and must not read its
// body. Without WithAuthorize, the default, the handler is read-only: the
// page says so and every POST gets 403 Forbidden.
func WithAuthorize(authorize func(r *http.Request) (who string, ok bool)) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if authorize == nil {
			c.errs = append(c.errs, errors.New("WithAuthorize(nil): give a func, or leave the option out for a read-only page"))
		}
		c.authorize = authorize
	})
}

// WithLogger sets the logger that records every command, served or
// refused. Default: slog.Default() at the time of each command.
func WithLogger(l *slog.Logger) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if l == nil {
			c.errs = append(c.errs, errors.New("WithLogger(nil): give a logger, or leave the option out for slog.Default()"))
		}
		c.logger = l
	})
}

// WithRefresh sets how often the page polls the handler's JSON to refresh
// itself without reloading; 0 turns polling off (the page then shows the
// data it was loaded with, refreshed after each command). d must be 0 or
// at least 100ms. Default: [DefaultRefresh].
func WithRefresh(d time.Duration) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if d != 0 && d < 100*time.Millisecond {
			c.errs = append(c.errs, fmt.Errorf("WithRefresh(%s): must be 0 (off) or at least 100ms", d))
		}
		c.refresh = d
	})
}

// WithCrossOriginProtection sets the cross-origin protection that every
// POST passes before anything else, for example one with trusted origins
// (a separate admin front end) added with AddTrustedOrigin. It cannot be
// turned off. Default: a new http.CrossOriginProtection, which accepts
// only same-origin browser requests and requests from non-browser clients.
func WithCrossOriginProtection(c *http.CrossOriginProtection) HandlerOption {
	return handlerOptionFunc(func(cfg *handlerConfig) {
		if c == nil {
			cfg.errs = append(cfg.errs, errors.New("WithCrossOriginProtection(nil): cross-origin protection cannot be turned off; leave the option out for the default"))
		}
		cfg.cop = c
	})
}

// Handler serves a registry's status page, its JSON and its commands.
// Build one with [NewHandler] and mount it where you like:
//
//	mux.Handle("/debug/breakers", h)
//
// GET and HEAD serve the page, or the [Status] as JSON when the request
// has ?format=json or asks for application/json in its Accept header.
// POST serves a [Command]; any other method gets 405 Method Not Allowed.
// A Handler is safe for concurrent use.
type Handler struct {
	reg  *Registry
	cfg  handlerConfig
	cop  *http.CrossOriginProtection
	page *pageTemplate
}

// NewHandler builds the handler of reg. It returns an error that names
// every invalid option.
func NewHandler(reg *Registry, opts ...HandlerOption) (*Handler, error) {
	cfg := handlerConfig{refresh: DefaultRefresh}
	if reg == nil {
		cfg.errs = append(cfg.errs, errors.New("registry is nil"))
	}
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.applyHandler(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, fmt.Errorf("breakerstatus: invalid handler options: %w", errors.Join(cfg.errs...))
	}
	cop := cfg.cop
	if cop == nil {
		cop = http.NewCrossOriginProtection()
	}
	return &Handler{reg: reg, cfg: cfg, cop: cop, page: loadPage()}, nil
}

// ServeHTTP serves the page, the JSON and the commands.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r)
	case http.MethodPost:
		h.post(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed: GET or HEAD reads the status, POST gives a command", r.Method))
	}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	asJSON := false
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		asJSON = true
	case "html":
	case "":
		asJSON = acceptsJSON(r.Header.Get("Accept"))
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown format %q: use json or html", f))
		return
	}
	st := h.reg.Status()
	st.Commands = h.cfg.authorize != nil
	if asJSON {
		writeJSON(w, http.StatusOK, st)
		return
	}
	nonce := newNonce()
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	h.page.render(w, pageData{Status: st, Nonce: nonce, RefreshMillis: h.cfg.refresh.Milliseconds()})
}

// acceptsJSON reports whether an Accept header prefers JSON to HTML: it
// names application/json and does not name text/html before it.
func acceptsJSON(accept string) bool {
	j := strings.Index(accept, "application/json")
	if j < 0 {
		return false
	}
	hi := strings.Index(accept, "text/html")
	return hi < 0 || hi > j
}

// newNonce returns a CSP nonce in hex: no character of it needs escaping
// in an HTML attribute, so the page carries it verbatim.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ErrorResponse is the JSON body of every 4xx response.
type ErrorResponse struct {
	// Error says what was wrong.
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, ErrorResponse{Error: msg})
}

func (h *Handler) logger() *slog.Logger {
	if h.cfg.logger != nil {
		return h.cfg.logger
	}
	return slog.Default()
}
