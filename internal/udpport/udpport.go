// Package udpport tells whether a local UDP port is bound, without binding
// it. Tests and benchmarks wait for a SIPp child to take its port; probing
// by binding the port ourselves races with the child's own bind, which
// then fails and SIPp exits (status 254).
package udpport

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Bound reports whether some socket is bound to UDP port (IPv4 or IPv6,
// any address). It reads the kernel's socket tables (Linux).
func Bound(port int) (bool, error) {
	found := false
	for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		ok, err := inTable(table, port)
		if err != nil && !os.IsNotExist(err) {
			return false, err
		}
		found = found || ok
	}
	return found, nil
}

// inTable scans one table: after a header line, each line's second field
// is local_address as hex "ADDR:PORT".
func inTable(path string, port int) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		_, hex, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hex, 16, 16)
		if err == nil && int(p) == port {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("udpport: %s: %w", path, err)
	}
	return false, nil
}
