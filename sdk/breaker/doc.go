// Package breaker is fluxgate's circuit breaker: a Go port of the Python
// library fluxgate, safe for concurrent use and built to be observed.
//
// # Model
//
// A [Breaker], built by [New], protects calls to a dependency: wrap each
// call in [Execute], [Breaker.Do] or [ExecuteWithFallback], or, where the
// call cannot be wrapped in a func (middleware, streams), admit it with
// [Breaker.Allow] and report its outcome with [Call.Done]. Each call's
// error goes to a tracker ([tracker.Tracker], set by [WithTracker]), which
// decides whether it is counted against the breaker or ignored. Counted
// failures and successes are recorded in a [Window] ([CountWindow]: the
// last N calls; [TimeWindow]: the last N seconds). After every recorded
// outcome the [Tripper] looks at the window's [Metric] and the current
// streaks ([CallContext]) and says whether to trip.
//
// The breaker has six states ([sdk.State]):
//
//   - closed: every call runs; when the tripper trips, the breaker opens.
//   - open: calls are refused with a [NotPermittedError] until the [Retry]
//     policy ([Cooldown], [Backoff], ...) lets one through; that call moves
//     the breaker to half-open. With the default permit, an [AdmitFirst]
//     permit, it always runs as the first probe; with a plain permit
//     ([RampUp], [Random], [All], [PermitFunc]) it runs only if the permit
//     admits it, and is otherwise refused, the breaker staying half-open.
//     There is no timer: the move happens on the next call.
//   - half_open: at most [WithMaxHalfOpenCalls] probes of one half-open
//     period run at once (others wait at most [WithHalfOpenWait] for a slot,
//     and any transition sends them on by the new state), each admitted by
//     the [Permit]. The first successful probe after which the tripper is
//     false closes the breaker; a counted probe failure after which the
//     tripper is true re-opens it. If every slot is held by probes that do
//     not report and none was taken for [WithHalfOpenTimeout], the holders
//     count as failures and the breaker re-opens.
//   - metrics_only: every call runs and is recorded; the breaker never trips.
//   - disabled: every call runs; nothing is recorded.
//   - forced_open: every call is refused.
//
// The last three are entered and left only by the manual commands
// [Breaker.Reset], [Breaker.Disable], [Breaker.MetricsOnly] and
// [Breaker.ForceOpen]. Every transition, including one to the same state,
// resets the window and is reported to the hooks ([sdk.Hooks], added with
// [WithHooks]; [LogHooks] logs transitions with [log/slog]).
//
// # Defaults
//
// [New] and [NewGroup] without options give:
//
//   - window CountWindow(100) and tracker tracker.All();
//   - tripper Closed().And(MinRequests(20).And(FailureRate(0.5))).Or(SuccessesToClose(5)):
//     while closed, the breaker opens when at least half of the last 100
//     calls failed, once 20 were recorded (fewer reacts to noise; 100, as
//     in fluxgate and resilience4j, waits too long for a service that makes
//     a few calls a second); while half-open, it re-opens on the first
//     counted failed probe and closes after 5 successful probes in a row
//     (gobreaker and failsafe-go close on a success threshold, resilience4j
//     lets 10 probes decide);
//   - retry Cooldown(60*time.Second, 0);
//   - permit AdmitFirst(RampUp(0.1, 1.0, 60*time.Second)): the call that
//     ends the cooldown always runs as a probe, later ones are admitted
//     with a probability that ramps from 0.1 to 1 over a minute;
//   - 10 half-open calls at once, callers waiting at most 1s for a slot
//     ([WithHalfOpenWait]), and a half-open timeout of 1 minute
//     ([DefaultHalfOpenTimeout]).
//
// They differ from fluxgate's, MinRequests(100).And(FailureRate(0.5)) and
// a plain RampUp, so that a breaker behaves as gobreaker, failsafe-go and
// resilience4j users expect: with fluxgate's, the first call after a
// cooldown is admitted only one time in ten, and half-open falls into the
// trap below. [WithFluxgateDefaults] gives fluxgate's components in one
// option (options after it override it).
//
// # The half-open trap (fluxgate's components)
//
// A tripper is evaluated in half-open on the half-open window, which the
// transition emptied. With fluxgate's default tripper,
// MinRequests(100).And(FailureRate(0.5)) (set by [WithFluxgateDefaults] or
// explicitly), MinRequests is not met there for 99 probes: one successful
// probe closes the breaker even after 30 failed ones, and re-opening takes
// 100 failed probes in a row. This is fluxgate's behaviour, kept for
// parity. To avoid it with your own closed-state rule, limit that rule with
// [Closed] and add [SuccessesToClose], as the default tripper does;
// [HalfOpened], [Tripper.Not] and a [TripperFunc] (which sees
// [CallContext.ConsecutiveSuccesses]) build other half-open rules.
//
// # Two-step calls and per-key breakers
//
// Code that cannot wrap the call in a func (middleware, streams, response
// bodies read after the round trip) admits it with [Breaker.Allow] and
// reports the outcome later, exactly once, with [Call.Done] or
// [Call.Panicked]; the accounting is that of [Execute].
//
// A [Group], built by [NewGroup] from one validated configuration, holds
// one breaker per key (host, tenant, route), built on first [Group.Get].
// It is bounded by [WithMaxKeys] and [WithIdleTimeout], and never evicts a
// breaker that protects something: only closed or disabled breakers with
// no call in flight go, and those with a counted failure in their window
// only once their key has gone the idle time without a Get; an evicted
// breaker is closed ([Breaker.Close]). At the key limit with
// nothing evictable, new keys share one overflow breaker ([OverflowKey]).
// A hit takes no lock and allocates nothing.
//
// # Operating in production
//
// Three controls let a team roll a rule out, bound its blast radius and
// change it without a restart; docs/operating.md in the repository walks
// through them.
//
// Enforcement ([WithEnforcement], [Breaker.SetEnforcement],
// [Group.SetEnforcement]) is the fraction of the calls the breaker would
// refuse that it does refuse: 1 by default, 0 for shadow mode. A call let
// through contributes nothing to the state machine (it is not recorded,
// holds no half-open slot, makes no transition), so a shadow breaker makes
// exactly the transitions an enforcing one makes on the same recorded
// outcomes, and its hooks see the call as [sdk.CallEnd.WouldReject]. An
// operator's forced_open is always enforced. Shadow mode is not
// metrics_only:
//
//	                    shadow mode (enforcement 0)      metrics_only (MetricsOnly)
//	set by              WithEnforcement, SetEnforcement  a manual command
//	calls refused       none (forced_open still is)      none
//	state machine       runs: trips, opens, probes,      stays in metrics_only:
//	                    closes, exactly as enforcing     never trips
//	outcomes recorded   while closed and for probes,     every call
//	                    as when enforcing; not the
//	                    calls it would have refused
//	what it tells you   which calls this rule would      the failure rate the
//	                    refuse, and when                 window sees
//	leaving it          SetEnforcement(1): the state     Reset: closed, window
//	                    it is in takes effect at once    emptied
//
// The cap on open keys of a [Group] ([WithMaxOpenFraction], off by
// default) keeps a key closed when its tripper fires while max(1, ⌊f ×
// keys⌋) keys are already open, half-open or forced open, and reports it
// ([sdk.TripCapped]); the key opens on a later outcome once there is room.
//
// [Breaker.Reconfigure] and [Group.Reconfigure] change the window,
// tracker, tripper, retry, permit, half-open limits and enforcement while
// calls go on: validated as a whole (nothing changes on a [*ConfigError]),
// swapped atomically, keeping the state, the window (when its kind and size
// are unchanged), the hooks and their telemetry series, and reported to
// the Reconfigured hooks ([sdk.Reconfiguration]).
//
// # Errors, cancellation and panics
//
// [Execute] returns the protected function's error untouched. A refused
// call gets a [NotPermittedError], which matches [ErrNotPermitted] with
// [errors.Is] and carries [NotPermittedError.RetryAt] and
// [NotPermittedError.RetryAfterSeconds] (for a Retry-After header). An
// error returned by a call whose own context was canceled is ignored (it
// says nothing about the dependency); [context.DeadlineExceeded] goes to
// the tracker like any error. A panic is recorded as a counted failure,
// releases any half-open slot, and continues with its original value;
// fallbacks are not called for it. [New] validates the whole
// configuration and returns a [*ConfigError] listing every invalid part;
// the zero [Window], [Tripper], [Retry] and [Permit] are reported there.
//
// # Concurrency
//
// A Breaker is safe for concurrent use by any number of goroutines. One
// mutex guards its window and counters; the protected function, the tracker
// and the hooks always run outside it. A call's outcome is applied only if
// the breaker has not changed state since the call was admitted (a
// generation counter, which also closes fluxgate's ABA gap), so outcomes of
// calls in flight across a transition never leak into the next window. The
// breaker starts no goroutines and no timers.
//
// The settings (window kind, tracker, tripper, retry, permit, limits) are
// one immutable value swapped atomically by Reconfigure, so no call takes
// a lock to read them. A closed-state call without hooks takes one lock
// and allocates nothing; it reads the clock only when a TimeWindow, an
// [AvgLatency] or [SlowRate] tripper, or a hook needs the time. A call
// refused while open takes no lock, draws no random number and allocates
// nothing before the retry delay, or with jitter before the lower edge of
// the jitter band, delay × (1 − jitter), where no draw could let it
// through; after that, and for [Always] and [RetryFunc], the policy is
// asked under the lock. With an enforcement below 1, a would-be refusal
// also draws one random number (none at 0), without a lock. A
// transition costs the same whatever the window's size: resetting a
// window does not visit its buckets. A window's storage is built when the
// breaker records its first call, so a breaker that never records one
// holds only a small header.
//
// # Deliberate differences from fluxgate
//
// Stale TimeWindow buckets expire on read as well as on record (buckets
// are keyed by Unix second, as in fluxgate); durations are [time.Duration]
// sums, without float drift (retry delays with jitter or [Backoff] are
// still computed and compared in float64 seconds, as fluxgate does, so
// that ties are decided the same way); the half-open concurrency limit applies to
// every breaker; breakers have names; the rejection error carries the
// breaker's name, state and retry time; the defaults differ (see
// Defaults); a half-open period stuck on probes that never report ends
// after [WithHalfOpenTimeout]. [SuccessesToClose], [Tripper.Not],
// [AdmitFirst] and [CallContext.ConsecutiveSuccesses] have no fluxgate
// counterpart.
package breaker
