// Package dialtone holds the domain of the Dialtone voice platform: accounts,
// access keys, calls and their events, and the interfaces (Store, Sealer,
// Clock) that the adapter packages implement. It imports nothing but the
// standard library, so every adapter can depend on it and it on none of them.
package dialtone
