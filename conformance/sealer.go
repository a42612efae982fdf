package conformance

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// TestSealer checks a stateless loginkit.SessionSealer (a store whose
// sessions travel in the cookie) against its contract: every field
// survives Seal and Open; each Seal uses a fresh nonce; the sealed value
// is a valid cookie value no longer than loginkit.MaxCookieBytes; any
// change to a sealed value — one character replaced, removed or added,
// truncation — and empty, garbage or oversized input make Open fail with
// ErrNotFound, without panicking; expired sessions do not open; returned
// sessions are independent copies; Seal and Open are safe for concurrent
// use; and, when h.Rotated is set, key rotation works in both directions
// it must (the rotated sealer opens old values; the old sealer cannot open
// values sealed under the new key).
//
// The suite seals sessions that expire an hour from the real time.Now and
// expired ones an hour or more in the past: a sealer under test must use a
// clock within minutes of the real one.
func TestSealer(t *testing.T, h SealerHarness) {
	t.Helper()
	runSealer(wrapT(t), h)
}

// sealerSuite holds what the sealer cases share.
type sealerSuite struct {
	h SealerHarness
	timing
}

func runSealer(t suiteT, h SealerHarness) {
	t.Helper()
	s := &sealerSuite{h: h, timing: timing{prec: precisionOr(h.TimePrecision), now: time.Now().UTC()}}
	runSuite(t, "SealerHarness", "SessionSealer", []string{"Seal", "Open"}, h.New, []suiteCase[loginkit.SessionSealer]{
		{"RoundTrip", s.roundTrip},
		{"RoundTripZeroValues", s.zeroValues},
		{"RoundTripFlags", s.flags},
		{"SealDoesNotModifyInput", s.sealKeepsInput},
		{"FreshNonce", s.freshNonce},
		{"FreshNonceAcrossInstances", s.freshNonceAcross},
		{"CookieSafe", s.cookieSafe},
		{"SealNil", s.sealNil},
		{"TamperedCharacter", s.tampered},
		{"RemovedCharacter", s.removed},
		{"Truncated", s.truncated},
		{"Extended", s.extended},
		{"Garbage", s.garbage},
		{"Expired", s.expired},
		{"TooLarge", s.tooLarge},
		{"ReturnedValuesIsolated", s.isolation},
		{"Concurrent", s.concurrent},
		{"Rotation", s.rotation},
	})
}

// full returns a session with every field set, times carrying
// sub-millisecond parts and one time in a non-UTC zone.
func (s *sealerSuite) full(userID string) *loginkit.Session {
	created := s.now.Add(-2*time.Hour + 333333333)
	return &loginkit.Session{
		Key:               "k3Y_-0123456789abcdefghijklmnopqrstuvwxyzAB",
		UserID:            userID,
		CreatedAt:         created,
		AuthenticatedAt:   created.Add(5*time.Minute + 123456789).In(time.FixedZone("UTC+5:30", 5*3600+1800)),
		LastSeenAt:        created.Add(7*time.Minute + 987654321),
		ExpiresAt:         s.now.Add(time.Hour + 111111111),
		AbsoluteExpiresAt: s.now.Add(30*24*time.Hour + 222222222),
		Fresh:             true,
		Remembered:        true,
		Version:           1<<40 + 7,
		Fingerprint:       "fp-Zm9vYmFy",
		IP:                "2001:db8::1",
		UserAgent:         "Mozilla/5.0 (X11; Linux x86_64) Zoë/1.0 数 \"quoted\"; a=b,c",
		Values: map[string]string{
			"lang": "fr", "flash": "Ça marche ✓", "empty": "", "": "empty name",
			"ctl": "\x00\x01\t ;,=\"\\", "csrf": strings.Repeat("x", 64),
		},
	}
}

func (s *sealerSuite) seal(t suiteT, sl loginkit.SessionSealer, x *loginkit.Session, clause string) string {
	t.Helper()
	v, err := sl.Seal(x)
	if err != nil {
		skipUnsupported(t, "Seal", err)
		t.Fatalf("Seal(session of %q): want no error (%s), got %v", x.UserID, clause, err)
	}
	return v
}

// wantOpen fails unless Open(v) returns a session equal to want.
func (s *sealerSuite) wantOpen(t suiteT, sl loginkit.SessionSealer, v string, want *loginkit.Session, op, clause string) *loginkit.Session {
	t.Helper()
	got, err := sl.Open(v)
	if err != nil {
		t.Errorf("%s: Open: want the session of %q (%s), got %v", op, want.UserID, clause, err)
		return nil
	}
	if got == nil {
		t.Errorf("%s: Open: want the session of %q (%s), got nil and no error", op, want.UserID, clause)
		return nil
	}
	for _, d := range diff(want, got, s.prec) {
		t.Errorf("%s: opened session differs (%s): %s", op, clause, d)
	}
	for _, tm := range []struct {
		name string
		t    time.Time
	}{
		{"CreatedAt", got.CreatedAt}, {"AuthenticatedAt", got.AuthenticatedAt}, {"LastSeenAt", got.LastSeenAt},
		{"ExpiresAt", got.ExpiresAt}, {"AbsoluteExpiresAt", got.AbsoluteExpiresAt},
	} {
		if !tm.t.IsZero() && tm.t.Location() != time.UTC {
			t.Errorf("%s: opened %s is in %s, want UTC (Session contract: all times are UTC)", op, tm.name, tm.t.Location())
		}
	}
	return got
}

// wantRefused fails unless Open(v) fails with ErrNotFound and no session.
// A panic in Open is reported as a failure too.
func (s *sealerSuite) wantRefused(t suiteT, sl loginkit.SessionSealer, v, op, clause string) bool {
	t.Helper()
	got, err, panicked := sealerOpen(sl, v)
	switch {
	case panicked != nil:
		t.Errorf("%s: Open(%s) panicked (%s: Open never panics): %v", op, sealerShow(v), clause, panicked)
	case got != nil || !errors.Is(err, loginkit.ErrNotFound):
		t.Errorf("%s: Open(%s): want nil and ErrNotFound (%s), got session %v, error %v", op, sealerShow(v), clause, describeSession(got), err)
	default:
		return true
	}
	return false
}

func sealerOpen(sl loginkit.SessionSealer, v string) (got *loginkit.Session, err error, panicked any) {
	defer func() { panicked = recover() }()
	got, err = sl.Open(v)
	return got, err, nil
}

func sealerShow(v string) string {
	if len(v) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", v[:40], len(v))
	}
	return fmt.Sprintf("%q", v)
}

func (s *sealerSuite) roundTrip(t suiteT, sl loginkit.SessionSealer) {
	want := s.full("user-Zoë-数-1")
	v := s.seal(t, sl, want, "SessionSealer.Seal contract")
	s.wantOpen(t, sl, v, want, "Seal then Open", "SessionSealer.Open reverses Seal, every field kept")
	s.wantOpen(t, sl, v, want, "second Open of the same value", "a sealed value opens any number of times")
}

func (s *sealerSuite) zeroValues(t suiteT, sl loginkit.SessionSealer) {
	want := &loginkit.Session{UserID: "u", ExpiresAt: s.now.Add(time.Hour)}
	v := s.seal(t, sl, want, "SessionSealer.Seal contract")
	s.wantOpen(t, sl, v, want, "Seal then Open of a minimal session", "zero times stay zero, empty strings empty, no values")
	want.Values = map[string]string{}
	v = s.seal(t, sl, want, "SessionSealer.Seal contract")
	s.wantOpen(t, sl, v, want, "Seal then Open with empty Values", "empty Values round-trip")
}

func (s *sealerSuite) flags(t suiteT, sl loginkit.SessionSealer) {
	for _, f := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		want := s.full("user-flags")
		want.Fresh, want.Remembered = f[0], f[1]
		// Versions from 0 to the ends of the int64 range, beyond what a
		// float64 holds exactly.
		switch f {
		case [2]bool{false, false}:
			want.Version = -int64(len(want.UserID))
		case [2]bool{false, true}:
			want.Version = math.MaxInt64 - 2
		case [2]bool{true, true}:
			want.Version = math.MinInt64 + 3
		default:
			want.Version = 0
		}
		v := s.seal(t, sl, want, "SessionSealer.Seal contract")
		s.wantOpen(t, sl, v, want, fmt.Sprintf("Seal then Open with Fresh=%v Remembered=%v", f[0], f[1]), "booleans and Version round-trip")
	}
}

func (s *sealerSuite) sealKeepsInput(t suiteT, sl loginkit.SessionSealer) {
	in := s.full("user-input")
	before := in.Clone()
	s.seal(t, sl, in, "SessionSealer.Seal contract")
	for _, d := range diff(before, in, time.Nanosecond) {
		t.Errorf("Seal: changed its argument (Seal only reads the session): %s", d)
	}
}

func (s *sealerSuite) freshNonce(t suiteT, sl loginkit.SessionSealer) {
	x := s.full("user-nonce")
	seen := map[string]bool{}
	for i := range 8 {
		v := s.seal(t, sl, x, "SessionSealer.Seal contract")
		if seen[v] {
			t.Fatalf("Seal #%d of the same session: returned a value already returned (each Seal must use a fresh random nonce, or equal sessions are linkable)", i+1)
		}
		seen[v] = true
		s.wantOpen(t, sl, v, x, fmt.Sprintf("Open of seal #%d", i+1), "every sealed value opens")
	}
}

// freshNonceAcross seals the same session with two sealers from h.New
// (which share a key when the harness gives them one): no value may come
// back twice. A nonce taken from a counter that starts afresh with each
// sealer (each process) repeats under the same key, which for AES-GCM
// gives away the key stream and the authentication key.
func (s *sealerSuite) freshNonceAcross(t suiteT, a loginkit.SessionSealer) {
	b := s.h.New(t)
	x := s.full("user-nonce-across")
	seen := map[string]string{}
	for i := range 4 {
		for name, sl := range map[string]loginkit.SessionSealer{"first": a, "second": b} {
			v := s.seal(t, sl, x, "SessionSealer.Seal contract")
			if prev, ok := seen[v]; ok {
				t.Fatalf("Seal #%d of the same session by the %s sealer from New: returned the value already returned by %s (each Seal must use a fresh random nonce, not a counter that restarts with each sealer or process)", i+1, name, prev)
			}
			seen[v] = fmt.Sprintf("seal #%d of the %s sealer", i+1, name)
		}
	}
}

// sealerCookieOctet reports whether c may appear in a cookie value (RFC 6265
// cookie-octet).
func sealerCookieOctet(c byte) bool {
	return c == 0x21 || 0x23 <= c && c <= 0x2b || 0x2d <= c && c <= 0x3a || 0x3c <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e
}

func (s *sealerSuite) cookieSafe(t suiteT, sl loginkit.SessionSealer) {
	v := s.seal(t, sl, s.full("user-cookie"), "SessionSealer.Seal contract")
	if v == "" {
		t.Fatal("Seal: returned an empty value (a sealed session is a non-empty cookie value)")
	}
	if len(v) > loginkit.MaxCookieBytes {
		t.Errorf("Seal: value is %d bytes, want at most loginkit.MaxCookieBytes = %d (the manager ignores longer cookies)", len(v), loginkit.MaxCookieBytes)
	}
	for i := 0; i < len(v); i++ {
		if !sealerCookieOctet(v[i]) {
			t.Fatalf("Seal: byte %d of the value is %q, not allowed in a cookie value (SessionSealer.Seal returns a cookie-safe string, RFC 6265 cookie-octet)", i, v[i])
		}
	}
	t.Logf("sealed size of the suite's full session: %d bytes", len(v))
}

func (s *sealerSuite) sealNil(t suiteT, sl loginkit.SessionSealer) {
	v, err, panicked := func() (v string, err error, p any) {
		defer func() { p = recover() }()
		v, err = sl.Seal(nil)
		return v, err, nil
	}()
	if panicked != nil || err == nil {
		t.Errorf("Seal(nil): want an error (bad input gets a clear error, never a panic), got value %s, error %v, panic %v", sealerShow(v), err, panicked)
	}
}

// sealerOther returns c replaced by another character of the same class, so
// that the tampered value still looks well-formed.
func sealerOther(c byte, n int) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	if i < 0 {
		return alphabet[n%len(alphabet)]
	}
	return alphabet[(i+1+n)%len(alphabet)]
}

func (s *sealerSuite) tampered(t suiteT, sl loginkit.SessionSealer) {
	v := s.seal(t, sl, s.full("user-tamper"), "SessionSealer.Seal contract")
	failures := 0
	for i := 0; i < len(v) && failures < 5; i++ {
		for _, n := range []int{0, 31} {
			b := []byte(v)
			b[i] = sealerOther(b[i], n)
			if !s.wantRefused(t, sl, string(b), fmt.Sprintf("byte %d of %d replaced", i, len(v)), "a tampered value is ErrNotFound") {
				failures++
			}
		}
	}
}

func (s *sealerSuite) removed(t suiteT, sl loginkit.SessionSealer) {
	v := s.seal(t, sl, s.full("user-removed"), "SessionSealer.Seal contract")
	failures := 0
	for i := 0; i < len(v) && failures < 5; i++ {
		if !s.wantRefused(t, sl, v[:i]+v[i+1:], fmt.Sprintf("byte %d of %d removed", i, len(v)), "a tampered value is ErrNotFound") {
			failures++
		}
	}
}

func (s *sealerSuite) truncated(t suiteT, sl loginkit.SessionSealer) {
	v := s.seal(t, sl, s.full("user-truncated"), "SessionSealer.Seal contract")
	failures := 0
	for n := 0; n < len(v) && failures < 5; n++ {
		if !s.wantRefused(t, sl, v[:n], fmt.Sprintf("truncated to %d of %d bytes", n, len(v)), "a truncated value is ErrNotFound") {
			failures++
		}
	}
	for n := 1; n < len(v) && failures < 5; n++ {
		if !s.wantRefused(t, sl, v[n:], fmt.Sprintf("first %d of %d bytes cut", n, len(v)), "a truncated value is ErrNotFound") {
			failures++
		}
	}
}

func (s *sealerSuite) extended(t suiteT, sl loginkit.SessionSealer) {
	v := s.seal(t, sl, s.full("user-extended"), "SessionSealer.Seal contract")
	for _, x := range []string{
		v + "A", v + "AA", v + "AAA", v + "AAAA", v + "=", v + "==", "A" + v, "AAAA" + v,
		v + v, v + " ", " " + v, v + "\n", v + "\x00", v[:len(v)/2] + "\n" + v[len(v)/2:],
		v[:len(v)/2] + "=" + v[len(v)/2:], "\"" + v + "\"",
	} {
		s.wantRefused(t, sl, x, "sealed value with characters added", "a value Seal did not return is ErrNotFound")
	}
}

func (s *sealerSuite) garbage(t suiteT, sl loginkit.SessionSealer) {
	for _, x := range []string{
		"", " ", "=", "A", "AAAA", "null", "{}", "garbage", "a.b.c", "\x00", "\xff\xfe",
		strings.Repeat("A", 64), strings.Repeat("A", 400), strings.Repeat("_", 1000),
		strings.Repeat("A", loginkit.MaxCookieBytes), strings.Repeat("A", loginkit.MaxCookieBytes+1),
		strings.Repeat("Zm9v", 100_000),
		"eyJ1c2VyX2lkIjoiYWRtaW4iLCJleHBpcmVzX2F0IjoiMjA5OS0wMS0wMVQwMDowMDowMFoifQ",
	} {
		s.wantRefused(t, sl, x, "garbage", "a value Seal did not return is ErrNotFound")
	}
}

func (s *sealerSuite) expired(t suiteT, sl loginkit.SessionSealer) {
	for _, c := range []struct {
		name string
		edit func(x *loginkit.Session)
	}{
		{"ExpiresAt an hour ago", func(x *loginkit.Session) { x.ExpiresAt = s.now.Add(-time.Hour) }},
		{"ExpiresAt two seconds ago (no grace period)", func(x *loginkit.Session) { x.ExpiresAt = time.Now().UTC().Add(-2 * time.Second) }},
		{"AbsoluteExpiresAt two seconds ago (no grace period)", func(x *loginkit.Session) { x.AbsoluteExpiresAt = time.Now().UTC().Add(-2 * time.Second) }},
		{"ExpiresAt a year ago", func(x *loginkit.Session) { x.ExpiresAt = s.now.AddDate(-1, 0, 0) }},
		{"ExpiresAt zero", func(x *loginkit.Session) { x.ExpiresAt = time.Time{} }},
		{"AbsoluteExpiresAt an hour ago", func(x *loginkit.Session) { x.AbsoluteExpiresAt = s.now.Add(-time.Hour) }},
	} {
		x := s.full("user-expired")
		c.edit(x)
		v, err := sl.Seal(x)
		if err != nil {
			continue // refusing to seal an expired session is fine too
		}
		s.wantRefused(t, sl, v, "Open of a session with "+c.name, "an expired session is ErrNotFound")
	}
}

func (s *sealerSuite) tooLarge(t suiteT, sl loginkit.SessionSealer) {
	x := s.full("user-large")
	for i := range 64 {
		x.Values[fmt.Sprintf("value-%02d", i)] = strings.Repeat(string(rune('a'+i%26)), 128)
	}
	v, err, panicked := func() (v string, err error, p any) {
		defer func() { p = recover() }()
		v, err = sl.Seal(x)
		return v, err, nil
	}()
	switch {
	case panicked != nil:
		t.Fatalf("Seal of a session with 8 KiB of values: panicked (Seal reports a too large session with an error): %v", panicked)
	case err != nil:
		return // refused: fine
	case len(v) > loginkit.MaxCookieBytes:
		t.Errorf("Seal of a session with 8 KiB of values: returned %d bytes, over loginkit.MaxCookieBytes = %d, without an error (Seal must refuse a session whose cookie the manager would ignore)", len(v), loginkit.MaxCookieBytes)
	default:
		s.wantOpen(t, sl, v, x, "Seal then Open of a session with 8 KiB of values", "what Seal accepts opens")
	}
}

func (s *sealerSuite) isolation(t suiteT, sl loginkit.SessionSealer) {
	in := s.full("user-iso")
	want := in.Clone()
	v := s.seal(t, sl, in, "SessionSealer.Seal contract")
	in.UserID = "mallory"
	in.Values["lang"] = "changed"
	in.Values["added"] = "x"
	s.wantOpen(t, sl, v, want, "Open after changing the sealed session", "Seal keeps no reference to its argument")
	got := s.wantOpen(t, sl, v, want, "first Open", "SessionSealer.Open reverses Seal")
	if got == nil {
		return
	}
	got.UserID = "mallory"
	if got.Values != nil {
		got.Values["lang"] = "changed"
		got.Values["added"] = "x"
		delete(got.Values, "flash")
	}
	s.wantOpen(t, sl, v, want, "Open after changing a previously opened session", "returned sessions are copies the caller may modify")
}

func (s *sealerSuite) concurrent(t suiteT, sl loginkit.SessionSealer) {
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				x := s.full(fmt.Sprintf("user-%d-%d", w, r))
				v, err := sl.Seal(x)
				if err != nil {
					errs <- fmt.Sprintf("concurrent Seal: %v (Seal is safe for concurrent use)", err)
					return
				}
				got, err := sl.Open(v)
				if err != nil || got == nil || got.UserID != x.UserID {
					errs <- fmt.Sprintf("concurrent Open: want the session of %q, got %v, %v (Open is safe for concurrent use)", x.UserID, describeSession(got), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func (s *sealerSuite) rotation(t suiteT, old loginkit.SessionSealer) {
	if s.h.Rotated == nil {
		t.Skip("SealerHarness.Rotated is nil: the sealer declares no key rotation")
	}
	x := s.full("user-rotation")
	vOld := s.seal(t, old, x, "SessionSealer.Seal contract")
	rot := s.h.Rotated(t)
	s.wantOpen(t, rot, vOld, x, "rotated sealer opening a value sealed before the rotation", "old keys still open")
	vNew := s.seal(t, rot, x, "SessionSealer.Seal contract")
	s.wantOpen(t, rot, vNew, x, "rotated sealer opening its own value", "the newest key seals and opens")
	s.wantRefused(t, old, vNew, "sealer without the new key opening a value sealed under it", "a value sealed under an unknown key is ErrNotFound")
}
