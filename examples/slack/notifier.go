package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/fluxgate/fluxgate/sdk"
)

// Template is the title, colour and description of the message for a
// transition.
type Template struct {
	Title, Color, Description string
}

// transitionKey identifies a transition.
type transitionKey struct{ from, to sdk.State }

// Templates are fluxgate's messages, by transition.
var Templates = map[transitionKey]Template{
	{sdk.StateClosed, sdk.StateOpen}: {
		"🚨 Circuit Breaker Triggered", "#FF4C4C", "The request failure rate exceeded the threshold."},
	{sdk.StateOpen, sdk.StateHalfOpen}: {
		"🔄 Attempting Circuit Breaker Recovery", "#FFA500", "Testing service status with partial requests."},
	{sdk.StateHalfOpen, sdk.StateOpen}: {
		"⚠️ Circuit Breaker Re-triggered", "#FF4C4C", "Test request failed, reverting to open state."},
	{sdk.StateHalfOpen, sdk.StateClosed}: {
		"✅ Circuit Breaker Recovered", "#36a64f", "Test request succeeded, service is now healthy."},
}

// FallbackTemplate is the message for every other transition.
var FallbackTemplate = Template{
	"ℹ️ Circuit Breaker State Changed", "#808080", "Circuit breaker state has been changed.",
}

// The Slack chat.postMessage payload.
type (
	message struct {
		Channel        string       `json:"channel"`
		Attachments    []attachment `json:"attachments"`
		ThreadTS       string       `json:"thread_ts,omitempty"`
		ReplyBroadcast bool         `json:"reply_broadcast,omitempty"`
	}
	attachment struct {
		Color  string  `json:"color"`
		Blocks []block `json:"blocks"`
	}
	block struct {
		Type   string `json:"type"`
		Text   *text  `json:"text,omitempty"`
		Fields []text `json:"fields,omitempty"`
	}
	text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
)

// newMessage builds fluxgate's Slack message for t, in thread (if not
// empty). Transitions to closed are also broadcast to the channel.
func newMessage(channel string, t sdk.Transition, thread string) message {
	tmpl, ok := Templates[transitionKey{t.From, t.To}]
	if !ok {
		tmpl = FallbackTemplate
	}
	field := func(s string) text { return text{Type: "mrkdwn", Text: s} }
	return message{
		Channel: channel,
		Attachments: []attachment{{
			Color: tmpl.Color,
			Blocks: []block{
				{Type: "section", Text: &text{Type: "mrkdwn", Text: "*" + tmpl.Title + "*"}},
				{Type: "section", Fields: []text{
					field("*Circuit Breaker:*\n" + t.Name),
					field("*State Transition:*\n" + t.From.String() + " → " + t.To.String()),
					field("*Transition Time:*\n" + t.At.Local().Format(time.DateTime)),
					field("*Description:*\n" + tmpl.Description),
				}},
			},
		}},
		ThreadTS:       thread,
		ReplyBroadcast: t.To == sdk.StateClosed,
	}
}

// Notifier posts every state transition of the breakers it is given to, to
// a Slack channel, like fluxgate's SlackListener. The messages of one
// failure cycle of a breaker share a thread: the message of a transition to
// open starts it (unless one is open), transitions to closed, disabled and
// metrics_only end it, and half_open and forced_open keep it.
//
// Posting happens on a goroutine of the Notifier's own, in order, so that
// a slow Slack never slows the calls that cause transitions; when its queue
// is full, transitions are dropped and logged.
type Notifier struct {
	channel string
	url     string
	// authorize sets the Authorization header. The token lives only in
	// this closure, so printing a Notifier never shows it.
	authorize func(*http.Request)
	client    *http.Client
	logger    *slog.Logger
	queue     chan sdk.Transition
	done      chan struct{}
	threads   map[string]string // breaker name → thread ts; owned by the goroutine
}

// NewNotifier starts a Notifier that posts to url (Slack's
// chat.postMessage) with token. Call Close to stop it.
func NewNotifier(url, token, channel string, logger *slog.Logger) *Notifier {
	n := &Notifier{
		channel:   channel,
		url:       url,
		authorize: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
		client:    &http.Client{Timeout: 5 * time.Second},
		logger:    logger,
		queue:     make(chan sdk.Transition, 64),
		done:      make(chan struct{}),
		threads:   map[string]string{},
	}
	go n.loop()
	return n
}

// Hooks returns the hooks to give a breaker with breaker.WithHooks.
func (n *Notifier) Hooks() sdk.Hooks {
	return sdk.Hooks{StateChange: func(_ context.Context, t sdk.Transition) {
		select {
		case n.queue <- t:
		default:
			n.logger.Error("slack: queue full, transition dropped", "circuit_name", t.Name,
				"old_state", t.From.String(), "new_state", t.To.String())
		}
	}}
}

// Close posts the transitions still queued and stops the Notifier. No
// breaker may report to it afterwards.
func (n *Notifier) Close() {
	close(n.queue)
	<-n.done
}

func (n *Notifier) loop() {
	defer close(n.done)
	for t := range n.queue {
		if err := n.post(t); err != nil {
			n.logger.Error("slack: "+err.Error(), "circuit_name", t.Name,
				"old_state", t.From.String(), "new_state", t.To.String())
		}
	}
}

// post sends the message for t and follows the thread rules with the reply.
func (n *Notifier) post(t sdk.Transition) error {
	body, err := json.Marshal(newMessage(n.channel, t, n.threads[t.Name]))
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	n.authorize(req)
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("failed to send message: HTTP %s", resp.Status)
	}
	var reply struct {
		OK    bool   `json:"ok"`
		TS    string `json:"ts"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("failed to send message: %w", err)
	}
	if !reply.OK || reply.TS == "" {
		return fmt.Errorf("failed to send message: %s", reply.Error)
	}
	switch t.To {
	case sdk.StateOpen:
		if n.threads[t.Name] == "" {
			n.threads[t.Name] = reply.TS
		}
	case sdk.StateClosed, sdk.StateDisabled, sdk.StateMetricsOnly:
		delete(n.threads, t.Name)
	}
	return nil
}
