package loginkit

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeSessionCookie checks that the session cookie decoder never
// panics and accepts only values the manager could have issued.
func FuzzDecodeSessionCookie(f *testing.F) {
	tok, _ := newSessionToken()
	for _, s := range []string{tok, "", "x", strings.Repeat("A", 43), strings.Repeat("A", 44), tok[:42] + "=", tok[:42] + "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		key, err := decodeSessionCookie(v)
		if err != nil {
			if key != "" {
				t.Fatalf("error with a key: %q", key)
			}
			return
		}
		if len(v) != sessionTokenLen || !isBase64URL(v) {
			t.Fatalf("accepted a value the manager never issues: %q", v)
		}
		if key != hashToken(v) || len(key) != 43 {
			t.Fatalf("key %q is not the token's hash", key)
		}
	})
}

// FuzzParseRememberCookie checks the remember cookie parser.
func FuzzParseRememberCookie(f *testing.F) {
	_, _, cookie := newSplitToken()
	for _, s := range []string{cookie, "", ".", cookie[:22], cookie + "x", strings.Replace(cookie, ".", ":", 1), "a.b", strings.Repeat(".", 66)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		sel, val, err := parseSplitToken(v)
		if err != nil {
			if sel != "" || val != "" {
				t.Fatal("error with parts")
			}
			return
		}
		if sel+"."+val != v || len(sel) != selectorLen || len(val) != validatorLen || !isBase64URL(sel) || !isBase64URL(val) {
			t.Fatalf("accepted %q as %q . %q", v, sel, val)
		}
	})
}

// FuzzSafeNext checks that every redirect target SafeNext accepts stays on
// this site however a browser reads it.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/account?x=1#top", "//evil.example", "/\\evil.example", "https://evil.example",
		"javascript:alert(1)", "/%2F%2Fevil.example", "/%5cevil", "/\t/evil", " /x", "/x\x00", "/%zz", "/é/ü?q=ä b",
		"/.%2e/%2e%2e/admin", "%2F%2Fevil", "/@evil.example", "/a//b", "\\\\evil", "/..//evil.example", "/a/./b?x=/../"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got, ok := SafeNext(next)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q but returned %q", next, got)
			}
			return
		}
		if got != next {
			t.Fatalf("accepted %q but returned %q", next, got)
		}
		// Browsers strip tabs and newlines and read '\' as '/'.
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		if !strings.HasPrefix(browser, "/") || strings.HasPrefix(browser, "//") {
			t.Fatalf("%q reads as another host in a browser", got)
		}
		u, err := url.Parse(browser)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("%q parses with a host or scheme: %v", got, err)
		}
		if dec, err := url.PathUnescape(got); err != nil || strings.HasPrefix(dec, "//") || strings.Contains(dec, "\\") {
			t.Fatalf("%q decodes to a host-relative target %q", got, dec)
		}
		// A later RFC 3986 dot-segment normalisation keeps it on site.
		if ref := (&url.URL{Scheme: "https", Host: "site.example"}).ResolveReference(u); ref.Host != "site.example" {
			t.Fatalf("%q resolves to host %q", got, ref.Host)
		}
		for seg := range strings.SplitSeq(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q keeps a dot segment", got)
			}
		}
	})
}

// FuzzCookieValue checks the allocation-free Cookie header reader against
// net/http's own parser: whenever net/http finds the cookie with a valid
// value, cookieValue returns the same value, and it never returns a value
// holding bytes a cookie may not hold.
func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"session=abc", "a=1; session=xyz; b=2", `session="quoted"`, "session=é", "session=a b", "session=", "session", ";;session=v;", "x=1;session=" + strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		got, bad := cookieValue(r, "session")
		if bad && got != "" {
			t.Fatalf("bad cookie with a value %q", got)
		}
		for i := 0; i < len(got); i++ {
			if b := got[i]; b <= 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' || b == ',' {
				t.Fatalf("returned value %q holds byte %q", got, b)
			}
		}
		if ck, err := r.Cookie("session"); err == nil && ck.Value != "" && len(ck.Value) <= MaxCookieBytes && !strings.ContainsAny(ck.Value, " ,") {
			if got != ck.Value {
				t.Fatalf("header %q: cookieValue = %q (bad %v), net/http = %q", header, got, bad, ck.Value)
			}
		}
	})
}

// FuzzSafeNextAllowedHosts checks SafeNext with an allowed host: every
// target it accepts is either a local path (as FuzzSafeNext requires) or
// an http(s) URL whose host, as url.Parse and a browser read it, is the
// allowed host, without user information, and whose path stays on it
// after dot-segment normalisation and one percent-decoding.
func FuzzSafeNextAllowedHosts(f *testing.F) {
	const allowed = "app.example:8443"
	for _, s := range []string{"https://app.example:8443/x?y=1#z", "http://APP.example:8443", "https://app.example:8443?q",
		"https://app.example/x", "https://app.example:8443@evil.example/", "https://evil.example/?app.example:8443",
		"https://app.example:8443\\@evil.example", "https://app.example:8443/..//evil.example", "https://app.example:8443/%2F%2Fevil",
		"https://app.example:8443%2F@evil.example", "https:/app.example:8443/x", "https:\\\\app.example:8443/x",
		"//app.example:8443/x", "https://app.example:8443#@evil.example", "https://[::1]:8443/x", "/local?next=https://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got, ok := SafeNext(next, allowed)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q but returned %q", next, got)
			}
			return
		}
		if got != next {
			t.Fatalf("accepted %q but returned %q", next, got)
		}
		if local, _ := SafeNext(next); local == next {
			return // a local path, checked by FuzzSafeNext
		}
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		if browser != got {
			t.Fatalf("%q holds bytes a browser strips or rewrites", got)
		}
		u, err := url.Parse(got)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
			t.Fatalf("%q: scheme %q, err %v", got, u.Scheme, err)
		}
		if !strings.EqualFold(u.Host, allowed) || u.User != nil || u.Opaque != "" {
			t.Fatalf("%q: host %q, user %v, opaque %q; want host %s", got, u.Host, u.User, u.Opaque, allowed)
		}
		base := &url.URL{Scheme: "https", Host: allowed}
		if ref := base.ResolveReference(u); !strings.EqualFold(ref.Host, allowed) {
			t.Fatalf("%q resolves to host %q", got, ref.Host)
		}
		if dec, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(dec, "//") || strings.Contains(dec, "\\") {
			t.Fatalf("%q: path decodes to %q", got, dec)
		}
	})
}

// TestHashSchemeDropsSaltsAndDigests checks the scheme names the timing
// padding groups failed logins by: parameters kept, salts and digests
// dropped, so that users of one scheme and cost share one entry.
func TestHashSchemeDropsSaltsAndDigests(t *testing.T) {
	for in, want := range map[string]string{
		"scrypt:32768:8:1$AsWu75Dfkd88X4oH$10cdb977e265fac8a41efa44cb":         "scrypt:32768:8:1",
		"pbkdf2_sha256$260000$Xp4XatE7CmkE6uycz90TB7$vn1PFwgk1MBdk/pG":         "pbkdf2_sha256$260000",
		"$2b$10$QvTE67lhGnvHrNbOJEeBkegtXHYAGKWob6BZTPRqwCnk.JnFA3Pxy":         "$2b$10",
		"$argon2id$v=19$m=65536,t=4,p=1$N2Jhb1R1WEJxSUdPZDJFUw$gfwGLvabcdefgh": "$argon2id$v=19$m=65536,t=4,p=1",
		"scrypt$16384$cwqQKSAnOOjK0az0ubKfH0$8$1$KsbO/sYnSRdv9RSviFmG":         "scrypt$16384$8$1",
	} {
		if got := hashScheme(in); got != want {
			t.Errorf("hashScheme(%q) = %q, want %q", in, got, want)
		}
	}
	if a, b := hashScheme("$2b$12$"+strings.Repeat("a", 53)), hashScheme("$2b$12$"+strings.Repeat("b", 53)); a != b {
		t.Errorf("two bcrypt-12 hashes have different schemes: %q, %q", a, b)
	}
}

// TestFailureFloorIgnoresOneOutlier checks that one slow failure (a GC
// pause, a burst of load) does not raise the padding of every failed
// login, while a lasting change does within a few failures, and that the
// slowest scheme sets the floor.
func TestFailureFloorIgnoresOneOutlier(t *testing.T) {
	var f failureTiming
	now := time.Now()
	for range 4 {
		f.observe("fast", 10*time.Millisecond, now)
	}
	f.observe("fast", 5*time.Second, now)
	if got := f.floor(now); got != 10*time.Millisecond {
		t.Fatalf("floor after one outlier = %v, want 10ms", got)
	}
	for range 3 {
		f.observe("fast", 100*time.Millisecond, now)
	}
	if got := f.floor(now); got != 100*time.Millisecond {
		t.Fatalf("floor after a lasting slowdown = %v, want 100ms", got)
	}
	f.observe("slow", 300*time.Millisecond, now)
	if got := f.floor(now); got != 300*time.Millisecond {
		t.Fatalf("floor with a slower scheme = %v, want 300ms", got)
	}
	if got := f.floor(now.Add(8 * 24 * time.Hour)); got != 0 {
		t.Fatalf("floor after a week without failures = %v, want 0", got)
	}
}
