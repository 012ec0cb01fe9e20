package breakerstatus_test

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

func Example() {
	reg, err := breakerstatus.NewRegistry()
	if err != nil {
		panic(err)
	}
	// The registry's hooks record each breaker's transitions and their
	// causes; Add and AddGroup put the breaker and the group on the page.
	payments, err := breaker.New("payments", breaker.WithHooks(reg.Hooks()),
		breaker.WithTripper(breaker.FailureStreak(1)))
	if err != nil {
		panic(err)
	}
	if err := reg.Add(payments); err != nil {
		panic(err)
	}
	hosts, err := breaker.NewGroup("hosts", breaker.WithHooks(reg.Hooks()))
	if err != nil {
		panic(err)
	}
	if err := reg.AddGroup(hosts); err != nil {
		panic(err)
	}

	// Commands only for requests that carry the operators' token.
	const token = "Bearer s3cret"
	h, err := breakerstatus.NewHandler(reg, breakerstatus.WithAuthorize(func(r *http.Request) (string, bool) {
		ok := subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(token)) == 1
		return "operator", ok
	}))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/breakers", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	_ = payments.Do(context.Background(), func(context.Context) error { return errors.New("connection refused") })

	// What a fleet tool reads.
	resp, err := http.Get(srv.URL + "/debug/breakers?format=json")
	if err != nil {
		panic(err)
	}
	var st breakerstatus.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		panic(err)
	}
	resp.Body.Close()
	p := st.Breakers[0]
	fmt.Println(st.Schema)
	fmt.Println(p.Name, p.State, p.Transitions[0].Reason, p.Transitions[0].Cause.Decision)

	// An operator resets it.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/debug/breakers",
		strings.NewReader(`{"command":"reset","name":"payments"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, payments.State())
	// Output:
	// fluxgate.breakerstatus/v1
	// payments open tripped counted
	// 200 OK closed
}
