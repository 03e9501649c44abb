package udpport

import (
	"net"
	"testing"
)

func TestBound(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if ok, err := Bound(port); err != nil || !ok {
		t.Fatalf("bound port %d: %v %v", port, ok, err)
	}
	c.Close()
	if ok, err := Bound(port); err != nil || ok {
		t.Fatalf("closed port %d: %v %v", port, ok, err)
	}
}
