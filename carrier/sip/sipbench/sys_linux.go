//go:build linux

package sipbench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"syscall"
	"time"
)

// processCPU is the user+system CPU this process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// enableStamps asks the kernel to stamp every datagram c receives
// (SO_TIMESTAMPNS). On loopback the stamp is taken inside the sender's
// sendto, so it is the send time whatever the receiver's scheduling.
func enableStamps(c *net.UDPConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", serr)
	}
	return nil
}

// kernelStamp returns the SCM_TIMESTAMPNS stamp (ns since the epoch) of
// the control messages oob. The standard library parses the headers, so
// the layout is right on 32- and 64-bit kernels alike.
func kernelStamp(oob []byte) (int64, bool) {
	// The usual case read in place, without the allocations of the
	// general parse: one SCM_TIMESTAMPNS on a 64-bit kernel (a 16-byte
	// header, then two 64-bit fields).
	if syscall.SizeofCmsghdr == 16 && len(oob) >= 32 {
		l := binary.NativeEndian.Uint64(oob)
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if l == 32 && level == syscall.SOL_SOCKET && typ == syscall.SCM_TIMESTAMPNS {
			sec := int64(binary.NativeEndian.Uint64(oob[16:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[24:]))
			return sec*1e9 + nsec, true
		}
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS {
			continue
		}
		var ts syscall.Timespec
		if err := binary.Read(bytes.NewReader(m.Data), binary.NativeEndian, &ts); err != nil {
			return 0, false
		}
		return ts.Nano(), true
	}
	return 0, false
}
