package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/tlsca"
)

// benchHTTPS measures signed requests per second over the node's HTTPS
// listener (local CA, the name dyvmsapi.aliyuncs.com) and over its plain
// listener, one after the other in the same run, with the same client
// settings: HTTP/1.1 keep-alive and, over HTTPS, TLS sessions resumed from
// a session cache. It returns both rates and the handshakes seen.
func benchHTTPS(ctx context.Context, n *benchNode, d time.Duration) (https, plain float64, full, resumed int64, err error) {
	if n.httpsAddr == "" {
		return 0, 0, 0, 0, errors.New("the node has no HTTPS listener")
	}
	caPEM, err := os.ReadFile(filepath.Join(tlsca.Dir(n.data), tlsca.CertFile))
	if err != nil {
		return 0, 0, 0, 0, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	var fullN, resumedN atomic.Int64
	client := func(addr string) *http.Client {
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			// Every connection goes to the node, as a hosts-file line would send it.
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: roots, ClientSessionCache: tls.NewLRUClientSessionCache(256),
				VerifyConnection: func(cs tls.ConnectionState) error {
					if cs.DidResume {
						resumedN.Add(1)
					} else {
						fullN.Add(1)
					}
					return nil
				}},
		}}
	}
	newClient := func(endpoint, addr string) (*sdk.Client, error) {
		return sdk.New(sdk.Config{AccessKeyID: benchKeyID, AccessKeySecret: benchSecret, Endpoint: endpoint,
			HTTPClient: client(addr), MaxRetries: -1})
	}
	pc, err := newClient("http://dyvmsapi.aliyuncs.com", n.addr)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	sc, err := newClient("https://dyvmsapi.aliyuncs.com", n.httpsAddr)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if plain, err = measureSigned(ctx, pc, d); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("plain HTTP: %w", err)
	}
	if https, err = measureSigned(ctx, sc, d); err != nil {
		return 0, plain, 0, 0, fmt.Errorf("HTTPS: %w", err)
	}
	return https, plain, fullN.Load(), resumedN.Load(), nil
}
