package redisstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// typicalSessionSize is the encoded size of typicalSession, quoted in the
// package documentation.
const typicalSessionSize = 205

// typicalSession is a session as the manager writes it after a password
// login from a desktop browser: a 43-character key (base64url SHA-256 of
// the cookie token), a 22-character fingerprint, a 32-character user ID
// (loginkit.NewID), an IPv4 address, a common User-Agent and no
// application values.
func typicalSession() *loginkit.Session {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &loginkit.Session{
		Key:               "q3Hk0mYvZcS1o2uQe1F8x7Kp4Wn9Rj6Tt5Ld0Ab2Cd4",
		UserID:            strings.Repeat("0f", 16),
		CreatedAt:         now,
		AuthenticatedAt:   now,
		LastSeenAt:        now.Add(5 * time.Minute),
		ExpiresAt:         now.Add(2*time.Hour + 5*time.Minute),
		AbsoluteExpiresAt: now.Add(30 * 24 * time.Hour),
		Fresh:             true,
		Version:           3,
		Fingerprint:       "Jq8v2LmN4pR6sT0uW3yZ5a",
		IP:                "203.0.113.45",
		UserAgent:         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
	}
}

func TestTypicalSessionSize(t *testing.T) {
	s := typicalSession()
	b := appendSession(nil, s)
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("typical session: %d bytes encoded (JSON of the same session: %d bytes)", len(b), len(js))
	if len(b) != typicalSessionSize {
		t.Errorf("typical session encodes to %d bytes; the package documentation says %d", len(b), typicalSessionSize)
	}
	if len(b) >= len(js)/2 {
		t.Errorf("encoding (%d bytes) is not below half the JSON size (%d bytes)", len(b), len(js))
	}
}

// fillFields sets every field of the struct v points to to a non-zero
// value derived from seed, failing on a field kind it does not know, so
// that a field added to Session or Token must be handled by the codec.
func fillFields(t *testing.T, v any, seed int) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	base := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	for i := range rv.NumField() {
		f, name := rv.Field(i), rv.Type().Field(i).Name
		switch f.Interface().(type) {
		case string:
			f.SetString(name + "-ü-" + strings.Repeat("x", seed+i))
		case bool:
			f.SetBool((seed+i)%2 == 0 || seed == 0)
		case int64:
			f.SetInt(int64(-1000*seed - i - 1))
		case time.Time:
			f.Set(reflect.ValueOf(base.Add(time.Duration(seed*100+i) * time.Hour)))
		case map[string]string:
			f.Set(reflect.ValueOf(map[string]string{"k": "v", "": "empty key", "ключ": ""}))
		default:
			t.Fatalf("field %s of %T has a kind the codec test does not know", name, v)
		}
	}
}

func TestSessionCodecRoundTrip(t *testing.T) {
	for seed := range 3 {
		var s loginkit.Session
		fillFields(t, &s, seed)
		got, err := decodeSession(s.Key, string(appendSession(nil, &s)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &s) {
			t.Errorf("seed %d: round trip\n got %+v\nwant %+v", seed, got, &s)
		}
	}
	// Zero times, nil versus empty Values, negative and extreme versions.
	for _, s := range []*loginkit.Session{
		{Key: "k"},
		{Key: "k", Values: map[string]string{}},
		{Key: "k", Version: -1 << 63, CreatedAt: time.Unix(0, 0).UTC()},
		{Key: "k", Version: 1<<63 - 1, ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
	} {
		got, err := decodeSession(s.Key, string(appendSession(nil, s)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip\n got %#v\nwant %#v", got, s)
		}
	}
}

func TestSessionCodecTruncatesToMilliseconds(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 3600))
	got, err := decodeSession("k", string(appendSession(nil, &loginkit.Session{CreatedAt: at})))
	if err != nil {
		t.Fatal(err)
	}
	want := at.Truncate(time.Millisecond).UTC()
	if got.CreatedAt != want {
		t.Errorf("CreatedAt = %v, want %v (UTC, milliseconds)", got.CreatedAt, want)
	}
}

func TestTokenCodecRoundTrip(t *testing.T) {
	for seed := range 3 {
		var tok loginkit.Token
		fillFields(t, &tok, seed)
		got, err := decodeToken(tok.Selector, string(appendToken(nil, &tok)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &tok) {
			t.Errorf("seed %d: round trip\n got %+v\nwant %+v", seed, got, &tok)
		}
	}
}

func TestCodecRejectsCorruptValues(t *testing.T) {
	s := typicalSession()
	s.Values = map[string]string{"a": "b"}
	good := string(appendSession(nil, s))
	tok := string(appendToken(nil, &loginkit.Token{Selector: "s", UserID: "u", Purpose: "p", ExpiresAt: time.Now()}))
	cases := map[string]string{
		"empty":            "",
		"json":             `{"user_id":"u"}`,
		"wrong version":    "\x02" + good[1:],
		"unknown flag":     good[:1] + "\x80" + good[2:],
		"trailing byte":    good + "x",
		"long length":      good[:2] + "\xff\x01" + good[3:],
		"varint overflow":  good[:2] + strings.Repeat("\xff", 10) + "\x01",
		"too many values":  good[:len(good)-7] + "\x7f",
		"values, no flag":  good[:1] + "\x01" + good[2:],
		"token truncated":  tok[:len(tok)-1],
		"token trailing":   tok + "\x00",
		"token no version": tok[1:],
	}
	for i := range len(good) {
		cases["session cut at "+string(rune('0'+i%10))+"/"+strings.Repeat("+", i/10)] = good[:i]
	}
	for name, v := range cases {
		if strings.HasPrefix(name, "token") {
			if _, err := decodeToken("s", v); !errors.Is(err, errCorrupt) {
				t.Errorf("%s: decodeToken error = %v, want errCorrupt", name, err)
			}
			continue
		}
		if _, err := decodeSession("k", v); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: decodeSession error = %v, want errCorrupt", name, err)
		}
	}
}

func FuzzDecodeSession(f *testing.F) {
	f.Add(string(appendSession(nil, typicalSession())))
	f.Add(string(appendSession(nil, &loginkit.Session{Values: map[string]string{"a": "b"}})))
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := decodeSession("k", v)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same session.
		again, err := decodeSession("k", string(appendSession(nil, s)))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("re-encoding %q: %v\n got %#v\nwant %#v", v, err, again, s)
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	f.Add(string(appendToken(nil, &loginkit.Token{UserID: "u", Purpose: "remember", Version: 2, ExpiresAt: time.Now()})))
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		tok, err := decodeToken("s", v)
		if err != nil {
			return
		}
		again, err := decodeToken("s", string(appendToken(nil, tok)))
		if err != nil || !reflect.DeepEqual(again, tok) {
			t.Fatalf("re-encoding %q: %v\n got %#v\nwant %#v", v, err, again, tok)
		}
	})
}

func TestOrderMemberSorts(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ordered := []struct {
		at time.Time
		id string
	}{
		{time.Time{}, "z"},
		{time.Unix(-1, 999_999_999), "a"},
		{time.Unix(0, 0), "a"},
		{base, "a"},
		{base, "ab"},
		{base, "b"},
		{base.Add(time.Nanosecond), "a"},
		{base.Add(time.Second), ""},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "a"},
	}
	for i := 1; i < len(ordered); i++ {
		a := orderMember(ordered[i-1].at, ordered[i-1].id)
		b := orderMember(ordered[i].at, ordered[i].id)
		if a >= b {
			t.Errorf("orderMember(%v, %q) = %q is not below orderMember(%v, %q) = %q",
				ordered[i-1].at, ordered[i-1].id, a, ordered[i].at, ordered[i].id, b)
		}
		if got := orderID(b); got != ordered[i].id {
			t.Errorf("orderID(%q) = %q, want %q", b, got, ordered[i].id)
		}
	}
}

func BenchmarkSessionEncode(b *testing.B) {
	s := typicalSession()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSession(buf[:0], s)
	}
}

func BenchmarkSessionDecode(b *testing.B) {
	s := typicalSession()
	v := string(appendSession(nil, s))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSession(s.Key, v); err != nil {
			b.Fatal(err)
		}
	}
}
