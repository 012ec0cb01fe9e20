//go:build !unix

package breaker_test

import "time"

// cpuTime returns 0: the process CPU time is read only on unix.
func cpuTime() time.Duration { return 0 }
