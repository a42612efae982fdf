package cookiestore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// testKey returns a deterministic key for tests: seed selects one of
// several distinct keys.
func testKey(seed byte) []byte {
	k := make([]byte, cookiestore.KeySize)
	for i := range k {
		k[i] = seed + byte(i)*7
	}
	return k
}

func newStore(tb testing.TB, k []byte, opts ...cookiestore.Option) *cookiestore.Store {
	tb.Helper()
	s, err := cookiestore.New(k, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conformance.TestSealer(t, conformance.SealerHarness{
		New: func(tb testing.TB) loginkit.SessionSealer { return newStore(tb, testKey(1)) },
		Rotated: func(tb testing.TB) loginkit.SessionSealer {
			return newStore(tb, testKey(2), cookiestore.WithOldKeys(testKey(1)))
		},
		TimePrecision: time.Millisecond,
	})
}

// typical returns a session as the manager creates it at now for a
// password login from a desktop browser.
func typical(now time.Time) *loginkit.Session {
	return &loginkit.Session{
		Key:               "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c", // base64url of SHA-256
		UserID:            "5f0c1e7a9b2d4c6e8f0a1b3c5d7e9f01",            // loginkit.NewID
		CreatedAt:         now,
		AuthenticatedAt:   now,
		LastSeenAt:        now,
		ExpiresAt:         now.Add(2 * time.Hour),
		AbsoluteExpiresAt: now.Add(24 * time.Hour),
		Fresh:             true,
		Version:           3,
		Fingerprint:       "mJ2c0kQ3hV7xZ1aB9eF4gA", // 16 bytes, base64url
		IP:                "203.0.113.42",
		UserAgent:         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	}
}

// TestSealedSize records how long a typical sealed session is, and how
// that compares with JSON inside the same envelope.
func TestSealedSize(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := newStore(t, testKey(1), cookiestore.WithClock(func() time.Time { return now }))
	sess := typical(now)
	v, err := s.Seal(sess)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(sess)
	// Envelope: 42 bytes (version, key id, nonce, tag) around the payload.
	jsonSealed := (len(js) + 42 + 2) / 3 * 4
	t.Logf("typical session (%d-byte User-Agent): sealed %d bytes; JSON in the same envelope would be %d", len(sess.UserAgent), len(v), jsonSealed)
	if len(v) > 360 {
		t.Errorf("typical sealed session is %d bytes, want at most 360 (the package doc says about 340)", len(v))
	}
	sess.Values = map[string]string{"csrf": "Kq3F9v0xR2mW8pL1tN5bY7cZ4hJ6dS0aE2gU9iO3", "lang": "en"}
	v, err = s.Seal(sess)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with two values (48 bytes of names and values): sealed %d bytes", len(v))
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, c := range []struct {
		name string
		key  []byte
		opts []cookiestore.Option
	}{
		{"nil key", nil, nil},
		{"short key", make([]byte, 16), nil},
		{"long key", make([]byte, 64), nil},
		{"short old key", testKey(1), []cookiestore.Option{cookiestore.WithOldKeys(testKey(2), make([]byte, 31))}},
		{"nil clock", testKey(1), []cookiestore.Option{cookiestore.WithClock(nil)}},
		{"limit above MaxCookieBytes", testKey(1), []cookiestore.Option{cookiestore.WithMaxBytes(loginkit.MaxCookieBytes + 1)}},
		{"limit too small", testKey(1), []cookiestore.Option{cookiestore.WithMaxBytes(64)}},
	} {
		s, err := cookiestore.New(c.key, c.opts...)
		if s != nil || !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("New with %s: want nil and ErrInvalid, got %v, %v", c.name, s, err)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := cookiestore.GenerateKey(), cookiestore.GenerateKey()
	if len(a) != cookiestore.KeySize || bytes.Equal(a, b) {
		t.Fatalf("GenerateKey: want two different %d-byte keys, got %x and %x", cookiestore.KeySize, a, b)
	}
	if _, err := cookiestore.New(a); err != nil {
		t.Fatalf("New(GenerateKey()): %v", err)
	}
}

func TestClockDecidesExpiry(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	s := newStore(t, testKey(1), cookiestore.WithClock(func() time.Time { return clock }))
	sess := typical(now)
	v, err := s.Seal(sess)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		open bool
	}{
		{now, true},
		{sess.ExpiresAt.Add(-time.Millisecond), true},
		{sess.ExpiresAt, false}, // ExpiresAt is the first instant the session is gone
		{sess.ExpiresAt.Add(time.Hour), false},
	} {
		clock = c.at
		_, err := s.Open(v)
		if (err == nil) != c.open {
			t.Errorf("Open at %s (ExpiresAt %s): want open=%v, got %v", c.at, sess.ExpiresAt, c.open, err)
		}
		if err != nil && !errors.Is(err, loginkit.ErrNotFound) {
			t.Errorf("Open of an expired session: want ErrNotFound, got %v", err)
		}
	}
	// AbsoluteExpiresAt bounds a session even when ExpiresAt is later.
	clock = now
	sess.ExpiresAt = now.Add(48 * time.Hour)
	sess.AbsoluteExpiresAt = now.Add(time.Hour)
	if v, err = s.Seal(sess); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(time.Hour)
	if _, err := s.Open(v); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Open after AbsoluteExpiresAt: want ErrNotFound, got %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	k1, k2, k3 := testKey(1), testKey(2), testKey(3)
	now := time.Now()
	sess := typical(now)
	s1 := newStore(t, k1)
	v1, _ := s1.Seal(sess)

	s2 := newStore(t, k2, cookiestore.WithOldKeys(k1))
	if _, err := s2.Open(v1); err != nil {
		t.Fatalf("store with k1 as old key: Open of a k1 value: %v", err)
	}
	v2, _ := s2.Seal(sess)
	if _, err := s1.Open(v2); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("store with only k1: Open of a value sealed after rotation to k2: want ErrNotFound, got %v", err)
	}
	if _, err := newStore(t, k2).Open(v2); err != nil {
		t.Errorf("store with only k2: Open of a k2 value: %v", err)
	}
	// Dropping k1 after the rotation period retires its values.
	s3 := newStore(t, k3, cookiestore.WithOldKeys(k2))
	if _, err := s3.Open(v1); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("store without k1: Open of a k1 value: want ErrNotFound, got %v", err)
	}
	if _, err := s3.Open(v2); err != nil {
		t.Errorf("store with k2 as old key: Open of a k2 value: %v", err)
	}
}

func TestPurposeBindsValues(t *testing.T) {
	sess := typical(time.Now())
	a := newStore(t, testKey(1), cookiestore.WithPurpose("admin-session"))
	b := newStore(t, testKey(1))
	v, _ := a.Seal(sess)
	if _, err := b.Open(v); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Open of a value sealed for another purpose with the same key: want ErrNotFound, got %v", err)
	}
	if _, err := a.Open(v); err != nil {
		t.Errorf("Open with the same purpose: %v", err)
	}
}

func TestSealTooLarge(t *testing.T) {
	s := newStore(t, testKey(1), cookiestore.WithMaxBytes(1024))
	sess := typical(time.Now())
	sess.Values = map[string]string{}
	var last string
	for i := 0; ; i++ {
		sess.Values[strings.Repeat("k", i+1)] = strings.Repeat("v", 40)
		v, err := s.Seal(sess)
		if err != nil {
			if !errors.Is(err, cookiestore.ErrTooLarge) || !errors.Is(err, loginkit.ErrInvalid) {
				t.Fatalf("Seal over the limit: want ErrTooLarge and ErrInvalid, got %v", err)
			}
			t.Logf("refused at %d values: %v", len(sess.Values), err)
			break
		}
		if len(v) > 1024 {
			t.Fatalf("Seal returned %d bytes, over the 1024-byte limit", len(v))
		}
		last = v
	}
	if len(last) < 1024-60 {
		t.Errorf("last accepted value is %d bytes; the limit should let values up to 1024 through", len(last))
	}
	if _, err := s.Open(last); err != nil {
		t.Errorf("Open of the largest accepted value: %v", err)
	}
	// A value longer than the limit is refused without decoding.
	big := newStore(t, testKey(1))
	sess.Values = map[string]string{"x": strings.Repeat("v", 1000)}
	v, err := big.Seal(sess)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(v); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Open of a %d-byte value with a 1024-byte limit: want ErrNotFound, got %v", len(v), err)
	}
}

func TestStatelessStoreMethods(t *testing.T) {
	s := newStore(t, testKey(1))
	ctx := context.Background()
	var store loginkit.SessionStore = s
	if err := store.Save(ctx, typical(time.Now())); err != nil {
		t.Errorf("Save: want nil, got %v", err)
	}
	if err := store.Save(ctx, nil); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("Save(nil): want ErrInvalid, got %v", err)
	}
	if got, err := store.Get(ctx, "k"); got != nil || !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("Get: want nil and ErrNotFound, got %v, %v", got, err)
	}
	if err := store.Delete(ctx, "k"); err != nil {
		t.Errorf("Delete: want nil, got %v", err)
	}
	if got, err := store.ListByUser(ctx, "u"); got != nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ListByUser: want nil and errors.ErrUnsupported, got %v, %v", got, err)
	}
	if n, err := store.DeleteByUser(ctx, "u", ""); n != 0 || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("DeleteByUser: want 0 and errors.ErrUnsupported, got %d, %v", n, err)
	}
	if n, err := store.DeleteExpired(ctx); n != 0 || err != nil {
		t.Errorf("DeleteExpired: want 0, nil, got %d, %v", n, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := store.Save(cctx, typical(time.Now())); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context: want context.Canceled, got %v", err)
	}
	if _, err := store.Get(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: want context.Canceled, got %v", err)
	}
}

func TestUnknownVersionRefused(t *testing.T) {
	s := newStore(t, testKey(1))
	v, err := s.Seal(typical(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	raw := decodeB64(t, v)
	for _, ver := range []byte{0, 2, 0xff} {
		raw[0] = ver
		if _, err := s.Open(encodeB64(raw)); !errors.Is(err, loginkit.ErrNotFound) {
			t.Errorf("Open with format version %d: want ErrNotFound, got %v", ver, err)
		}
	}
}

func decodeB64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func encodeB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestOpenAtDecidesExpiryAtTheGivenTime checks that OpenAt answers as
// Open would at the time it is given, whatever the store's clock says.
func TestOpenAtDecidesExpiryAtTheGivenTime(t *testing.T) {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	st, err := cookiestore.New(bytes.Repeat([]byte{3}, cookiestore.KeySize),
		cookiestore.WithClock(func() time.Time { return start }))
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Seal(&loginkit.Session{
		UserID: "u1", CreatedAt: start, AuthenticatedAt: start, LastSeenAt: start,
		ExpiresAt: start.Add(time.Hour), AbsoluteExpiresAt: start.Add(2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := st.OpenAt(v, start.Add(59*time.Minute)); err != nil || s.UserID != "u1" {
		t.Fatalf("OpenAt before expiry = %v, %v; want the session", s, err)
	}
	if _, err := st.OpenAt(v, start.Add(time.Hour)); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("OpenAt at ExpiresAt: %v, want ErrNotFound", err)
	}
	if s, err := st.Open(v); err != nil || s.UserID != "u1" {
		t.Fatalf("Open by the store's clock = %v, %v; want the session", s, err)
	}
	if _, err := st.OpenAt("not-a-sealed-value", start); !errors.Is(err, loginkit.ErrNotFound) {
		t.Fatalf("OpenAt of garbage: %v, want ErrNotFound", err)
	}
}
