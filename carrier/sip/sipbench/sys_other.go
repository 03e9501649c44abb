//go:build !linux

package sipbench

import (
	"errors"
	"net"
	"time"
)

// errNeedsLinux: CPU accounting and kernel send stamps are read with
// Linux system calls; elsewhere the SIP measurements report this instead
// of figures that would mean nothing.
var errNeedsLinux = errors.New("the SIP benchmarks need Linux (getrusage, SO_TIMESTAMPNS)")

func processCPU() (time.Duration, error) { return 0, errNeedsLinux }

func enableStamps(*net.UDPConn) error { return errNeedsLinux }

func kernelStamp([]byte) (int64, bool) { return 0, false }
