package main

import (
	"strings"
)

// chromiumNames are the executables examples/statuspage's browser test
// looks for.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// prerequisiteNote returns what testall announces before the tests of
// module: the programs they install when missing. lookPath is
// exec.LookPath, or a stand-in in tests.
func prerequisiteNote(module string, lookPath func(string) (string, error)) string {
	if module != "examples" {
		return ""
	}
	for _, name := range chromiumNames {
		if _, err := lookPath(name); err == nil {
			return ""
		}
	}
	return strings.Join([]string{
		"note: examples/statuspage drives the status page in a real headless Chromium, which is not installed;",
		"note: its test runs apt-get update && apt-get install -y chromium when run as root with CI or",
		"note: FLUXGATE_INSTALL_CHROMIUM=1 set (it skips otherwise, and fails under CI if it cannot install it)",
	}, "\n")
}
