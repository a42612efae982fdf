package sqlstore

import "time"

// SetClock makes the stores read the time from now, so that the
// conformance suites can put an expiry at exactly "now".
func (ss *Sessions) SetClock(now func() time.Time) { ss.now = now }

// SetClock makes the store read the time from now.
func (ts *Tokens) SetClock(now func() time.Time) { ts.now = now }
