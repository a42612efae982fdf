package hotpath

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCookieValue(t *testing.T) {
	for _, c := range []struct {
		headers []string
		want    string
		bad     bool
	}{
		{nil, "", false},
		{[]string{"a=1; session=abc; b=2"}, "abc", false},
		{[]string{"a=1", " session=abc "}, "abc", false},
		{[]string{"session= abc"}, "", true},
		{[]string{`session="abc"`}, "abc", false},
		{[]string{"session=a b"}, "", true},
		{[]string{"session=a\\b"}, "", true},
		{[]string{"session=" + strings.Repeat("x", 11)}, "", true},
		{[]string{"sessionx=1; xsession=2"}, "", false},
		{[]string{"session"}, "", false},
	} {
		h := http.Header{"Cookie": c.headers}
		got, bad := CookieValue(h, "session", 10)
		if got != c.want || bad != c.bad {
			t.Errorf("CookieValue(%q) = %q, %v; want %q, %v", c.headers, got, bad, c.want, c.bad)
		}
	}
}

// FuzzCookieValue checks that any Cookie header is read without panicking,
// that a value it returns is within the limit and holds only cookie-value
// bytes, and that it agrees with net/http when both find a non-empty value
// (net/http also takes a bare "session" as the cookie, with an empty value).
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"session=abc", `a=1; session="q"; b`, "session=a;session=b", "session=\x7f", ";;;=;session=", "session=" + strings.Repeat("z", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, bad := CookieValue(http.Header{"Cookie": {header}}, "session", 32)
		if bad && v != "" {
			t.Fatalf("bad value returned %q", v)
		}
		if len(v) > 32 {
			t.Fatalf("value of %d bytes over the limit", len(v))
		}
		for i := 0; i < len(v); i++ {
			if b := v[i]; b <= 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' || b == ',' {
				t.Fatalf("value %q holds byte %#x", v, b)
			}
		}
		if v != "" && !strings.Contains(header, v) {
			t.Fatalf("value %q not in header %q", v, header)
		}
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		if c, err := r.Cookie("session"); err == nil && !bad && v != "" && c.Value != "" && c.Value != v {
			t.Fatalf("net/http reads %q, CookieValue %q", c.Value, v)
		}
	})
}

func TestHashToken(t *testing.T) {
	for _, tok := range []string{"", "short", strings.Repeat("a", 43), strings.Repeat("b", 64), strings.Repeat("c", 65)} {
		sum := sha256.Sum256([]byte(tok))
		if got, want := HashToken(tok), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("HashToken(%d bytes) = %q; want %q", len(tok), got, want)
		}
	}
}

// TestNowFollowsTheClock checks Now against time.Now on both clocks: its
// monotonic reading lies between two time.Now readings taken around it,
// exactly, and so does its wall reading, within slack: time.Now reads the
// wall and the monotonic clock one after the other, so an anchor taken by
// a thread the OS paused between the two reads is off by that pause.
func TestNowFollowsTheClock(t *testing.T) {
	const slack = 100 * time.Millisecond
	for i := 0; i < 2000; i++ {
		before := time.Now()
		got := Now()
		after := time.Now()
		if got.Before(before) || got.After(after) {
			t.Fatalf("monotonic: Now() = %v, not within [%v, %v]", got, before, after)
		}
		gw, bw, aw := got.Round(0), before.Round(0), after.Round(0)
		if gw.Before(bw.Add(-slack)) || gw.After(aw.Add(slack)) {
			t.Fatalf("wall: Now() = %v, not within [%v, %v] (±%v)", gw, bw, aw, slack)
		}
		if i == 1000 {
			// Force a re-anchor on the next call.
			old := time.Now().Add(-2 * ReanchorEvery)
			anchor.Store(&old)
		}
	}
	if a := anchor.Load(); a == nil || time.Since(*a) >= ReanchorEvery {
		t.Fatalf("anchor %v was not renewed", a)
	}
}
