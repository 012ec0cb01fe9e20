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
}
