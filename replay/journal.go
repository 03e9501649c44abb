// Package replay keeps the nonces of signed requests for a single SQLite
// node in an append-only journal file and a set in memory, in place of a
// row per nonce in the database.
//
// Why not the database: every signed request records its nonce before its
// action runs, and on SQLite that record was a transaction of its own
// (BEGIN, an upsert into a B-tree and its index, COMMIT appending whole
// 4 KiB pages to the WAL): about 40% of a gateway request's server-side
// CPU. A nonce needs far less: a membership test and 32 bytes appended.
// No library fits: an embedded key-value store (bbolt, pebble) would again
// write pages per request, and the set must be shared by every process
// that opens the same database file, as the table was.
//
// The guarantees are the table's:
//
//   - a nonce is accepted only when no record of it (scope, nonce) is
//     unexpired at the request's now (expires > now);
//   - accepted means recorded: Use returns true only after the record's
//     write(2) returned, so it survives a SIGKILL of the process the moment
//     after (the page cache holds it; like SQLite's synchronous=NORMAL, only
//     a power loss can drop the last records);
//   - exactly once across processes: every check-and-append runs under an
//     exclusive flock(2) of the journal's lock file, after reading what
//     other processes appended since (test: two journals on one file).
//
// The file: a 32-byte header, then records of 32 bytes (a 16-byte key, the
// expiry in Unix milliseconds, a CRC-32 of both, 4 zero bytes), so that a
// record never straddles a page and a torn tail is recognised by its
// length and cut at open. Keys are the first 16 bytes of SHA-256 over the
// length-prefixed scope and the nonce: fixed-size records and a compact set
// (about 55 bytes per live nonce), and a collision needs 2^64 work, and
// would only refuse a request.
//
// Expired records are dropped from memory by Purge (whole minutes at a
// time); the file is rewritten with only the live records when it has
// grown to several times their size (Purge, under the lock; the new file
// replaces the old by rename, and other processes see the new inode and
// reload it).
package replay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

const (
	recordSize = 32
	headerSize = 32
	// compactMin is the file size below which Purge never rewrites it.
	compactMin = 1 << 20
)

// header opens every journal file; anything else is refused, not rewritten.
var header = func() []byte {
	h := make([]byte, headerSize)
	copy(h, "dialtone nonce journal v1\n")
	return h
}()

type key [16]byte

func keyOf(scope, nonce string) key {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(scope)))])
	h.Write([]byte(scope))
	h.Write([]byte(nonce))
	var k key
	copy(k[:], h.Sum(nil))
	return k
}

// Journal is the set of used nonces of one database file. It is safe for
// concurrent use, and several Journals (in one process or several) on the
// same path see each other's nonces.
type Journal struct {
	path string
	lock *os.File // flock(2) target; never renamed

	mu     sync.Mutex
	f      *os.File // the journal, opened O_APPEND
	ino    uint64   // f's inode: another one at path means the file was rewritten
	off    int64    // bytes of f applied to the set
	set    nonceSet
	closed bool
}

// Seed lists nonces to start a new journal with (the rows of the table it
// replaces): it calls add for each.
type Seed func(ctx context.Context, add func(scope, nonce string, expires time.Time)) error

// Open opens the journal at path, creating it (with seed's nonces, if seed
// is not nil) when it does not exist. path+".lock" is its lock file.
func Open(ctx context.Context, path string, seed Seed) (*Journal, error) {
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("nonce journal: %w", err)
	}
	j := &Journal{path: path, lock: lock, set: newNonceSet()}
	if err := j.flock(); err != nil {
		lock.Close()
		return nil, err
	}
	err = j.create(ctx, seed)
	if err == nil {
		err = j.reload(time.Now())
	}
	if uerr := j.funlock(); err == nil {
		err = uerr
	}
	if err != nil {
		if j.f != nil {
			j.f.Close()
		}
		lock.Close()
		return nil, err
	}
	return j, nil
}

// create writes a new journal holding seed's nonces, unless one exists. It
// is written aside and renamed into place, so a crash never leaves a
// journal without its header. Called under the lock.
func (j *Journal) create(ctx context.Context, seed Seed) error {
	if _, err := os.Stat(j.path); err == nil || !errors.Is(err, os.ErrNotExist) {
		if err != nil {
			return fmt.Errorf("nonce journal: %w", err)
		}
		return nil
	}
	var buf bytes.Buffer
	buf.Write(header)
	if seed != nil {
		now := time.Now().UnixMilli()
		err := seed(ctx, func(scope, nonce string, expires time.Time) {
			if ms := expires.UnixMilli(); ms > now {
				buf.Write(encode(keyOf(scope, nonce), ms))
			}
		})
		if err != nil {
			return fmt.Errorf("nonce journal: seed: %w", err)
		}
	}
	return j.replace(buf.Bytes())
}

// replace writes data as the new journal file: aside, synced, renamed.
func (j *Journal) replace(data []byte) error {
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("nonce journal: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("nonce journal: write %s: %w", j.path, err)
	}
	return nil
}

// reload reads the whole journal into a new set (records expired at now
// left out). Called under the lock.
func (j *Journal) reload(now time.Time) error {
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("nonce journal: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		return fmt.Errorf("nonce journal %s: %w", j.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fail(err)
	}
	if len(data) < headerSize || !bytes.Equal(data[:headerSize], header) {
		return fail(errors.New("not a nonce journal (header)"))
	}
	whole := headerSize + (len(data)-headerSize)/recordSize*recordSize
	if whole < len(data) {
		// A record cut by a crash mid-write: never acknowledged, and
		// records appended after it would be read out of step.
		if err := f.Truncate(int64(whole)); err != nil {
			return fail(err)
		}
	}
	set := newNonceSet()
	set.apply(data[headerSize:whole], now.UnixMilli())
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.ino, j.off, j.set = f, inode(st), int64(whole), set
	return nil
}

// catchUp applies what other processes appended since this journal last
// looked, or reloads the file when another process rewrote it. Called
// under the lock.
func (j *Journal) catchUp(now time.Time) error {
	st, err := os.Stat(j.path)
	if errors.Is(err, os.ErrNotExist) {
		// Removed from under the node (by hand): written again from
		// the set, so that the nonces it held stay used.
		if err := j.rewrite(now); err != nil {
			return err
		}
		st, err = os.Stat(j.path)
	}
	if err != nil {
		return fmt.Errorf("nonce journal: %w", err)
	}
	if inode(st) != j.ino || st.Size() < j.off {
		return j.reload(now)
	}
	n := (st.Size() - j.off) / recordSize * recordSize
	if n == 0 {
		return nil
	}
	buf := make([]byte, n)
	if _, err := j.f.ReadAt(buf, j.off); err != nil {
		return fmt.Errorf("nonce journal: read: %w", err)
	}
	j.set.apply(buf, 0)
	j.off += n
	return nil
}

// Use records nonce under scope until expires and reports true, or reports
// false when an unexpired record exists (expires > now).
func (j *Journal) Use(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("nonce journal: %w", err)
	}
	k := keyOf(scope, nonce)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return false, errors.New("nonce journal: closed")
	}
	if err := j.flock(); err != nil {
		return false, err
	}
	fresh, err := j.use(k, now.UnixMilli(), expires.UnixMilli())
	if uerr := j.funlock(); err == nil {
		err = uerr
	}
	return fresh, err
}

func (j *Journal) use(k key, now, expires int64) (bool, error) {
	if err := j.catchUp(time.UnixMilli(now)); err != nil {
		return false, err
	}
	if j.set.has(k, now) {
		return false, nil
	}
	n, err := j.f.Write(encode(k, expires))
	if err != nil || n != recordSize {
		// Cut what was written, so the next record starts in step.
		_ = j.f.Truncate(j.off)
		if err == nil {
			err = io.ErrShortWrite
		}
		return false, fmt.Errorf("nonce journal: append: %w", err)
	}
	j.off += recordSize
	j.set.add(k, expires)
	return true, nil
}

// Purge forgets the nonces expired at now and returns how many, and
// rewrites the file with the live ones when it has grown to four times
// their size (and at least compactMin).
func (j *Journal) Purge(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("nonce journal: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, errors.New("nonce journal: closed")
	}
	n := j.set.purge(now.UnixMilli())
	if j.off < compactMin || j.off < 4*(headerSize+int64(j.set.live)*recordSize) {
		return n, nil
	}
	if err := j.flock(); err != nil {
		return n, err
	}
	err := j.compact(now)
	if uerr := j.funlock(); err == nil {
		err = uerr
	}
	return n, err
}

// compact rewrites the journal with the records live at now. Called under
// the lock, so no other process appends meanwhile.
func (j *Journal) compact(now time.Time) error {
	if err := j.catchUp(now); err != nil {
		return err
	}
	if err := j.rewrite(now); err != nil {
		return err
	}
	return j.reload(now)
}

// rewrite replaces the file with the set's records live at now. Called
// under the lock.
func (j *Journal) rewrite(now time.Time) error {
	ms := now.UnixMilli()
	buf := bytes.NewBuffer(make([]byte, 0, headerSize+j.set.live*recordSize))
	buf.Write(header)
	j.set.each(func(k key, expires int64) {
		if expires > ms {
			buf.Write(encode(k, expires))
		}
	})
	return j.replace(buf.Bytes())
}

// Close closes the journal's files; Use and Purge fail after it.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	return errors.Join(j.f.Close(), j.lock.Close())
}

func (j *Journal) flock() error {
	for {
		err := syscall.Flock(int(j.lock.Fd()), syscall.LOCK_EX)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("nonce journal: lock: %w", err)
		}
	}
}

func (j *Journal) funlock() error {
	if err := syscall.Flock(int(j.lock.Fd()), syscall.LOCK_UN); err != nil {
		return fmt.Errorf("nonce journal: unlock: %w", err)
	}
	return nil
}

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

func encode(k key, expires int64) []byte {
	rec := make([]byte, recordSize)
	copy(rec, k[:])
	binary.LittleEndian.PutUint64(rec[16:], uint64(expires))
	binary.LittleEndian.PutUint32(rec[24:], crc32.ChecksumIEEE(rec[:24]))
	return rec
}

// decode reads one record; ok is false when its checksum does not match
// (a record damaged by a power loss), which is then skipped.
func decode(rec []byte) (k key, expires int64, ok bool) {
	if binary.LittleEndian.Uint32(rec[24:]) != crc32.ChecksumIEEE(rec[:24]) {
		return k, 0, false
	}
	copy(k[:], rec[:16])
	return k, int64(binary.LittleEndian.Uint64(rec[16:])), true
}
