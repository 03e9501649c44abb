package sipbench

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestSippCallsRTP: SIPp's caller with media places every call, and each
// sends 20 ms PCMU packets between its ACK and its BYE (about five in the
// 100 ms a call is held), received by an answerer of our own.
func TestSippCallsRTP(t *testing.T) {
	if !SippInstalled() {
		t.Skip(ErrNoSipp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	media, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	var packets, bad atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := media.ReadFrom(buf)
			if err != nil {
				return
			}
			// RTP version 2, payload type 0 (PCMU), 160 bytes of audio.
			if n == 12+160 && buf[0]>>6 == 2 && buf[1]&0x7f == 0 {
				packets.Add(1)
			} else {
				bad.Add(1)
			}
		}
	}()
	far, err := newSIPFarEnd("bench-uas")
	if err != nil {
		t.Fatal(err)
	}
	defer far.close()
	port := media.LocalAddr().(*net.UDPAddr).Port
	far.serve(ctx, func(*sipmsg.Request) (int, func() func(), bool) { return port, nil, true })

	const calls = 10
	res, err := SippCallsRTP(ctx, t.TempDir(), far.addr, 50, calls)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != calls || res.Failed != 0 {
		t.Fatalf("%d calls ok, %d failed; want %d ok", res.OK, res.Failed, calls)
	}
	if res.CPU <= 0 {
		t.Errorf("caller CPU %v, want the SIPp process's", res.CPU)
	}
	// Packets may still be on their way when SIPp exits.
	deadline := time.Now().Add(2 * time.Second)
	for packets.Load() < 3*calls && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := packets.Load(); n < 3*calls || n > 10*calls {
		t.Errorf("%d PCMU packets for %d calls held 100 ms, want about 5 per call", n, calls)
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("%d datagrams that are not 20 ms PCMU packets", n)
	}
}
