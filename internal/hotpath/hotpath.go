// Package hotpath holds the hand-written parts of the per-request path
// that exist only because a benchmark in bench/ shows they matter
// (BenchmarkHotPathTricks); each names the standard way it replaces. Keep
// a function here only while its benchmark shows a difference.
package hotpath

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"
	"time"
)

// CookieValue returns the value of the named cookie in the request
// headers h, or "" when there is none. A value longer than maxBytes, or one
// holding bytes no cookie value may hold, is reported as bad, so that the
// caller clears it instead of leaving it in the browser.
//
// It replaces http.Request.Cookie, which parses every cookie of the
// request into a new slice on each call: BenchmarkHotPathTricks/cookie in
// bench/ compares the two.
func CookieValue(h http.Header, name string, maxBytes int) (value string, bad bool) {
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || textproto.TrimString(k) != name {
				continue
			}
			if len(v) > maxBytes {
				return "", true
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			for i := 0; i < len(v); i++ {
				if b := v[i]; b <= 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' || b == ',' {
					return "", true
				}
			}
			return v, false
		}
	}
	return "", false
}

// HashToken returns base64url(SHA-256(token)), unpadded.
//
// A token of up to 64 bytes is copied into a stack buffer first:
// sha256.Sum256([]byte(token)) allocates for any string longer than 32
// bytes, and session tokens are 43. BenchmarkHotPathTricks/hash in bench/
// compares the two.
func HashToken(token string) string {
	var sum [sha256.Size]byte
	if len(token) <= 64 {
		var buf [64]byte
		n := copy(buf[:], token)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256([]byte(token))
	}
	var out [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(out[:], sum[:])
	return string(out[:])
}

// ReanchorEvery bounds how long Now goes without reading the wall clock:
// a step of the system clock (not a gradual adjustment, which the
// monotonic clock follows too) shows in Now within this time.
const ReanchorEvery = time.Second

// anchor is the last full time.Now reading Now builds on.
var anchor atomic.Pointer[time.Time]

// Now returns the current time, as time.Now does, with its monotonic
// reading. It reads only the monotonic clock on most calls: it adds the
// monotonic time elapsed since an anchor, a full time.Now reading taken at
// most ReanchorEvery earlier, to that anchor. time.Now reads the wall and
// the monotonic clocks, and each read costs tens of nanoseconds on a
// virtual machine, where the manager and the in-process session stores
// read the clock on every request: BenchmarkHotPathTricks/clock in bench/
// compares the two. The result's monotonic reading is exactly the
// current one, so comparisons with other readings (Before, After, Sub) are
// as exact as with time.Now; its wall reading lags a step of the system
// clock by at most ReanchorEvery.
func Now() time.Time {
	if a := anchor.Load(); a != nil {
		if d := time.Since(*a); d >= 0 && d < ReanchorEvery {
			return a.Add(d)
		}
	}
	t := time.Now()
	anchor.Store(&t)
	return t
}
