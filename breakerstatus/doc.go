// Package breakerstatus is a status page and an admin API for fluxgate's
// circuit breakers: an [http.Handler] that a service mounts where it likes
// (/debug/breakers, say), in the tradition of golang.org/x/net/trace's
// /debug/requests and gRPC's channelz pages.
//
// # Model
//
// A [Registry] is the set of breakers and groups the page shows. It is
// explicit and opt-in: there is no global registry, and nothing is listed
// that the program did not give it.
//
//	reg, _ := breakerstatus.NewRegistry()
//	b, _ := breaker.New("payments", breaker.WithHooks(reg.Hooks()))
//	_ = reg.Add(b)
//	g, _ := breaker.NewGroup("hosts", breaker.WithHooks(reg.Hooks()))
//	_ = reg.AddGroup(g)
//	h, _ := breakerstatus.NewHandler(reg, breakerstatus.WithAuthorize(authorize))
//	mux.Handle("/debug/breakers", h)
//
// [Registry.Add] and [Registry.AddGroup] list a breaker or a group: the
// page reads them ([breaker.Breaker.Info], [breaker.Group.Info]) when it
// is asked, and the commands act on them. A group shows every key it
// holds, its overflow breaker included; keys it evicts leave the page.
// Each breaker shows its enforcement (shadow mode, or the share of
// refusals it enforces, [breaker.WithEnforcement]) and each group its cap
// on open keys ([breaker.WithMaxOpenFraction]): the keys open now, at
// most how many may be, and how many trips the cap refused.
// [Registry.Hooks], given to the same breakers and groups, records what
// reading them cannot tell: each breaker's last transitions, each with
// the call that caused it (its decision, the tracker rule that decided,
// its error.type) or who gave the command, and the last error that
// counted. A breaker closed with [breaker.Breaker.Close] leaves the page;
// the registry holds breakers and groups weakly, so one the program drops
// leaves it once collected.
//
// # Defaults and memory
//
// Everything a registry keeps is bounded: [DefaultMaxBreakers] breakers
// and groups listed, a history for [DefaultMaxTracked] breakers (a group's
// keys each count), a ring of [DefaultTransitionsPerBreaker] transitions
// per breaker and one of [DefaultRecentTransitions] for all breakers
// together, and [DefaultMaxKeysListed] keys listed per group (those not
// closed first). Options change each.
//
// # The handler
//
// GET (or HEAD) serves an HTML page that refreshes itself every
// [DefaultRefresh] by polling the same data as JSON, filters by name, key
// and state, and reads well on a phone and to a screen reader. With
// ?format=json, or an Accept header that prefers application/json, it
// serves the [Status] document, whose [Schema] is
// "fluxgate.breakerstatus/v1".
//
// POST gives a [Command]: reset, disable, metrics_only or force_open, to
// one breaker, one key of a group, or every breaker of a group.
//
// # Security model
//
//   - Read-only by default. The handler serves commands only when it was
//     given an authorisation func ([WithAuthorize]); without one, the page
//     says it is read-only, shows no command buttons, and every POST gets
//     403 Forbidden. There is no default that lets everyone in.
//   - Every POST passes net/http's [http.CrossOriginProtection] first: a
//     browser request from another origin (Sec-Fetch-Site, or an Origin
//     that does not match the Host) gets 403, so another site cannot make
//     an operator's browser give a command. Requests without those headers
//     (curl, fleet tools) pass it, and must pass the authorisation func.
//     [WithCrossOriginProtection] can trust more origins; nothing turns the
//     check off.
//   - The authorisation func sees every POST before its body is read; what
//     it returns as who is logged and shown on the transition.
//   - A command's body is JSON of at most 4 KiB; bad input (unknown
//     breaker or key, unknown command, wrong method, wrong content type,
//     oversized or malformed body) gets a 4xx with a JSON error and changes
//     nothing.
//   - The page itself is served with a Content-Security-Policy that allows
//     only its own inline script and style (by nonce) and requests to its
//     own origin, and may not be framed.
//   - The read side shows breaker names, keys, states, counts, tracker rule
//     labels and error types, never error messages. Mount the handler where
//     only operators can reach it if names or keys are sensitive.
//
// Every command, served or refused, is logged through log/slog (who, the
// command, the target, the result; [WithLogger], default slog.Default()).
// The command runs with the request's context, so the breaker's own
// StateChange hooks see it: otelbridge adds the transition as a span event
// on the request's span when the handler is wrapped in, say, otelhttp, and
// counts it in circuit_breaker.transitions like any other.
//
// # Concurrency
//
// A Registry and a Handler are safe for concurrent use, by calls, commands
// and page loads at once. Building a [Status] takes each breaker's lock
// briefly, one breaker after another, and the registry's own locks, never
// two at once; the hooks take no lock on a success or a rejection (see
// [Registry.Hooks]). The package starts no goroutines and no timers.
package breakerstatus
