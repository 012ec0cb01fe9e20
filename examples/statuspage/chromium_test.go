package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// installEnv names the variable that lets the test install Chromium when
// it is missing, outside CI.
const installEnv = "FLUXGATE_INSTALL_CHROMIUM"

// chromiumNames are the executables the test looks for, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

func findChromium() string {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var installOnce = sync.OnceValues(installChromium)

// installChromium installs Debian's chromium package with apt-get. It is
// called only as root, with CI or FLUXGATE_INSTALL_CHROMIUM=1 set.
func installChromium() (string, error) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("chromium is not installed, and there is no apt-get to install it")
	}
	fmt.Fprintln(os.Stderr, "statuspage: Chromium is not installed; the status page test drives a real headless browser,"+
		" so it now runs apt-get update and apt-get install -y chromium as root (allowed by CI or "+installEnv+"=1)")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "--no-install-recommends", "chromium"},
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, lastLines(string(out), 20))
		}
	}
	if p := findChromium(); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("apt-get installed chromium, but no chromium executable is on PATH")
}

// requireChromium returns the path of a Chromium executable. When none is
// installed it installs Debian's package, if the test runs as root and CI
// (or FLUXGATE_INSTALL_CHROMIUM=1) is set; otherwise it skips the test,
// saying how to run it, except under CI, where it fails: CI must run it.
func requireChromium(t *testing.T) string {
	t.Helper()
	if p := findChromium(); p != "" {
		return p
	}
	ci := os.Getenv("CI") != "" && os.Getenv("CI") != "false"
	allowed := ci || os.Getenv(installEnv) == "1"
	if !allowed || os.Geteuid() != 0 {
		msg := "Chromium is not installed: install Debian's chromium package, or run the test as root with " + installEnv + "=1 to let it run apt-get install -y chromium"
		if ci {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	p, err := installOnce()
	if err != nil {
		t.Fatalf("Chromium is required and could not be installed: %v", err)
	}
	return p
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
