package dialtone

import (
	"context"
	"time"
)

// CertFile is one file of the HTTPS certificate manager (package certs):
// an ACME account, a certificate, its key or metadata, a challenge token.
// Keys are slash-separated paths ("certificates/ca/name/name.crt").
type CertFile struct {
	Key   string
	Value []byte
	// Size is the length of Value; a store sets it when it reads a file,
	// also where it leaves Value out (ListCertFiles).
	Size     int64
	Modified time.Time
}

// CertStore keeps the certificate manager's files and locks in the store,
// so that every node of a cluster shares the ACME account and the
// certificates, and one node obtains a certificate while the others wait
// for it.
type CertStore interface {
	// PutCertFile creates or replaces the file f.Key.
	PutCertFile(ctx context.Context, f *CertFile) error
	// GetCertFile returns ErrNotFound for an unknown key.
	GetCertFile(ctx context.Context, key string) (*CertFile, error)
	// DeleteCertFiles deletes the file key and every file under key+"/";
	// deleting nothing is not an error.
	DeleteCertFiles(ctx context.Context, key string) error
	// ListCertFiles returns the files under prefix+"/" (every key when
	// prefix is ""), ordered by key, without their values.
	ListCertFiles(ctx context.Context, prefix string) ([]CertFile, error)
	// LockCert takes the lock name for owner until expires and reports
	// true when the lock was free, had expired at now, or was owner's
	// already (which extends it); otherwise it reports false and changes
	// nothing. Two owners never hold one lock, on any node.
	LockCert(ctx context.Context, name, owner string, now, expires time.Time) (bool, error)
	// UnlockCert releases owner's lock; a lock that is not owner's (it
	// expired and another owner took it) is left alone.
	UnlockCert(ctx context.Context, name, owner string) error
}
