package main

// installs lists, by module directory, what the tests of a module may
// install on the machine, and when. testall prints it as a note before the
// module's first step, so that nothing is installed unannounced; the test
// that installs must also print what it installs, and why, right before it
// runs the installer. A module whose tests start installing something adds
// its entry here.
var installs = map[string]string{
	"e2e": "the e2e module installs Debian's prometheus package (Prometheus and promtool) with apt-get, " +
		"as root, if prometheus or promtool is not on PATH; FLUXGATE_SKIP_E2E=1 leaves the module out",
	"examples": "examples/statuspage's test drives the status page in a real headless Chromium, and installs " +
		"Debian's chromium package with apt-get if no chromium is on PATH, when it runs as root with CI or " +
		"FLUXGATE_INSTALL_CHROMIUM=1 set (it skips otherwise, and fails under CI if it cannot install it)",
}
