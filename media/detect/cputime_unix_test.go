//go:build unix

package detect_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time (user and system): the detector's
// cost on a machine shared with other work, where wall time is not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
