package breakerhttp

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestBodyWrapperFitsItsSizeClass pins the size of the Transport's one
// allocation per response with a body: 128 bytes (a heap size class) holds
// the wrapped body, the request, the status code and the breaker.Call.
func TestBodyWrapperFitsItsSizeClass(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(body{}), uintptr(128), "the body wrapper outgrew the 128-byte size class")
}
