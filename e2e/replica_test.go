package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxgate/fluxgate/breakerhttp"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/fluxgate/fluxgate/otelbridge"
	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/breaker"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

// replicaEnv holds the JSON replicaConfig of a test binary started as a
// replica.
const replicaEnv = "FLUXGATE_E2E_REPLICA"

// serviceName is the service.name of every replica: Prometheus' job label.
const serviceName = "checkout"

// breakerName is the name of every replica's breaker.
const breakerName = "payments"

// replicaConfig configures a replica process.
type replicaConfig struct {
	Instance       string        // service.instance.id
	OTLP           string        // host:port of the Collector's OTLP/HTTP receiver
	Dependency     string        // URL of the dependency
	MetricInterval time.Duration // of the periodic metric reader; 0: deliberate flushes only
	Cooldown       time.Duration // of the breaker
	Timeout        time.Duration // of each call
	Pace           time.Duration // between calls
	Offset         int           // shifts the script
	Script         string        // "mixed" or "failing"
	Workers        int           // goroutines calling at once (at least 1)
	// Enforcement is the group's breaker.WithEnforcement; nil: the
	// default (1).
	Enforcement *float64 `json:",omitempty"`
	// MaxOpenFraction is the group's breaker.WithMaxOpenFraction; 0: the
	// default (no cap).
	MaxOpenFraction float64 `json:",omitempty"`
	// Hosts are the URLs of several dependencies (one breaker each), called
	// in turn, instead of Dependency alone.
	Hosts []string `json:",omitempty"`
}

// callRecord is what a replica's caller saw of one call.
type callRecord struct {
	Seq       int
	TraceID   string // of the caller's span
	SpanID    string // of the caller's span, the parent of the breaker's
	Class     string // ok, client_error, server_error, timeout, panic, rejected, other
	ErrorType string // the error.type the class implies ("" for ok)
	Batch     int    // the flush that exports the call's span
}

// transitionRecord is a transition as the breaker reported it to the
// replica's own hook, with the span in the context of the call that caused
// it.
type transitionRecord struct {
	TraceID, SpanID string
	From, To        string
	Batch           int
}

// truth is a replica's ground truth at a flush.
type truth struct {
	Instance    string
	Calls       []callRecord
	Transitions []transitionRecord
	Key         string // of the breaker in its group: the dependency's host
	State       string // of the breaker when the flush began
	Window      windowTruth
	// WindowReported is whether the breaker gives its hooks a window
	// snapshot at registration, which the bridge's window gauges read.
	WindowReported bool
	Flushes        int   // flushes done, this one included
	FailedFlushes  []int // the batches whose flush failed
	ConstructedAt  time.Time
	FlushError     string // of this flush
	ExportErrors   int    // errors the SDK reported through otel.Handle
	WouldReject    int    // calls the enforcement let through although the breaker would have refused them
	TripsCapped    int64  // trips the group's cap on open keys refused
}

// windowTruth is the breaker's window when a flush began.
type windowTruth struct {
	Calls       int
	FailureRate float64 // -1 while the window is empty
	SlowRate    float64 // of slowThreshold; -1 while the window is empty
	Streak      int
}

// slowThreshold is the slow-call threshold of the replicas' tripper; no
// call takes that long, so its slow rate is 0 but reported.
const slowThreshold = time.Second

// replicaMsg is a line a replica writes on its stdout.
type replicaMsg struct {
	Kind  string // "call", "ran", "truth"
	Seq   int    `json:",omitempty"`
	Truth *truth `json:",omitempty"`
}

// plan is what the script asks the dependency to do for call seq.
func (c *replicaConfig) plan(seq int) string {
	if c.Script == "failing" {
		return "500"
	}
	s := (seq + c.Offset) % 60
	if s < 30 { // healthy
		switch {
		case s == 17:
			return "poison"
		case s%6 == 2:
			return "404"
		case s%6 == 5:
			return "400"
		}
		return "ok"
	}
	return [...]string{"500", "stall", "503", "ok"}[(s-30)%4]
}

// ruleHTTP4xx labels the errors that breakerhttp's default tracker does
// not count: here, the 4xx answers.
const ruleHTTP4xx = "http_4xx"

// newTracker ignores 4xx answers under the label http_4xx and judges
// everything else with breakerhttp's default tracker (5xx answers,
// timeouts and network errors count, each under its own label).
func newTracker() *tracker.Rule {
	return tracker.Named(ruleHTTP4xx, tracker.Custom(is4xx)).Not().And(breakerhttp.DefaultTracker())
}

func is4xx(_ context.Context, err error) bool {
	se, ok := errors.AsType[*breakerhttp.StatusError](err)
	return ok && se.StatusCode() >= 400 && se.StatusCode() <= 499
}

// replica is the state of a replica process.
type replica struct {
	cfg    replicaConfig
	group  *breaker.Group
	b      *breaker.Breaker // the group's breaker of the dependency's host
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	tracer trace.Tracer
	client *http.Client
	seq    atomic.Int64 // of the next call

	mu          sync.Mutex // guards the fields below, written by hooks and the error handler
	truth       truth
	exportErrs  int
	transitions []transitionRecord
}

// runReplica is the main function of a replica process: it reads commands
// on stdin ("run N", "run N PLAN", "flush", "enforce F", "quit") and
// answers on stdout.
func runReplica(cfgJSON string) int {
	var cfg replicaConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "replica config:", err)
		return 2
	}
	r, err := newReplica(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		return 2
	}
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex // guards out, which the workers share
	emit := func(m replicaMsg) {
		outMu.Lock()
		defer outMu.Unlock()
		if err := out.Encode(m); err != nil {
			os.Exit(3) // the test is gone
		}
	}
	ctx := context.Background()
	emit(replicaMsg{Kind: "truth", Truth: r.flush(ctx)})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "run": // "run N" follows the script; "run N PLAN" asks for PLAN every time
			count, plan, _ := strings.Cut(arg, " ")
			n, _ := strconv.Atoi(count)
			var left atomic.Int64
			left.Store(int64(n))
			var wg sync.WaitGroup
			for range max(cfg.Workers, 1) {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						emit(replicaMsg{Kind: "call", Seq: r.call(ctx, plan)})
						time.Sleep(cfg.Pace)
					}
				})
			}
			wg.Wait()
			emit(replicaMsg{Kind: "ran"})
		case "flush":
			emit(replicaMsg{Kind: "truth", Truth: r.flush(ctx)})
		case "enforce": // "enforce F": the group's enforcement becomes F
			f, err := strconv.ParseFloat(arg, 64)
			if err == nil {
				err = r.group.SetEnforcement(f)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "replica: enforce:", err)
				return 2
			}
			emit(replicaMsg{Kind: "enforced"})
		case "quit":
			t := r.flush(ctx)
			r.group.Close()
			shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = r.tp.Shutdown(shutdown)
			_ = r.mp.Shutdown(shutdown)
			cancel()
			emit(replicaMsg{Kind: "truth", Truth: t})
			return 0
		default:
			fmt.Fprintln(os.Stderr, "replica: unknown command", in.Text())
			return 2
		}
	}
	return 0
}

func newReplica(cfg replicaConfig) (*replica, error) {
	ctx := context.Background()
	r := &replica{cfg: cfg, truth: truth{Instance: cfg.Instance}}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {
		r.mu.Lock()
		r.exportErrs++
		r.mu.Unlock()
	}))
	res := resource.NewSchemaless(
		attribute.String("service.name", serviceName),
		attribute.String("service.instance.id", cfg.Instance),
	)
	// The SDK's OTLP/HTTP exporters retry a failed export when the
	// failure is temporary (429, 502, 503, 504, or a temporary network
	// error); a refused connection is not, and fails the export at once.
	texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(cfg.OTLP), otlptracehttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	mexp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(cfg.OTLP), otlpmetrichttp.WithInsecure())
	if err != nil {
		return nil, err
	}
	// Spans leave only at a deliberate flush: the batch is never full and
	// its timeout never comes.
	r.tp = sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(texp,
			sdktrace.WithBatchTimeout(time.Hour),
			sdktrace.WithMaxQueueSize(1<<16),
			sdktrace.WithMaxExportBatchSize(1<<16)),
	)
	interval := cfg.MetricInterval
	if interval == 0 {
		interval = 24 * time.Hour
	}
	r.mp = sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp, sdkmetric.WithInterval(interval))),
	)
	r.tracer = r.tp.Tracer("github.com/fluxgate/fluxgate/e2e")

	// The replica's own hook: the transitions as the breaker reports them,
	// with the span of the call that caused them.
	truthHooks := sdk.Hooks{Register: func(reg sdk.Registration) func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.truth.WindowReported = reg.Window != nil
		return func() {}
	}, CallEnd: func(_ context.Context, e sdk.CallEnd) {
		if e.WouldReject {
			r.mu.Lock()
			r.truth.WouldReject++
			r.mu.Unlock()
		}
	}, StateChange: func(ctx context.Context, tr sdk.Transition) {
		sc := trace.SpanContextFromContext(ctx)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.transitions = append(r.transitions, transitionRecord{
			TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String(),
			From: tr.From.String(), To: tr.To.String(), Batch: r.truth.Flushes,
		})
	}}
	// One breaker per dependency host, through breakerhttp: the spans and
	// metrics carry the host as circuit_breaker.key.
	operate := []breaker.Option{}
	if cfg.Enforcement != nil {
		operate = append(operate, breaker.WithEnforcement(*cfg.Enforcement))
	}
	if cfg.MaxOpenFraction > 0 {
		operate = append(operate, breaker.WithMaxOpenFraction(cfg.MaxOpenFraction))
	}
	r.group, err = breaker.NewGroup(breakerName, append(operate,
		breaker.WithWindow(breaker.CountWindow(20)),
		breaker.WithTracker(newTracker()),
		breaker.WithTripper(breaker.Closed().And(breaker.MinRequests(8)).
			And(breaker.FailureRate(0.5).Or(breaker.SlowRate(1, slowThreshold))).
			Or(breaker.HalfOpened().And(breaker.FailureStreak(1)))),
		breaker.WithRetry(breaker.Cooldown(cfg.Cooldown, 0)),
		breaker.WithPermit(breaker.All()),
		breaker.WithHooks(
			// Every rejected call gets a span, so that spans and calls
			// match one to one (the default is one a second).
			otelbridge.Hooks(otelbridge.WithTracerProvider(r.tp), otelbridge.WithMeterProvider(r.mp),
				otelbridge.WithRejectedSpanInterval(0)),
			truthHooks,
		),
	)...)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.Dependency)
	if err != nil {
		return nil, err
	}
	r.truth.Key = u.Host
	// Built now, so that the state gauge reports it from before the first
	// call on.
	if r.b, err = r.group.Get(u.Host); err != nil {
		return nil, err
	}
	r.client = &http.Client{Transport: breakerhttp.NewGroupTransport(verifier{http.DefaultTransport}, r.group, breakerhttp.Host)}
	return r, nil
}

// verifier is the replica's inner RoundTripper; it panics on a response
// with a poisoned header, as a buggy response-signature check would.
type verifier struct{ next http.RoundTripper }

func (v verifier) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err == nil && resp.Header.Get(poisonHeader) != "" {
		resp.Body.Close()
		panic("e2e: poisoned response")
	}
	return resp, err
}

// call makes the next call, with plan or else the script's plan, and
// records what the caller saw.
func (r *replica) call(ctx context.Context, plan string) int {
	seq := int(r.seq.Add(1) - 1)
	ctx, span := r.tracer.Start(ctx, "checkout", trace.WithAttributes(attribute.Int("e2e.call.seq", seq)))
	defer span.End()
	sc := span.SpanContext()
	rec := callRecord{Seq: seq, TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String()}

	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if plan == "" {
		plan = r.cfg.plan(seq)
	}
	dep := r.cfg.Dependency
	if len(r.cfg.Hosts) > 0 {
		dep = r.cfg.Hosts[seq%len(r.cfg.Hosts)]
	}
	code, panicked, err := r.do(ctx, dep, plan)
	var npe breaker.NotPermittedError
	switch {
	case panicked:
		rec.Class, rec.ErrorType = "panic", otelbridge.ErrorTypePanic
	case errors.As(err, &npe):
		rec.Class, rec.ErrorType = "rejected", npe.ErrorType()
	case errors.Is(err, context.DeadlineExceeded):
		rec.Class, rec.ErrorType = "timeout", otelbridge.ErrorTypeDeadlineExceeded
	case err != nil:
		rec.Class, rec.ErrorType = "other", err.Error()
	case code >= 500:
		rec.Class, rec.ErrorType = "server_error", strconv.Itoa(code)
	case code >= 400:
		rec.Class, rec.ErrorType = "client_error", strconv.Itoa(code)
	default:
		rec.Class = "ok"
	}
	r.mu.Lock()
	rec.Batch = r.truth.Flushes
	r.truth.Calls = append(r.truth.Calls, rec)
	r.mu.Unlock()
	return seq
}

// do sends one request to the dependency and reads the answer; a panic
// of the client's transport is recovered here, after the breaker recorded
// it.
func (r *replica) do(ctx context.Context, dep, plan string) (code int, panicked bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dep+"?do="+plan+"&instance="+url.QueryEscape(r.cfg.Instance), nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, false, err
	}
	return resp.StatusCode, false, nil
}

// flush exports every span and the metrics now, and returns the ground
// truth up to this flush.
func (r *replica) flush(ctx context.Context) *truth {
	r.mu.Lock()
	batch := r.truth.Flushes
	r.truth.Flushes++
	info := r.b.Info()
	r.truth.State = info.State.String()
	r.truth.Window = windowTruth{Calls: info.Metric.TotalCount, FailureRate: -1, SlowRate: -1, Streak: info.ConsecutiveFailures}
	if v, ok := info.Metric.FailureRate(); ok {
		r.truth.Window.FailureRate = v
	}
	if v, ok := info.Metric.SlowRate(slowThreshold); ok {
		r.truth.Window.SlowRate = v
	}
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := errors.Join(r.tp.ForceFlush(ctx), r.mp.ForceFlush(ctx))

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.truth.FailedFlushes = append(r.truth.FailedFlushes, batch)
		r.truth.FlushError = err.Error()
	} else {
		r.truth.FlushError = ""
	}
	if batch == 0 {
		r.truth.ConstructedAt = time.Now()
	}
	r.truth.Transitions = append([]transitionRecord(nil), r.transitions...)
	r.truth.ExportErrors = r.exportErrs
	r.truth.TripsCapped = r.group.TripsCapped()
	t := r.truth
	t.Calls = append([]callRecord(nil), r.truth.Calls...)
	t.FailedFlushes = append([]int(nil), r.truth.FailedFlushes...)
	return &t
}
