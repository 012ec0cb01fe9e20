package breakerstatus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// The commands a [Command] names.
const (
	// CommandReset moves the target to closed (breaker.Breaker.Reset).
	CommandReset = "reset"
	// CommandDisable moves the target to disabled (breaker.Breaker.Disable).
	CommandDisable = "disable"
	// CommandMetricsOnly moves the target to metrics_only
	// (breaker.Breaker.MetricsOnly).
	CommandMetricsOnly = "metrics_only"
	// CommandForceOpen moves the target to forced_open
	// (breaker.Breaker.ForceOpen).
	CommandForceOpen = "force_open"
)

// Command is the JSON body of a POST to the handler (Content-Type
// application/json, at most 4 KiB). It addresses a breaker given to
// [Registry.Add] by Name; one key of a group given to [Registry.AddGroup]
// by Name and Key; or every breaker of that group (its overflow breaker
// included) by Name and All.
type Command struct {
	// Command is reset, disable, metrics_only or force_open.
	Command string `json:"command"`
	// Name is the breaker's or the group's name.
	Name string `json:"name"`
	// Key is the key within the group; it must be one the group holds
	// (the page lists them). Any string, "" included, is a key.
	Key *string `json:"key,omitempty"`
	// All addresses every breaker of the group.
	All bool `json:"all,omitempty"`
}

// CommandResult is the JSON body of the response to a command that was
// carried out (200 OK).
type CommandResult struct {
	// Command, Name, Key and All repeat the command.
	Command string  `json:"command"`
	Name    string  `json:"name"`
	Key     *string `json:"key,omitempty"`
	All     bool    `json:"all,omitempty"`
	// By is who gave it, as the authorisation func said.
	By string `json:"by"`
	// State is the target's state after the command (for All, the state
	// every breaker of the group was moved to).
	State string `json:"state"`
}

// commandError is a refused command: its status code and message.
type commandError struct {
	code int
	msg  string
}

func (e *commandError) Error() string { return e.msg }

func refuse(code int, format string, args ...any) *commandError {
	return &commandError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	log := h.logger()
	attrs := []any{slog.String("remote_addr", r.RemoteAddr)}
	if err := h.cop.Check(r); err != nil {
		log.WarnContext(r.Context(), "fluxgate: breaker command refused", append(attrs, slog.String("result", "cross-origin request refused"))...)
		writeError(w, http.StatusForbidden, "cross-origin request refused: commands are accepted only from the page's own origin")
		return
	}
	if h.cfg.authorize == nil {
		log.WarnContext(r.Context(), "fluxgate: breaker command refused", append(attrs, slog.String("result", "read-only"))...)
		writeError(w, http.StatusForbidden, "commands are off: this status page is read-only (the handler was built without breakerstatus.WithAuthorize)")
		return
	}
	who, ok := h.cfg.authorize(r)
	attrs = append(attrs, slog.String("who", who))
	if !ok {
		log.WarnContext(r.Context(), "fluxgate: breaker command refused", append(attrs, slog.String("result", "not authorised"))...)
		writeError(w, http.StatusForbidden, "not authorised to give commands")
		return
	}
	cmd, cerr := readCommand(w, r)
	if cerr == nil {
		attrs = append(attrs, slog.String("command", cmd.Command), slog.String("name", cmd.Name), slog.Bool("all", cmd.All))
		if cmd.Key != nil {
			attrs = append(attrs, slog.String("key", *cmd.Key))
		}
		var res CommandResult
		res, cerr = h.run(withActor(r.Context(), who), cmd)
		if cerr == nil {
			res.By = who
			log.InfoContext(r.Context(), "fluxgate: breaker command", append(attrs, slog.String("result", "ok"), slog.String("state", res.State))...)
			writeJSON(w, http.StatusOK, res)
			return
		}
	}
	log.WarnContext(r.Context(), "fluxgate: breaker command refused", append(attrs, slog.String("result", cerr.msg))...)
	writeError(w, cerr.code, cerr.msg)
}

// readCommand reads and checks the body of a command.
func readCommand(w http.ResponseWriter, r *http.Request) (Command, *commandError) {
	var cmd Command
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return cmd, refuse(http.StatusUnsupportedMediaType, "a command is a JSON body: send Content-Type: application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cmd); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return cmd, refuse(http.StatusRequestEntityTooLarge, "command body is larger than %d bytes", maxBody)
		}
		return cmd, refuse(http.StatusBadRequest, "malformed command: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return cmd, refuse(http.StatusRequestEntityTooLarge, "command body is larger than %d bytes", maxBody)
		}
		return cmd, refuse(http.StatusBadRequest, "malformed command: one JSON object expected")
	}
	switch cmd.Command {
	case CommandReset, CommandDisable, CommandMetricsOnly, CommandForceOpen:
	default:
		return cmd, refuse(http.StatusBadRequest, "unknown command %q: use reset, disable, metrics_only or force_open", cmd.Command)
	}
	if cmd.Name == "" {
		return cmd, refuse(http.StatusBadRequest, "command has no name: name the breaker or the group")
	}
	if cmd.All && cmd.Key != nil {
		return cmd, refuse(http.StatusBadRequest, "give either key or all, not both")
	}
	return cmd, nil
}

// run carries out a checked command with ctx, which holds the request's
// context (and its span, if the request has one) and who gave it.
func (h *Handler) run(ctx context.Context, cmd Command) (CommandResult, *commandError) {
	res := CommandResult{Command: cmd.Command, Name: cmd.Name, Key: cmd.Key, All: cmd.All}
	if b := h.reg.breaker(cmd.Name); b != nil {
		if cmd.Key != nil || cmd.All {
			return res, refuse(http.StatusBadRequest, "%q is a breaker, not a group: give no key and no all", cmd.Name)
		}
		breakerCommand(ctx, b, cmd.Command)
		res.State = commandState(cmd.Command)
		return res, nil
	}
	g := h.reg.group(cmd.Name)
	if g == nil {
		return res, refuse(http.StatusNotFound, "no breaker or group named %q is listed", cmd.Name)
	}
	if cmd.All {
		groupCommandAll(ctx, g, cmd.Command)
		res.State = commandState(cmd.Command)
		return res, nil
	}
	if cmd.Key == nil {
		return res, refuse(http.StatusBadRequest, "%q is a group: give a key, or all", cmd.Name)
	}
	key := *cmd.Key
	if _, ok := g.Info()[key]; !ok {
		return res, refuse(http.StatusNotFound, "group %q holds no key %q", cmd.Name, key)
	}
	if key == breaker.OverflowKey {
		return res, refuse(http.StatusConflict, "key %q is the group's overflow breaker, shared by many keys: command the whole group (all) instead", key)
	}
	if err := groupCommand(ctx, g, key, cmd.Command); err != nil {
		return res, refuse(http.StatusConflict, "group %q, key %q: %v", cmd.Name, key, err)
	}
	res.State = commandState(cmd.Command)
	return res, nil
}

func commandState(cmd string) string {
	switch cmd {
	case CommandReset:
		return "closed"
	case CommandDisable:
		return "disabled"
	case CommandMetricsOnly:
		return "metrics_only"
	}
	return "forced_open"
}

func breakerCommand(ctx context.Context, b *breaker.Breaker, cmd string) {
	switch cmd {
	case CommandReset:
		b.Reset(ctx)
	case CommandDisable:
		b.Disable(ctx)
	case CommandMetricsOnly:
		b.MetricsOnly(ctx)
	case CommandForceOpen:
		b.ForceOpen(ctx)
	}
}

func groupCommand(ctx context.Context, g *breaker.Group, key, cmd string) error {
	switch cmd {
	case CommandReset:
		return g.Reset(ctx, key)
	case CommandDisable:
		return g.Disable(ctx, key)
	case CommandMetricsOnly:
		return g.MetricsOnly(ctx, key)
	}
	return g.ForceOpen(ctx, key)
}

func groupCommandAll(ctx context.Context, g *breaker.Group, cmd string) {
	switch cmd {
	case CommandReset:
		g.ResetAll(ctx)
	case CommandDisable:
		g.DisableAll(ctx)
	case CommandMetricsOnly:
		g.MetricsOnlyAll(ctx)
	case CommandForceOpen:
		g.ForceOpenAll(ctx)
	}
}
