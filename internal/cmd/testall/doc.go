// Command testall runs the tests of every Go module in the repository: for
// each directory with a go.mod file (the library at the root, examples/,
// benchmarks/ and any module added later), it checks that go mod tidy would
// change nothing (go mod tidy -diff), then runs go vet ./... and
// go test -race ./... in that module; before that, gofmt -l checks that
// every Go file of the repository is formatted. It ends with a summary line.
//
// From the repository root:
//
//	go run ./internal/cmd/testall                 # every module
//	FLUXGATE_SKIP_E2E=1 go run ./internal/cmd/testall   # all but the slow e2e module
//
// Modules are found by their go.mod files, so a new module is tested
// without changing this program. Directories named testdata or vendor, and
// hidden ones, are not searched. Each module is tested on its own, as a user
// or a consumer of it would build it (GOWORK=off): a workspace would resolve
// one set of versions for all modules together and hide a module that is not
// tidy.
//
// Flags:
//
//	-race=false        run go test without the race detector
//	-staticcheck=PATH  also run that staticcheck binary in every module
//	-skip=a,b          skip the modules in these directories (relative to the root)
//	-list              print the modules that would be tested, and exit
//
// Each step is printed as it starts ("== (12/16) [e2e] go vet ./..."), a
// "still running" line follows at least every 30 seconds while it runs,
// and a line with its result and time when it ends. Before the first step
// of a module whose tests may install software (the e2e module installs
// Debian's prometheus package with apt-get when it is missing), a "note:"
// line says what and when; installs.go lists those modules.
//
// The environment variable FLUXGATE_SKIP_E2E=1 adds e2e to -skip. The
// command exits with status 1 if any step of any module failed; every step
// runs even after a failure, so one run reports everything.
package main
