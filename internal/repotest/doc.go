// Package repotest holds tests of the repository as a whole rather than of
// one package: the module graph that a program importing the library sees
// (consumer_test.go), and that nothing in the repository refers to a file
// that is not in it (references_test.go).
//
// It has no code of its own. Its tests run with the library module's
// "go test ./...", and so with the command that runs every module's tests
// (go run ./internal/cmd/testall). The consumer-module test runs the go
// command and is skipped with -short.
package repotest
