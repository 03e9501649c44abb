package sipbench

import (
	"bytes"
	"encoding/binary"
	"syscall"
	"testing"
)

// cmsg builds one control message as the kernel lays it out: header,
// data, padding to the alignment.
func cmsg(t *testing.T, level, typ int32, data []byte) []byte {
	t.Helper()
	var h syscall.Cmsghdr
	h.Level, h.Type = level, typ
	h.SetLen(syscall.CmsgLen(len(data)))
	var b bytes.Buffer
	if err := binary.Write(&b, binary.NativeEndian, h); err != nil {
		t.Fatal(err)
	}
	b.Write(make([]byte, syscall.CmsgLen(0)-b.Len()))
	b.Write(data)
	b.Write(make([]byte, syscall.CmsgSpace(len(data))-b.Len()))
	return b.Bytes()
}

func timespec(t *testing.T, sec, nsec int64) []byte {
	t.Helper()
	ts := syscall.NsecToTimespec(sec*1e9 + nsec)
	var b bytes.Buffer
	if err := binary.Write(&b, binary.NativeEndian, ts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestKernelStamp(t *testing.T) {
	const sec, nsec = 1795578899, 739451123
	stamp := cmsg(t, syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, timespec(t, sec, nsec))
	if got, ok := kernelStamp(stamp); !ok || got != sec*1e9+nsec {
		t.Errorf("kernelStamp = %d, %v; want %d", got, ok, int64(sec*1e9+nsec))
	}
	// Behind another control message (the TTL of IP_RECVTTL).
	other := cmsg(t, syscall.IPPROTO_IP, syscall.IP_TTL, []byte{64, 0, 0, 0})
	if got, ok := kernelStamp(append(other, stamp...)); !ok || got != sec*1e9+nsec {
		t.Errorf("kernelStamp after another message = %d, %v", got, ok)
	}
	// No stamp, a truncated one, nothing at all.
	for name, oob := range map[string][]byte{
		"other only": other,
		"truncated":  stamp[:len(stamp)-4],
		"empty":      nil,
		"wrong type": cmsg(t, syscall.SOL_SOCKET, syscall.SCM_TIMESTAMP, timespec(t, sec, nsec)),
	} {
		if got, ok := kernelStamp(oob); ok {
			t.Errorf("%s: kernelStamp = %d, true; want no stamp", name, got)
		}
	}
}
