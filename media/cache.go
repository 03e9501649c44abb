package media

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/dialtone-voice/dialtone"
)

// DefaultCacheBytes is a sensible CachedSpeaker size: about 70 minutes of
// 8 kHz audio, far more than the distinct prompts of a busy deployment.
const DefaultCacheBytes = 64 << 20

// CachedSpeaker puts an LRU cache in front of a Speaker. Prompts repeat
// (one template, the same text for thousands of callees), so most
// syntheses are hits. It is safe for concurrent use, and concurrent misses
// for the same request share one synthesis.
type CachedSpeaker struct {
	next     dialtone.Speaker
	maxBytes int64
	// shared hands out the cache's own audio instead of copies
	// (NewSharedCachedSpeaker).
	shared bool

	mu      sync.Mutex
	lru     list.List // of *cacheEntry, most recently used first
	items   map[cacheKey]*list.Element
	size    int64
	flights map[cacheKey]*flight
	stats   CacheStats
}

// CacheStats counts a CachedSpeaker's work.
type CacheStats struct {
	Hits, Misses int64 // Misses counts syntheses started
	Shared       int64 // requests that joined a synthesis already running
	Entries      int
	Bytes        int64
}

type cacheKey struct {
	text, voice   string
	speed, volume int
}

type cacheEntry struct {
	key   cacheKey
	audio *dialtone.Audio
	size  int64
}

// flight is one synthesis in progress, shared by every request for its
// key. It runs under its own context, cancelled only when every waiting
// request has given up: one impatient caller must not fail the others.
type flight struct {
	done    chan struct{}
	audio   *dialtone.Audio
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewCachedSpeaker caches next's audio up to maxBytes of samples
// (DefaultCacheBytes if maxBytes <= 0).
func NewCachedSpeaker(next dialtone.Speaker, maxBytes int64) *CachedSpeaker {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &CachedSpeaker{
		next:     next,
		maxBytes: maxBytes,
		items:    make(map[cacheKey]*list.Element),
		flights:  make(map[cacheKey]*flight),
	}
}

// NewSharedCachedSpeaker is NewCachedSpeaker for callers that never change
// the audio they get (the engine's renderer: volume is part of the request,
// applied by the synthesiser): Speak hands out the cache's own audio, so
// that one prompt played on 50,000 live calls is held once, not 50,000
// times.
func NewSharedCachedSpeaker(next dialtone.Speaker, maxBytes int64) *CachedSpeaker {
	c := NewCachedSpeaker(next, maxBytes)
	c.shared = true
	return c
}

// handOut is what Speak returns of the cache's audio a.
func (c *CachedSpeaker) handOut(a *dialtone.Audio) *dialtone.Audio {
	if c.shared {
		return a
	}
	return copyAudio(a)
}

// Speak returns the cached audio for the request or synthesises it. The
// result is the caller's own copy (ApplyVolume on it cannot corrupt the
// cache), except for a shared cache (NewSharedCachedSpeaker), whose
// callers must treat it as read-only. Errors are not cached.
func (c *CachedSpeaker) Speak(ctx context.Context, text, voice string, speed, volume int) (*dialtone.Audio, error) {
	k := cacheKey{text: text, voice: voice, speed: speed, volume: volume}
	c.mu.Lock()
	if el, ok := c.items[k]; ok {
		c.lru.MoveToFront(el)
		c.stats.Hits++
		a := el.Value.(*cacheEntry).audio
		c.mu.Unlock()
		return c.handOut(a), nil
	}
	f, ok := c.flights[k]
	if ok {
		f.waiters++
		c.stats.Shared++
	} else {
		// The synthesis keeps ctx's values (trace IDs) but not its
		// cancellation, which belongs to the waiters collectively.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
		c.flights[k] = f
		c.stats.Misses++
		go c.synthesise(fctx, k, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return c.handOut(f.audio), nil
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 && c.flights[k] == f {
			// Nobody wants it any more: stop the engine, and let the next
			// request start afresh rather than join a dying flight.
			delete(c.flights, k)
			f.cancel()
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("tts: %w", ctx.Err())
	}
}

func (c *CachedSpeaker) synthesise(ctx context.Context, k cacheKey, f *flight) {
	defer f.cancel()
	a, err := c.next.Speak(ctx, k.text, k.voice, k.speed, k.volume)
	if err == nil && a == nil {
		err = fmt.Errorf("tts: speaker returned no audio")
	}
	if err == nil {
		a = copyAudio(a) // the cache's own copy, whatever next does with its
	}
	c.mu.Lock()
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	if err == nil {
		c.add(k, a)
	}
	c.mu.Unlock()
	f.audio, f.err = a, err
	close(f.done)
}

// add inserts an entry and evicts the least recently used ones beyond the
// budget; c.mu is held.
func (c *CachedSpeaker) add(k cacheKey, a *dialtone.Audio) {
	if _, ok := c.items[k]; ok {
		return // an abandoned flight finished after its replacement
	}
	// Samples dominate; the strings are counted so that many tiny entries
	// cannot exceed the budget unnoticed.
	size := int64(2*len(a.Samples) + len(k.text) + len(k.voice) + 128)
	if a.Label != k.text { // usually the same string, stored once
		size += int64(len(a.Label))
	}
	if size > c.maxBytes {
		return
	}
	c.items[k] = c.lru.PushFront(&cacheEntry{key: k, audio: a, size: size})
	c.size += size
	for c.size > c.maxBytes {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.items, e.key)
		c.size -= e.size
	}
}

// Stats reports hits, misses and the cache's current size.
func (c *CachedSpeaker) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.items)
	s.Bytes = c.size
	return s
}

func copyAudio(a *dialtone.Audio) *dialtone.Audio {
	return &dialtone.Audio{Samples: append([]int16{}, a.Samples...), Label: a.Label}
}
