package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fluxgate/fluxgate/sdk"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the screenshot to ../../docs/status-page.png")

// TestStatusPageInChromium uses the page as an operator would, in a real
// headless Chromium driven through the DevTools protocol by chromedp: it
// sees a breaker open within one refresh after its dependency fails, is
// refused a command without the token, forces a breaker open and resets
// it with the token, and takes a screenshot (written to
// docs/status-page.png with -update-screenshot, to a temporary directory
// otherwise; it is not compared with anything).
func TestStatusPageInChromium(t *testing.T) {
	exe := requireChromium(t)
	const refresh = 500 * time.Millisecond
	a, url := startApp(t, config{token: "t0ken", refresh: refresh, cooldown: time.Hour})

	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// No network beyond loopback: nothing to update, sync or race to.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...), what)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}

	do("load the page", chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="payments"][data-state="closed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="inventory"][data-state="closed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="warehouses"][data-key="eu-west"]`)))
	assert.Contains(t, text("h1"), "Circuit breakers")

	// The payments dependency fails: its breaker opens, and the page shows
	// it within one refresh.
	a.deps["payments"].down.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for a.breakers["payments"].State() != sdk.StateOpen {
		require.True(t, time.Now().Before(deadline), "the payments breaker did not open")
		time.Sleep(10 * time.Millisecond)
	}
	opened := time.Now()
	// One refresh, plus the time to fetch and render the JSON.
	within, cancelWithin := context.WithTimeout(ctx, refresh+time.Second)
	require.NoError(t, chromedp.Do(within, chromedp.WaitVisible(chromedp.CSS(`tr[data-name="payments"][data-state="open"]`))),
		"the page shows the open breaker within one refresh")
	cancelWithin()
	t.Logf("the page showed payments open %v after it opened", time.Since(opened).Round(time.Millisecond))
	row := text(`tr[data-name="payments"]`)
	assert.Contains(t, row, "tripped")
	assert.Contains(t, row, "rule http_5xx", "the transition shows the rule of the error that caused it")
	assert.Contains(t, row, "error.type 503")

	// Without the token the command is refused and changes nothing.
	forceOpen := chromedp.CSS(`tr[data-name="inventory"] button[data-cmd="force_open"]`)
	do("force open without the token", chromedp.Click(forceOpen),
		chromedp.WaitVisible(chromedp.CSS(`#fg-announce[data-result="refused"]`)))
	assert.Contains(t, text("#fg-announce"), "Refused (403): not authorised")
	assert.Equal(t, sdk.StateClosed, a.breakers["inventory"].State())

	// With it, force open, then reset.
	do("force open with the token", chromedp.SendKeys(chromedp.CSS("#fg-token"), "t0ken"), chromedp.Click(forceOpen),
		chromedp.WaitVisible(chromedp.CSS(`#fg-announce[data-result="ok"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="inventory"][data-state="forced_open"]`)))
	assert.Equal(t, sdk.StateForcedOpen, a.breakers["inventory"].State())
	assert.Contains(t, text("#fg-announce"), "inventory is now forced open (force open by token holder)")
	assert.Contains(t, text(`tr[data-name="inventory"]`), "manual by token holder")

	// The breaker in shadow mode opens, and the page says it refuses
	// nothing, in words.
	do("wait for the shadow breaker to open", chromedp.WaitVisible(chromedp.CSS(`tr[data-name="recommendations"][data-state="open"]`)))
	assert.Equal(t, "shadow", text(`tr[data-name="recommendations"] .enf`))
	badges, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr[data-name="payments"] .enf').length`))
	require.NoError(t, err)
	assert.Zero(t, badges, "an enforcing breaker shows nothing extra")

	// The group's cap: us-east opens, then ap-south fails too and the cap
	// keeps it closed.
	do("wait for the warehouse that is down", chromedp.WaitVisible(chromedp.CSS(`tr[data-name="warehouses"][data-key="us-east"][data-state="open"]`)))
	deadline = time.Now().Add(30 * time.Second)
	for a.group.TripsCapped() == 0 {
		require.True(t, time.Now().Before(deadline), "no trip of the group was capped")
		time.Sleep(10 * time.Millisecond)
	}
	do("wait for the capped trip", chromedp.WaitVisible(chromedp.CSS(`p.cap[data-cap="capped"]:not([data-trips-capped="0"])`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="warehouses"][data-key="ap-south"][data-state="closed"]`)))
	capLine := text(`p.cap`)
	assert.Contains(t, capLine, "Open keys 1 of at most 1 (cap 25%) at the cap")
	assert.Regexp(t, `trips capped: [1-9][0-9]*$`, capLine)

	// The screenshot: payments open, inventory forced open, recommendations
	// open in shadow mode, a warehouse down and another held closed by the cap.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(png), "\x89PNG"), "a PNG")
	path := filepath.Join(t.TempDir(), "status-page.png")
	if *updateScreenshot {
		path = filepath.Join("..", "..", "docs", "status-page.png")
	}
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)

	do("reset", chromedp.Click(chromedp.CSS(`tr[data-name="inventory"] button[data-cmd="reset"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#fg-announce[data-result="ok"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="inventory"][data-state="closed"]`)))
	assert.Equal(t, sdk.StateClosed, a.breakers["inventory"].State())
	assert.Contains(t, text("#fg-announce"), "inventory is now closed (reset by token holder)")

	// The filters: only the breakers that are not closed.
	do("choose not closed", chromedp.SetValue(chromedp.CSS("#fg-f-state"), "!closed"))
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('fg-f-state').dispatchEvent(new Event('change'))`))
	require.NoError(t, err)
	do("filter", chromedp.WaitNotPresent(chromedp.CSS(`tr[data-name="inventory"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="payments"][data-state="open"]`)))

	// On a phone the tables turn into cards: no column headers, a label
	// before each figure.
	do("a phone's viewport", chromedp.EmulateViewport(390, 844))
	layout, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[
		getComputedStyle(document.querySelector('thead')).position,
		getComputedStyle(document.querySelector('tbody tr')).display,
		getComputedStyle(document.querySelector('tbody td'), '::before').content]`))
	require.NoError(t, err)
	assert.Equal(t, []string{"absolute", "block", `"State: "`}, layout)
	phone, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "status-page-phone.png"), phone, 0o644))
}
