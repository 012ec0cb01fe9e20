package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// A client with a breaker per host: one bad host opens its own breaker,
// and the others go on. The group holds at most 10,000 hosts and forgets a
// healthy host after ten idle minutes.
func ExampleGroup() {
	hosts, err := breaker.NewGroup("http-client",
		breaker.WithMaxKeys(10000),
		breaker.WithIdleTimeout(10*time.Minute),
		breaker.WithTripper(breaker.FailureStreak(3)),
	)
	if err != nil {
		panic(err)
	}
	defer hosts.Close()

	// fetch stands for a request to host; flaky.example is down.
	fetch := func(ctx context.Context, host string) error {
		b, err := hosts.Get(host)
		if err != nil {
			return err
		}
		return b.Do(ctx, func(ctx context.Context) error {
			if host == "flaky.example" {
				return errors.New("connection refused")
			}
			return nil
		})
	}

	ctx := context.Background()
	for i := range 4 {
		for _, host := range []string{"api.example", "flaky.example"} {
			fmt.Printf("round %d %s: %v\n", i, host, fetch(ctx, host))
		}
	}
	// Output:
	// round 0 api.example: <nil>
	// round 0 flaky.example: connection refused
	// round 1 api.example: <nil>
	// round 1 flaky.example: connection refused
	// round 2 api.example: <nil>
	// round 2 flaky.example: connection refused
	// round 3 api.example: <nil>
	// round 3 flaky.example: circuit breaker is open
}

// A status page: every key's state, and an operator's command for one key.
func ExampleGroup_Info() {
	tenants, err := breaker.NewGroup("tenants")
	if err != nil {
		panic(err)
	}
	defer tenants.Close()
	for _, t := range []string{"acme", "globex", "initech"} {
		if _, err := tenants.Get(t); err != nil {
			panic(err)
		}
	}
	ctx := context.Background()
	if err := tenants.ForceOpen(ctx, "globex"); err != nil {
		panic(err)
	}

	info := tenants.Info()
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Printf("%s/%s: %s\n", info[k].Name, k, info[k].State)
	}
	// Output:
	// tenants/acme: closed
	// tenants/globex: forced_open
	// tenants/initech: closed
}

// Per-key options: one tenant gets a tighter tripper than the rest.
func ExampleWithKeyOptions() {
	tenants, err := breaker.NewGroup("tenants",
		breaker.WithKeyOptions(func(tenant string) []breaker.Option {
			if tenant == "fragile" {
				return []breaker.Option{breaker.WithTripper(breaker.FailureStreak(1))}
			}
			return nil // the group's configuration
		}),
	)
	if err != nil {
		panic(err)
	}
	defer tenants.Close()

	ctx := context.Background()
	for _, t := range []string{"fragile", "sturdy"} {
		b, err := tenants.Get(t)
		if err != nil {
			panic(err)
		}
		_ = b.Do(ctx, func(context.Context) error { return errors.New("timeout") })
		fmt.Printf("%s: %s\n", t, b.State())
	}
	// Output:
	// fragile: open
	// sturdy: closed
}

// Group options are checked with the breaker options, once, at
// construction.
func ExampleNewGroup_invalid() {
	_, err := breaker.NewGroup("hosts",
		breaker.WithMaxKeys(0),
		breaker.WithIdleTimeout(-time.Minute),
		breaker.WithMaxHalfOpenCalls(0),
	)
	fmt.Println(err)
	// Output:
	// breaker: invalid configuration for "hosts": WithMaxHalfOpenCalls(0): must be at least 1; WithMaxKeys(0): must be at least 1; WithIdleTimeout(-1m0s): must not be negative
}
