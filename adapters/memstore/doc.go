// Package memstore keeps loginkit users, sessions and tokens in process
// memory. It is the reference implementation of loginkit.UserStore,
// loginkit.SessionStore, loginkit.TokenStore and
// loginkit.SecondFactorStore (NewSecondFactors) and loginkit.PasskeyStore
// (NewPasskeys): the conformance suites
// are its tests. Use it for tests, demos and single-process applications
// that can afford to lose every session on restart.
//
//	users := memstore.NewUsers[MyUser]()   // a loginkit.UserStore[*MyUser]
//	sessions := memstore.NewSessions()
//	tokens := memstore.NewTokens()
//
// All three are safe for concurrent use. Values are copied on the way in
// and on the way out, so a caller may modify what it passed or got back
// without changing what is stored (see Users for how far a user is
// copied).
//
// Expired sessions and tokens are never returned. They are removed lazily
// when a lookup meets them, and by DeleteExpired, which finds them through
// an expiry heap in O(k log n) for k expired records out of n, so no call
// scans every session. A lookup by key or ID costs one map access whatever
// the number of records; per-user listing and deletion use a per-user
// index. No constructor starts a goroutine: call DeleteExpired from your
// own ticker if records expire faster than lookups find them.
package memstore

import (
	"time"

	"github.com/loginkit/loginkit/internal/hotpath"
)

// Option configures a store.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock makes the store read the time from now instead of the system
// clock when it decides whether a session or token has expired. A manager
// reading sessions through Sessions.GetAt passes its own clock's time
// instead, so give the manager the same clock: loginkit's Builder.Clock
// sets it on the stores too.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

func newConfig(opts []Option) config {
	c := config{now: hotpath.Now}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}
