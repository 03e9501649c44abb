package certs

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// fileCheckEvery is how often, at most, the files are looked at again
// (during handshakes).
const fileCheckEvery = time.Second

// fileSource serves the certificate of two PEM files and re-reads them when
// their size or modification time changes. A pair that does not load (for
// instance the certificate replaced before the key) keeps the previous
// certificate in service and is tried again at the next change.
type fileSource struct {
	certPath, keyPath string
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	seen      [2]fileStamp // of the pair last tried
	lastCheck time.Time
}

type fileStamp struct {
	size int64
	mod  time.Time
}

func stamp(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{st.Size(), st.ModTime()}, nil
}

func newFileSource(certPath, keyPath string, log *slog.Logger) (*fileSource, error) {
	f := &fileSource{certPath: certPath, keyPath: keyPath, log: log}
	cs, err := stamp(certPath)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	ks, err := stamp(keyPath)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s / --tls-key %s: %w", certPath, keyPath, err)
	}
	f.cert, f.seen, f.lastCheck = &c, [2]fileStamp{cs, ks}, time.Now()
	return f, nil
}

// GetCertificate is a tls.Config.GetCertificate.
func (f *fileSource) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); now.Sub(f.lastCheck) >= fileCheckEvery {
		f.lastCheck = now
		f.reloadLocked()
	}
	return f.cert, nil
}

func (f *fileSource) reloadLocked() {
	cs, err1 := stamp(f.certPath)
	ks, err2 := stamp(f.keyPath)
	if err1 != nil || err2 != nil {
		return // being replaced; the next check sees the new files
	}
	now := [2]fileStamp{cs, ks}
	if now == f.seen {
		return
	}
	f.seen = now
	c, err := tls.LoadX509KeyPair(f.certPath, f.keyPath)
	if err != nil {
		f.log.Warn("TLS certificate files changed but do not load; the previous certificate stays in service",
			"cert", f.certPath, "key", f.keyPath, "err", err)
		return
	}
	f.cert = &c
	f.log.Info("TLS certificate reloaded", "cert", f.certPath, "not_after", c.Leaf.NotAfter)
}
