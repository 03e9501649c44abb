package certs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/dialtone-voice/dialtone"
)

// Timings of StoreStorage's locks: a holder extends its lock every
// lockRefresh, so a lock is stale lockTTL after its node stopped (crashed,
// or lost the database) and another node takes it over; a waiter looks
// again every lockPoll. certmagic's file storage uses the same scale.
const (
	defaultLockTTL  = 15 * time.Second
	defaultLockPoll = time.Second
)

// StoreStorage is a certmagic.Storage in the Dialtone store
// (dialtone.CertStore): every node of a cluster on one PostgreSQL database
// shares the ACME account, the certificates and their keys and the
// challenge tokens, and one node obtains a certificate while the others
// wait on its lock. Keys are certmagic's slash-separated paths.
type StoreStorage struct {
	store dialtone.CertStore
	log   *slog.Logger
	ttl   time.Duration
	poll  time.Duration
	now   func() time.Time

	mu   sync.Mutex
	held map[string]*heldLock
}

type heldLock struct {
	owner string
	stop  chan struct{}
	done  chan struct{}
}

var _ certmagic.Storage = (*StoreStorage)(nil)

// NewStoreStorage returns the storage over st.
func NewStoreStorage(st dialtone.CertStore, log *slog.Logger) *StoreStorage {
	if log == nil {
		log = slog.Default()
	}
	return &StoreStorage{store: st, log: log, ttl: defaultLockTTL, poll: defaultLockPoll, now: time.Now, held: map[string]*heldLock{}}
}

// String names the storage in certmagic's logs.
func (s *StoreStorage) String() string { return "dialtone store" }

func clean(key string) string { return strings.Trim(key, "/") }

// notExist makes a missing key what certmagic looks for (fs.ErrNotExist).
func notExist(key string, err error) error {
	if errors.Is(err, dialtone.ErrNotFound) {
		return fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return err
}

// Store implements certmagic.Storage.
func (s *StoreStorage) Store(ctx context.Context, key string, value []byte) error {
	return s.store.PutCertFile(ctx, &dialtone.CertFile{Key: clean(key), Value: value, Modified: s.now()})
}

// Load implements certmagic.Storage; a missing key is fs.ErrNotExist.
func (s *StoreStorage) Load(ctx context.Context, key string) ([]byte, error) {
	f, err := s.store.GetCertFile(ctx, clean(key))
	if err != nil {
		return nil, notExist(key, err)
	}
	return f.Value, nil
}

// Delete implements certmagic.Storage: the key and everything under it.
func (s *StoreStorage) Delete(ctx context.Context, key string) error {
	return s.store.DeleteCertFiles(ctx, clean(key))
}

// Exists implements certmagic.Storage: a file, or a directory (a prefix
// of files).
func (s *StoreStorage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// List implements certmagic.Storage. Directories are implied by the keys
// below them: without recursive, the files and directories directly under
// path; with it, every file and directory below it.
func (s *StoreStorage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	prefix := clean(path)
	files, err := s.store.ListCertFiles(ctx, prefix)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		if _, err := s.store.GetCertFile(ctx, prefix); err == nil || prefix == "" {
			return []string{}, nil // a file, or the empty root, lists nothing
		}
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	base := prefix
	if base != "" {
		base += "/"
	}
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, f := range files {
		parts := strings.Split(strings.TrimPrefix(f.Key, base), "/")
		if !recursive {
			add(base + parts[0])
			continue
		}
		for i := range parts {
			add(base + strings.Join(parts[:i+1], "/"))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Stat implements certmagic.Storage; a missing key is fs.ErrNotExist. A
// directory's time is that of its newest file.
func (s *StoreStorage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	k := clean(key)
	f, err := s.store.GetCertFile(ctx, k)
	if err == nil {
		return certmagic.KeyInfo{Key: k, Modified: f.Modified, Size: f.Size, IsTerminal: true}, nil
	}
	if !errors.Is(err, dialtone.ErrNotFound) {
		return certmagic.KeyInfo{}, err
	}
	files, err := s.store.ListCertFiles(ctx, k)
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if len(files) == 0 {
		return certmagic.KeyInfo{}, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	info := certmagic.KeyInfo{Key: k}
	for _, f := range files {
		if f.Modified.After(info.Modified) {
			info.Modified = f.Modified
		}
	}
	return info, nil
}

// Lock implements certmagic.Locker: it waits until the lock is free or
// stale (its holder stopped extending it), honouring ctx, then holds it,
// extending it in the background until Unlock.
func (s *StoreStorage) Lock(ctx context.Context, name string) error {
	owner, err := newOwner()
	if err != nil {
		return err
	}
	for {
		now := s.now()
		ok, err := s.store.LockCert(ctx, name, owner, now, now.Add(s.ttl))
		if err != nil {
			return fmt.Errorf("lock %s: %w", name, err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.poll):
		}
	}
	h := &heldLock{owner: owner, stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.held[name] = h
	s.mu.Unlock()
	go s.keepFresh(name, h)
	return nil
}

// keepFresh extends a held lock until it is released.
func (s *StoreStorage) keepFresh(name string, h *heldLock) {
	defer close(h.done)
	t := time.NewTicker(s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.ttl/3)
		now := s.now()
		ok, err := s.store.LockCert(ctx, name, h.owner, now, now.Add(s.ttl))
		cancel()
		switch {
		case err != nil:
			s.log.Warn("cannot extend a certificate lock", "lock", name, "err", err)
		case !ok:
			// Stale for too long: another node took it over.
			s.log.Warn("a certificate lock was taken over by another node", "lock", name)
			return
		}
	}
}

// Unlock implements certmagic.Locker.
func (s *StoreStorage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h, ok := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("unlock %s: not locked here", name)
	}
	close(h.stop)
	<-h.done
	if err := s.store.UnlockCert(ctx, name, h.owner); err != nil {
		return fmt.Errorf("unlock %s: %w", name, err)
	}
	return nil
}

func newOwner() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lock owner: %w", err)
	}
	return hex.EncodeToString(b), nil
}
