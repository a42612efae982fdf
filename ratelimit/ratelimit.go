// Package ratelimit counts events per key for rate limits: Rate is a
// limit, Limiter the counter behind it, and Memory a Limiter for one
// process. Package recovery limits reset and confirmation requests with
// it; adapters/redisstore has a Limiter shared by every instance of an
// application; conformance.TestLimiter checks any Limiter.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Rate is a rate limit: at most Count events in any window of length Per.
// A Count below zero means no limit; the zero Rate means "use the
// default" where a default exists.
type Rate struct {
	Count int
	Per   time.Duration
}

// unlimited reports a rate that never refuses.
func (r Rate) unlimited() bool { return r.Count < 0 }

// Limiter counts events per key for rate limits. Allow records one event
// under key at now and reports whether the events recorded under key in
// the window (now-rate.Per, now], this one included, number at most
// rate.Count; a refused event is not recorded. Implementations are safe
// for concurrent use, honour ctx, and count with the now they are given
// (conformance.TestLimiter checks the contract). A limiter shared by
// several application instances (in Redis, say) makes the limits hold
// across them; Memory counts in one process.
type Limiter interface {
	Allow(ctx context.Context, key string, rate Rate, now time.Time) (bool, error)
}

// Memory is a Limiter that keeps, per key, the times of the events
// in the current window. Keys whose events have all left their window are
// dropped as new events arrive, so memory is bounded by the number of keys
// active in the longest window. Create it with NewMemory.
type Memory struct {
	mu      sync.Mutex
	events  map[string][]time.Time
	maxPer  time.Duration
	calls   int
	maxKeys int
	pruned  time.Time // when a full map was last pruned
}

// DefaultMaxKeys bounds the keys a Memory tracks: when a new
// key would exceed it, the limiter first drops expired keys and then, if
// still full, refuses the event (fails closed).
const DefaultMaxKeys = 100_000

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	return &Memory{events: map[string][]time.Time{}, maxKeys: DefaultMaxKeys}
}

// Allow implements Limiter. It fails only with ctx's error.
func (l *Memory) Allow(ctx context.Context, key string, rate Rate, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if rate.unlimited() {
		return true, nil
	}
	if rate.Count == 0 || rate.Per <= 0 {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if rate.Per > l.maxPer {
		l.maxPer = rate.Per
	}
	// Prune once per len(events)+1024 calls: amortised constant work.
	l.calls++
	if l.calls >= len(l.events)+1024 {
		l.calls = 0
		l.prune(now)
	}
	ev := l.events[key]
	if ev == nil && len(l.events) >= l.maxKeys {
		// Full: prune at most once a second, so that a flood of new keys
		// cannot make every call scan the whole map.
		if now.Sub(l.pruned) >= time.Second || now.Before(l.pruned) {
			l.pruned = now
			l.prune(now)
		}
		if len(l.events) >= l.maxKeys {
			return false, nil
		}
	}
	start := now.Add(-rate.Per)
	i := 0
	for i < len(ev) && !ev[i].After(start) {
		i++
	}
	ev = ev[i:]
	if len(ev) >= rate.Count {
		l.events[key] = ev
		return false, nil
	}
	l.events[key] = append(ev, now)
	return true, nil
}

// prune drops keys whose newest event is older than the longest window.
func (l *Memory) prune(now time.Time) {
	start := now.Add(-l.maxPer)
	for k, ev := range l.events {
		if len(ev) == 0 || !ev[len(ev)-1].After(start) {
			delete(l.events, k)
		}
	}
}
