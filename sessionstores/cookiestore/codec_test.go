package cookiestore

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// sameSession describes how got differs from want; times are compared as
// instants and must be UTC.
func sameSession(want, got *loginkit.Session) error {
	w, g := *want, *got
	wt := []*time.Time{&w.CreatedAt, &w.AuthenticatedAt, &w.LastSeenAt, &w.ExpiresAt, &w.AbsoluteExpiresAt}
	gt := []*time.Time{&g.CreatedAt, &g.AuthenticatedAt, &g.LastSeenAt, &g.ExpiresAt, &g.AbsoluteExpiresAt}
	for i := range wt {
		if !wt[i].Equal(*gt[i]) || wt[i].IsZero() != gt[i].IsZero() {
			return fmt.Errorf("time %d: want %v, got %v", i, *wt[i], *gt[i])
		}
		if !gt[i].IsZero() && gt[i].Location() != time.UTC {
			return fmt.Errorf("time %d: location %v, want UTC", i, gt[i].Location())
		}
		*wt[i], *gt[i] = time.Time{}, time.Time{}
	}
	if (w.Values == nil) != (g.Values == nil) || !maps.Equal(w.Values, g.Values) {
		return fmt.Errorf("Values: want %#v, got %#v", w.Values, g.Values)
	}
	w.Values, g.Values = nil, nil
	if !reflect.DeepEqual(w, g) {
		return fmt.Errorf("want %+v, got %+v", w, g)
	}
	return nil
}

// truncated returns s with its times truncated to the millisecond, as the
// codec keeps them.
func truncated(s *loginkit.Session) *loginkit.Session {
	c := s.Clone()
	for _, t := range []*time.Time{&c.CreatedAt, &c.AuthenticatedAt, &c.LastSeenAt, &c.ExpiresAt, &c.AbsoluteExpiresAt} {
		if !t.IsZero() {
			*t = time.UnixMilli(t.UnixMilli()).UTC()
		}
	}
	return c
}

func codecSessions() []*loginkit.Session {
	now := time.Date(2025, 6, 1, 12, 34, 56, 789_123_456, time.UTC)
	return []*loginkit.Session{
		{},
		{UserID: "u", Values: map[string]string{}},
		{
			Key: "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c", UserID: "5f0c1e7a9b2d4c6e8f0a1b3c5d7e9f01",
			CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now.Add(time.Minute),
			ExpiresAt: now.Add(2 * time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour),
			Fresh: true, Version: 3, Fingerprint: "mJ2c0kQ3hV7xZ1aB9eF4gA", IP: "203.0.113.42",
			UserAgent: "Mozilla/5.0", Values: map[string]string{"csrf": "x", "": "", "zz": "Ça ✓"},
		},
		{
			// Strings that look like, but are not, the compact forms.
			Key: "AB", UserID: "A", Fingerprint: "ab=", IP: "fe80::1%eth0",
			CreatedAt:       time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
			AuthenticatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
			ExpiresAt:       time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.FixedZone("x", -3600)),
			Remembered:      true, Version: -1 << 63,
		},
		{IP: "::ffff:10.0.0.1", UserID: strings.Repeat("é", 300), Key: strings.Repeat("_-", 600), Version: 1<<63 - 1},
		{IP: "10.0.0.01", Fingerprint: "-_", UserAgent: "\x00\xff"},
		{IP: "2001:db8::1", Key: "AAAA", Values: map[string]string{"a": strings.Repeat("v", 70000)}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for i, s := range codecSessions() {
		p := appendSession(nil, s)
		got, err := decodeSession(p)
		if err != nil {
			t.Errorf("session %d: decode: %v", i, err)
			continue
		}
		if err := sameSession(truncated(s), got); err != nil {
			t.Errorf("session %d: %v", i, err)
		}
		// Every proper prefix is refused.
		for n := range min(len(p), 1000) {
			if _, err := decodeSession(p[:n]); err == nil {
				t.Errorf("session %d: prefix of %d of %d bytes decoded", i, n, len(p))
				break
			}
		}
		if _, err := decodeSession(append(p, 0)); err == nil {
			t.Errorf("session %d: payload with a trailing byte decoded", i)
		}
	}
}

func TestCodecCompactForms(t *testing.T) {
	for _, c := range []struct {
		s    string
		enc  func([]byte, string) []byte
		size int
	}{
		{"q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c", appendToken, 2 + 32}, // session key (two-byte header from 32 bytes on)
		{"5f0c1e7a9b2d4c6e8f0a1b3c5d7e9f01", appendToken, 1 + 24},            // loginkit.NewID
		{"mJ2c0kQ3hV7xZ1aB9eF4gA", appendToken, 1 + 16},                      // fingerprint
		{"AB", appendToken, 1 + 2},                                           // non-canonical: plain
		{"203.0.113.42", appendIP, 1 + 4},
		{"2001:db8::1", appendIP, 1 + 16},
		{"10.0.0.01", appendIP, 1 + 9}, // not an address: plain
	} {
		if got := len(c.enc(nil, c.s)); got != c.size {
			t.Errorf("%q: encoded in %d bytes, want %d", c.s, got, c.size)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good := appendSession(nil, codecSessions()[2])
	for name, p := range map[string][]byte{
		"empty":                 nil,
		"values without flag":   {0, 0, 0, 0, 0, 0, 0, 1, 0, 0},
		"unknown string kind":   {0, 3, 0, 0, 0, 0, 0, 0},
		"overlong varint":       {0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
		"non-minimal varint":    {0, 0x80, 0x00, 0, 0, 0, 0, 0, 0},
		"bad IP length":         {0, 0, 0, 0, 3<<2 | kindIP, 1, 2, 3, 0, 0},
		"string past the end":   {0, 200, 1},
		"huge value count":      {flagValues, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"values out of order":   {flagValues, 0, 0, 0, 0, 0, 0, 2, 4, 'b', 0, 4, 'a', 0},
		"duplicate value names": {flagValues, 0, 0, 0, 0, 0, 0, 2, 4, 'a', 0, 4, 'a', 0},
		"trailing bytes":        append(bytes.Clone(good), 1, 2, 3),
	} {
		if s, err := decodeSession(p); err == nil {
			t.Errorf("%s: decoded to %+v, want an error", name, s)
		}
	}
	// The same payloads, correctly ordered, decode.
	if _, err := decodeSession([]byte{flagValues, 0, 0, 0, 0, 0, 0, 2, 4, 'a', 0, 4, 'b', 0}); err != nil {
		t.Errorf("two ordered values: %v", err)
	}
}

// FuzzDecode checks that the payload decoder never panics and that what it
// accepts survives a re-encoding unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range codecSessions() {
		f.Add(appendSession(nil, s))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := decodeSession(p)
		if err != nil {
			if s != nil {
				t.Fatal("decode returned a session with an error")
			}
			return
		}
		again, err := decodeSession(appendSession(nil, s))
		if err != nil {
			t.Fatalf("re-encoded session does not decode: %v", err)
		}
		if err := sameSession(s, again); err != nil {
			t.Fatalf("re-encoded session differs: %v", err)
		}
	})
}

// FuzzCodecRoundTrip checks decode(encode(s)) == s for fuzzed fields.
func FuzzCodecRoundTrip(f *testing.F) {
	f.Add("q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c", "5f0c1e7a", int64(1748781296789), int64(-1), int64(0), int64(7200000), int64(1<<62), int64(123456), true, false, int64(3), "mJ2c0kQ3hV7xZ1aB9eF4gA", "203.0.113.42", "Mozilla/5.0", "a=1&b=&=c")
	f.Add("", "", int64(0), int64(0), int64(0), int64(0), int64(0), int64(0), false, true, int64(-1<<63), "", "::1", "", "")
	f.Add("AB", "é", int64(-62135596800000), int64(1<<63-1), int64(-1<<63), int64(1), int64(-1), int64(999999), true, true, int64(1<<63-1), "-_", "fe80::1%lo", "\x00", "&&=&x==y")
	f.Fuzz(func(t *testing.T, key, userID string, t1, t2, t3, t4, t5, nanos int64, fresh, remembered bool, version int64, fp, ip, ua, values string) {
		nanos = (nanos%1e6 + 1e6) % 1e6
		tm := func(ms int64) time.Time {
			if ms == 0 {
				return time.Time{}
			}
			return time.UnixMilli(ms).Add(time.Duration(nanos)).In(time.FixedZone("z", 3600))
		}
		s := &loginkit.Session{
			Key: key, UserID: userID,
			CreatedAt: tm(t1), AuthenticatedAt: tm(t2), LastSeenAt: tm(t3), ExpiresAt: tm(t4), AbsoluteExpiresAt: tm(t5),
			Fresh: fresh, Remembered: remembered, Version: version,
			Fingerprint: fp, IP: ip, UserAgent: ua,
		}
		if values != "" {
			s.Values = map[string]string{}
			for kv := range strings.SplitSeq(values, "&") {
				k, v, _ := strings.Cut(kv, "=")
				s.Values[k] = v
			}
		}
		got, err := decodeSession(appendSession(nil, s))
		if err != nil {
			t.Fatalf("decode(encode(s)): %v", err)
		}
		if err := sameSession(truncated(s), got); err != nil {
			t.Fatal(err)
		}
	})
}
