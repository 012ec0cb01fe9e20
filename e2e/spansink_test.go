package e2e

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// spanSink is an OTLP/HTTP trace receiver: the Collector's otlphttp
// exporter sends it every span the Collector received.
type spanSink struct {
	srv *httptest.Server

	mu    sync.Mutex // guards spans
	spans []span
}

// span is a received span with its resource's service.instance.id.
type span struct {
	instance string
	*tracepb.Span
}

func (s span) traceID() string  { return hex.EncodeToString(s.TraceId) }
func (s span) spanID() string   { return hex.EncodeToString(s.SpanId) }
func (s span) parentID() string { return hex.EncodeToString(s.ParentSpanId) }

// attr returns the string form of the attribute k, and whether it is set.
func (s span) attr(k string) (string, bool) { return attrOf(s.Attributes, k) }

func attrOf(kvs []*commonpb.KeyValue, k string) (string, bool) {
	for _, kv := range kvs {
		if kv.Key != k {
			continue
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue, true
		case *commonpb.AnyValue_IntValue:
			return itoa(v.IntValue), true
		default:
			return kv.Value.String(), true
		}
	}
	return "", false
}

func newSpanSink(t testing.TB) *spanSink {
	s := &spanSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *spanSink) url() string { return s.srv.URL + "/v1/traces" }

func (s *spanSink) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got []span
	for _, rs := range req.ResourceSpans {
		inst, _ := attrOf(rs.GetResource().GetAttributes(), "service.instance.id")
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				got = append(got, span{instance: inst, Span: sp})
			}
		}
	}
	s.mu.Lock()
	s.spans = append(s.spans, got...)
	s.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// of returns the spans received so far from the replica instance.
func (s *spanSink) of(instance string) []span {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []span
	for _, sp := range s.spans {
		if sp.instance == instance {
			out = append(out, sp)
		}
	}
	return out
}
