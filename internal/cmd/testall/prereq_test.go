package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrerequisiteNote(t *testing.T) {
	missing := func(string) (string, error) { return "", errors.New("not found") }
	found := func(name string) (string, error) {
		if name == "chromium" {
			return "/usr/bin/chromium", nil
		}
		return "", errors.New("not found")
	}
	assert.Contains(t, prerequisiteNote("examples", missing), "apt-get install -y chromium")
	assert.Empty(t, prerequisiteNote("examples", found), "nothing to install")
	assert.Empty(t, prerequisiteNote(".", missing), "the library's tests need no browser")
	assert.Empty(t, prerequisiteNote("e2e", missing))
}
