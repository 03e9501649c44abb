package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/dialtone-voice/dialtone/hostnames"
	"github.com/dialtone-voice/dialtone/tlsca"
)

// cmdCA prints the local CA certificate of a data directory.
func cmdCA(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("DIALTONE_DATA", "./data"), "data directory (env DIALTONE_DATA)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	pem, err := tlsca.ReadCert(tlsca.Dir(*data))
	if err != nil {
		return err
	}
	_, err = stdout.Write(pem)
	return err
}

// cmdHosts prints hosts-file lines for the Alibaba hostnames.
func cmdHosts(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hosts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	address := fs.String("address", "127.0.0.1", "the address Dialtone is reached at")
	accounts := fs.String("mns-accounts", hostnames.SampleMNSAccount, "comma-separated account ids of the MNS hostnames <id>.mns.<region>.aliyuncs.com (hosts files have no wildcards); the default is the id in Alibaba's Go receipt sample")
	names := fs.String("tls-names", envOr("DIALTONE_TLS_NAMES", ""), "extra names to list, as given to dialtone serve")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	ip := net.ParseIP(*address)
	if ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("hosts: --address %q: want an IP address such as 127.0.0.1", *address)
	}
	lines, err := hostnames.HostsLines(ip, list(*accounts), list(*names))
	if err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	fmt.Fprintf(stdout, "# Dialtone: Alibaba Cloud voice hostnames (dialtone hosts --address %s)\n%s\n", ip, strings.Join(lines, "\n"))
	return nil
}
