package breakerstatus_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/breakerstatus"
	"github.com/fluxgate/fluxgate/sdk/breaker"
)

// TestConcurrentCallsCommandsAndReads races calls, commands, page reads,
// new keys, evictions and closes; run it under -race. Each breaker's
// recorded transitions must still form one chain, in order.
func TestConcurrentCallsCommandsAndReads(t *testing.T) {
	f := newFixture(t)
	h, err := breakerstatus.NewHandler(f.reg, breakerstatus.WithAuthorize(tokenAuth),
		breakerstatus.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	cmds := []string{"reset", "disable", "metrics_only", "force_open"}
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { // calls, half of them failing
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range rounds {
				b := f.b
				if i%2 == 0 {
					var err error
					b, err = f.g.Get(fmt.Sprint("k", rnd.IntN(6)))
					if err != nil {
						continue
					}
				}
				_ = b.Do(context.Background(), func(context.Context) error {
					if rnd.IntN(2) == 0 {
						return &errUpstream{code: "503"}
					}
					return nil
				})
			}
		})
		wg.Go(func() { // commands through the handler
			rnd := rand.New(rand.NewPCG(uint64(w), 2))
			for range rounds / 4 {
				body := fmt.Sprintf(`{"command":%q,"name":"payments"}`, cmds[rnd.IntN(4)])
				switch rnd.IntN(3) {
				case 0:
					body = fmt.Sprintf(`{"command":%q,"name":"hosts","all":true}`, cmds[rnd.IntN(4)])
				case 1:
					body = fmt.Sprintf(`{"command":%q,"name":"hosts","key":"a"}`, cmds[rnd.IntN(4)])
				}
				code := post(t, h, body).Code
				assert.Contains(t, []int{http.StatusOK, http.StatusNotFound}, code, body)
			}
		})
		wg.Go(func() { // readers
			for range rounds / 10 {
				assert.Equal(t, http.StatusOK, get(t, h, "/debug/breakers?format=json").Code)
				assert.Equal(t, http.StatusOK, get(t, h, "/debug/breakers").Code)
			}
		})
	}
	wg.Go(func() { // keys come and go
		for i := range rounds {
			b, err := breaker.New(fmt.Sprint("temp", i), breaker.WithHooks(f.reg.Hooks()))
			if !assert.NoError(t, err) {
				return
			}
			assert.NoError(t, f.reg.Add(b))
			fail(b)
			b.Close()
			f.g.EvictIdle()
		}
	})
	wg.Wait()

	st := status(t, h)
	assert.Equal(t, []string{"payments"}, names(breakerstatus.Status{Breakers: st.Breakers}), "closed breakers left")
	all := st.Breakers
	for _, g := range st.Groups {
		all = append(all, g.Breakers...)
	}
	for _, b := range all {
		assert.LessOrEqual(t, len(b.Transitions), breakerstatus.DefaultTransitionsPerBreaker)
		for i := 0; i+1 < len(b.Transitions); i++ {
			assert.Equal(t, b.Transitions[i+1].To, b.Transitions[i].From, "%s/%s: transitions recorded in order", b.Name, b.Key)
		}
	}
	assert.Len(t, st.Recent, breakerstatus.DefaultRecentTransitions)
	runtime.KeepAlive(f) // the registry holds the breakers weakly
}
