package storekit

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

func TestVarintMatchesEncodingBinary(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 255, 300, 1<<14 - 1, 1 << 14, 1<<32 + 5, math.MaxInt64, math.MaxUint64} {
		got := AppendUvarint([]byte{0xAA}, v)
		want := binary.AppendUvarint([]byte{0xAA}, v)
		if string(got) != string(want) {
			t.Errorf("AppendUvarint(%d) = %x; want %x", v, got, want)
		}
		if UvarintLen(v) != len(want)-1 {
			t.Errorf("UvarintLen(%d) = %d; want %d", v, UvarintLen(v), len(want)-1)
		}
		for _, tail := range []string{"", "rest"} {
			if d, n := Uvarint(string(want[1:]) + tail); d != v || n != len(want)-1 {
				t.Errorf("Uvarint(string %x) = %d, %d", want[1:], d, n)
			}
			if d, n := Uvarint(append(want[1:len(want):len(want)], tail...)); d != v || n != len(want)-1 {
				t.Errorf("Uvarint(bytes %x) = %d, %d", want[1:], d, n)
			}
		}
	}
	for _, s := range []string{
		"",             // empty
		"\x80",         // truncated
		"\xff\xff",     // truncated
		"\x80\x00",     // not the shortest encoding of 0
		"\x81\x80\x00", // not the shortest encoding of 1
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02",     // overflows 64 bits
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", // eleven bytes
	} {
		if v, n := Uvarint(s); n != 0 || v != 0 {
			t.Errorf("Uvarint(%x) = %d, %d; want 0, 0", s, v, n)
		}
	}
	for _, v := range []int64{0, -1, 1, -2, math.MinInt64, math.MaxInt64} {
		if Unzigzag(Zigzag(v)) != v {
			t.Errorf("Unzigzag(Zigzag(%d)) = %d", v, Unzigzag(Zigzag(v)))
		}
	}
	if Zigzag(-1) != 1 || Zigzag(1) != 2 {
		t.Errorf("Zigzag(-1), Zigzag(1) = %d, %d; want 1, 2", Zigzag(-1), Zigzag(1))
	}
}

// FuzzUvarint checks the decoder against encoding/binary on any input: it
// never panics, agrees with binary.Uvarint on every value it accepts,
// accepts only shortest encodings, and re-encodes what it read to the same
// bytes.
func FuzzUvarint(f *testing.F) {
	for _, s := range []string{"", "\x00", "\x7f", "\x80\x01", "\x80\x00", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n := Uvarint(b)
		vs, ns := Uvarint(string(b))
		if v != vs || n != ns {
			t.Fatalf("bytes and string disagree: %d,%d vs %d,%d", v, n, vs, ns)
		}
		bv, bn := binary.Uvarint(b)
		if n == 0 {
			if v != 0 {
				t.Fatalf("refused input returned value %d", v)
			}
			if bn > 0 && string(binary.AppendUvarint(nil, bv)) == string(b[:bn]) {
				t.Fatalf("refused the shortest encoding %x of %d", b[:bn], bv)
			}
			return
		}
		if bn != n || bv != v {
			t.Fatalf("Uvarint(%x) = %d, %d; binary.Uvarint = %d, %d", b, v, n, bv, bn)
		}
		if string(AppendUvarint(nil, v)) != string(b[:n]) {
			t.Fatalf("accepted %x, which is not the shortest encoding of %d", b[:n], v)
		}
	})
}

func TestPage(t *testing.T) {
	for _, c := range []struct{ offset, limit, wantOffset, wantLimit int }{
		{0, 0, 0, 50}, {-5, -1, 0, 50}, {10, 20, 10, 20}, {0, 1000, 0, 1000}, {0, 1001, 0, 1000}, {3, 1 << 40, 3, 1000},
	} {
		o, l := Page(loginkit.ListOptions{Offset: c.offset, Limit: c.limit})
		if o != c.wantOffset || l != c.wantLimit {
			t.Errorf("Page(%d, %d) = %d, %d; want %d, %d", c.offset, c.limit, o, l, c.wantOffset, c.wantLimit)
		}
	}
}

func TestCreateWithID(t *testing.T) {
	var a loginkit.Account
	var seen string
	if err := CreateWithID(&a, func() error { seen = a.ID; return nil }); err != nil || len(seen) != 32 || a.ID != seen {
		t.Fatalf("CreateWithID: %v, ID seen %q, kept %q", err, seen, a.ID)
	}
	a.ID = ""
	fail := errors.New("insert failed")
	if err := CreateWithID(&a, func() error { seen = a.ID; return fail }); err != fail || seen == "" || a.ID != "" {
		t.Errorf("failed create: %v, ID seen %q, left %q", err, seen, a.ID)
	}
	a.ID = "mine"
	if err := CreateWithID(&a, func() error { return fail }); err != fail || a.ID != "mine" {
		t.Errorf("a given ID was changed or cleared: %q", a.ID)
	}
}

func TestErrs(t *testing.T) {
	const e = Errs("teststore")
	ctx := context.Background()
	for _, c := range []struct {
		err  error
		want error
		msg  string
	}{
		{e.NotFound("get"), loginkit.ErrNotFound, "teststore: get: "},
		{e.Invalid("save", "empty key"), loginkit.ErrInvalid, "teststore: save: empty key: "},
		{e.Duplicate("create", "email"), loginkit.ErrDuplicate, "teststore: create: email already taken: "},
		{e.Config("bad prefix %q", "{"), loginkit.ErrConfig, `teststore: bad prefix "{": `},
		{e.Wrap("load", loginkit.ErrNotFound), loginkit.ErrNotFound, "teststore: load: "},
		{e.Ready(ctx, "load", e.Config("bad")), loginkit.ErrConfig, "load: teststore: bad: "},
	} {
		if !errors.Is(c.err, c.want) || !strings.HasPrefix(c.err.Error(), c.msg) {
			t.Errorf("%v: want %v and a message starting %q", c.err, c.want, c.msg)
		}
	}
	if e.Wrap("x", nil) != nil || e.Ready(ctx, "x", nil) != nil {
		t.Error("nil error wrapped into non-nil")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.Ready(cancelled, "x", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Ready with a cancelled context = %v", err)
	}
	a := &loginkit.Account{Email: " Ann@Example.COM", Username: "ann"}
	if err := e.CheckAccount("create", a); err != nil || a.EmailKey != "ann@example.com" || a.UsernameKey != "ann" {
		t.Errorf("CheckAccount = %v, keys %q %q", err, a.EmailKey, a.UsernameKey)
	}
	if err := e.CheckAccount("create", &loginkit.Account{Username: "a@b"}); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("CheckAccount of a username with '@' = %v; want ErrInvalid", err)
	}
	var cfg Config
	cfg.Fail(errors.New("first"))
	cfg.Fail(errors.New("second"))
	if cfg.Err == nil || cfg.Err.Error() != "first" {
		t.Errorf("Config keeps %v; want the first error", cfg.Err)
	}
}

type member struct{ loginkit.Account }

func TestReadyPageAndLogin(t *testing.T) {
	const e = Errs("teststore")
	ctx := context.Background()
	if off, lim, err := e.ReadyPage(ctx, "list", nil, loginkit.ListOptions{Offset: -3, Limit: 5000}); err != nil || off != 0 || lim != MaxListLimit {
		t.Errorf("ReadyPage = %d, %d, %v; want 0, %d", off, lim, err, MaxListLimit)
	}
	if _, _, err := e.ReadyPage(ctx, "list", e.Config("bad"), loginkit.ListOptions{}); !errors.Is(err, loginkit.ErrConfig) {
		t.Errorf("ReadyPage with a config error = %v", err)
	}
	if k, err := e.ReadyLogin(ctx, "find", nil, " Ann@Example.COM "); err != nil || k != "ann@example.com" {
		t.Errorf("ReadyLogin = %q, %v", k, err)
	}
	if _, err := e.ReadyLogin(ctx, "find", nil, "  "); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("ReadyLogin of a blank login = %v; want ErrNotFound", err)
	}
}

func TestCheckChanged(t *testing.T) {
	const e = Errs("teststore")
	if err := e.CheckChanged("update", "id1", &loginkit.Account{ID: "id2"}); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("CheckChanged of an altered ID = %v; want ErrInvalid", err)
	}
	if err := e.CheckChanged("update", "id1", &loginkit.Account{ID: "id1", Username: "a@b"}); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("CheckChanged of a bad username = %v; want ErrInvalid", err)
	}
	a := &loginkit.Account{ID: "id1", Email: "Ann@Example.com"}
	if err := e.CheckChanged("update", "id1", a); err != nil || a.EmailKey != "ann@example.com" {
		t.Errorf("CheckChanged = %v, email key %q", err, a.EmailKey)
	}
}

func TestCreateUser(t *testing.T) {
	const e = Errs("teststore")
	ctx := context.Background()
	m := &member{loginkit.Account{Email: "A@B.example"}}
	var seen *loginkit.Account
	if err := CreateUser(ctx, e, "create", nil, m, func(a *loginkit.Account) error { seen = a; return nil }); err != nil ||
		seen != &m.Account || m.ID == "" || m.EmailKey != "a@b.example" {
		t.Errorf("CreateUser: %v, account %p of %p, ID %q, email key %q", err, seen, &m.Account, m.ID, m.EmailKey)
	}
	fail := errors.New("insert failed")
	n := &member{loginkit.Account{Email: "c@d.example"}}
	if err := CreateUser(ctx, e, "create", nil, n, func(*loginkit.Account) error { return fail }); err != fail || n.ID != "" {
		t.Errorf("CreateUser with a failing insert: %v, ID %q kept", err, n.ID)
	}
	called := false
	if err := CreateUser(ctx, e, "create", nil, &member{loginkit.Account{Username: "a@b"}}, func(*loginkit.Account) error { called = true; return nil }); !errors.Is(err, loginkit.ErrInvalid) || called {
		t.Errorf("CreateUser of a bad username: %v, insert called %v", err, called)
	}
}

func TestUserWriteAndReady(t *testing.T) {
	const e = Errs("teststore")
	ctx := context.Background()
	bad := e.Config("bad")
	if _, err := UserWrite(ctx, e, "create", bad, &member{}, true); !errors.Is(err, loginkit.ErrConfig) {
		t.Errorf("UserWrite with a config error = %v", err)
	}
	if _, err := UserWrite[member](ctx, e, "create", nil, nil, true); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("UserWrite(nil) = %v; want ErrInvalid", err)
	}
	if _, err := UserWrite(ctx, e, "update", nil, &member{}, false); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("UserWrite update without ID = %v; want ErrNotFound", err)
	}
	m := &member{loginkit.Account{Email: "A@B.example"}}
	if a, err := UserWrite(ctx, e, "create", nil, m, true); err != nil || a != &m.Account || a.EmailKey != "a@b.example" {
		t.Errorf("UserWrite = %v, %v", a, err)
	}
	if err := e.ReadyUser(ctx, "get", nil, ""); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("ReadyUser with no user ID = %v", err)
	}
	if err := e.ReadyKey(ctx, "get", nil, ""); !errors.Is(err, loginkit.ErrNotFound) {
		t.Errorf("ReadyKey with no key = %v", err)
	}
	if e.ReadyUser(ctx, "get", nil, "u") != nil || e.ReadyKey(ctx, "get", nil, "k") != nil {
		t.Error("Ready refused a good call")
	}
	if err := e.ReadyKey(ctx, "get", bad, "k"); !errors.Is(err, loginkit.ErrConfig) {
		t.Errorf("ReadyKey with a config error = %v", err)
	}
}

func TestApplyAndSetPrefix(t *testing.T) {
	type config struct{ Config }
	type option func(*config)
	good := option(func(c *config) { c.SetPrefix("ok_", nil) })
	badOpt := option(func(c *config) { c.SetPrefix("b@d", errors.New("bad prefix")) })
	c := Apply(config{Config{Prefix: "default_"}}, []option{nil, good})
	if c.Prefix != "ok_" || c.Err != nil {
		t.Errorf("Apply(good) = %+v", c)
	}
	c = Apply(config{Config{Prefix: "default_"}}, []option{badOpt, good})
	if c.Err == nil || c.Prefix != "ok_" {
		t.Errorf("Apply(bad, good) = %+v; want the error kept", c)
	}
	c = Apply(config{Config{Prefix: "default_"}}, []option{badOpt})
	if c.Prefix != "default_" {
		t.Errorf("a bad prefix was set: %+v", c)
	}
}

func TestRecordChecks(t *testing.T) {
	const e = Errs("teststore")
	ctx := context.Background()
	bad := e.Config("bad")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	pk := func(f func(*loginkit.Passkey)) *loginkit.Passkey {
		p := &loginkit.Passkey{CredentialID: []byte{1}, UserID: "u", PublicKey: []byte{2}}
		f(p)
		return p
	}
	keep := func(*loginkit.Passkey) {}
	for _, c := range []struct {
		name string
		err  error
		want error // nil: the call passes
	}{
		{"session ok", e.CheckSession(ctx, "save", nil, &loginkit.Session{Key: "k"}), nil},
		{"session nil", e.CheckSession(ctx, "save", nil, nil), loginkit.ErrInvalid},
		{"session no key", e.CheckSession(ctx, "save", nil, &loginkit.Session{}), loginkit.ErrInvalid},
		{"session config", e.CheckSession(ctx, "save", bad, &loginkit.Session{Key: "k"}), loginkit.ErrConfig},
		{"session cancelled", e.CheckSession(cancelled, "save", nil, &loginkit.Session{Key: "k"}), context.Canceled},
		{"token ok", e.CheckToken(ctx, "create", nil, &loginkit.Token{Selector: "s"}), nil},
		{"token nil", e.CheckToken(ctx, "create", nil, nil), loginkit.ErrInvalid},
		{"token no selector", e.CheckToken(ctx, "create", nil, &loginkit.Token{}), loginkit.ErrInvalid},
		{"token config", e.CheckToken(ctx, "create", bad, &loginkit.Token{Selector: "s"}), loginkit.ErrConfig},
		{"credential ok", e.ReadyCredential(ctx, "get", nil, []byte{1}), nil},
		{"credential empty", e.ReadyCredential(ctx, "get", nil, nil), loginkit.ErrInvalid},
		{"credential config", e.ReadyCredential(ctx, "get", bad, []byte{1}), loginkit.ErrConfig},
		{"own credential ok", e.ReadyOwnCredential(ctx, "rename", nil, "u", []byte{1}), nil},
		{"own credential no user", e.ReadyOwnCredential(ctx, "rename", nil, "", []byte{1}), loginkit.ErrInvalid},
		{"own credential no ID", e.ReadyOwnCredential(ctx, "rename", nil, "u", nil), loginkit.ErrInvalid},
		{"passkey ok", e.CheckPasskey(ctx, "create", nil, pk(keep)), nil},
		{"passkey nil", e.CheckPasskey(ctx, "create", nil, nil), loginkit.ErrInvalid},
		{"passkey no ID", e.CheckPasskey(ctx, "create", nil, pk(func(p *loginkit.Passkey) { p.CredentialID = nil })), loginkit.ErrInvalid},
		{"passkey no user", e.CheckPasskey(ctx, "create", nil, pk(func(p *loginkit.Passkey) { p.UserID = "" })), loginkit.ErrInvalid},
		{"passkey no key", e.CheckPasskey(ctx, "create", nil, pk(func(p *loginkit.Passkey) { p.PublicKey = nil })), loginkit.ErrInvalid},
		{"passkey config", e.CheckPasskey(ctx, "create", bad, pk(keep)), loginkit.ErrConfig},
		{"totp ok", e.CheckTOTP(ctx, "set", nil, "u", []byte{1}), nil},
		{"totp no secret", e.CheckTOTP(ctx, "set", nil, "u", nil), loginkit.ErrInvalid},
		{"totp no user", e.CheckTOTP(ctx, "set", nil, "", []byte{1}), loginkit.ErrInvalid},
		{"codes ok", e.CheckRecoveryCodes(ctx, "set", nil, "u", []string{"a", "b"}), nil},
		{"codes none", e.CheckRecoveryCodes(ctx, "set", nil, "u", nil), nil},
		{"codes empty hash", e.CheckRecoveryCodes(ctx, "set", nil, "u", []string{"a", ""}), loginkit.ErrInvalid},
		{"codes config", e.CheckRecoveryCodes(ctx, "set", bad, "u", nil), loginkit.ErrConfig},
	} {
		if c.want == nil && c.err != nil || c.want != nil && !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v; want %v", c.name, c.err, c.want)
		}
	}
	if !NoSecondFactor(&loginkit.SecondFactor{UserID: "u"}) ||
		NoSecondFactor(&loginkit.SecondFactor{TOTPSecret: []byte{1}}) ||
		NoSecondFactor(&loginkit.SecondFactor{RecoveryCodes: []string{"a"}}) {
		t.Error("NoSecondFactor is wrong")
	}
}

func TestTimes(t *testing.T) {
	zone := time.FixedZone("x", 3600)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, zone)
	if got := UTCOrZero(at); got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("UTCOrZero = %v", got)
	}
	if got := UTCOrZero(time.Time{}.In(zone)); got != (time.Time{}) {
		t.Errorf("UTCOrZero(zero) = %#v", got)
	}
	if MillisOrZero(time.Time{}) != 0 || TimeOrZero(0) != (time.Time{}) {
		t.Error("the zero time does not map to 0 and back")
	}
	if ms := MillisOrZero(at); ms != at.UnixMilli() || !TimeOrZero(ms).Equal(at) || TimeOrZero(ms).Location() != time.UTC {
		t.Errorf("MillisOrZero/TimeOrZero lose %v: %d %v", at, ms, TimeOrZero(ms))
	}
}

func TestSorts(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ss := []*loginkit.Session{{Key: "b", CreatedAt: t0}, {Key: "a", CreatedAt: t0}, {Key: "c", CreatedAt: t0.Add(time.Second)}}
	SortSessions(ss)
	if got := []string{ss[0].Key, ss[1].Key, ss[2].Key}; !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("SortSessions: %v", got)
	}
	ts := []*loginkit.Token{{Selector: "b", CreatedAt: t0}, {Selector: "a", CreatedAt: t0}, {Selector: "c", CreatedAt: t0.Add(time.Second)}}
	SortTokens(ts)
	if got := []string{ts[0].Selector, ts[1].Selector, ts[2].Selector}; !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("SortTokens: %v", got)
	}
	ps := []*loginkit.Passkey{{CredentialID: []byte("b"), CreatedAt: t0}, {CredentialID: []byte("c"), CreatedAt: t0.Add(-time.Second)}, {CredentialID: []byte("a"), CreatedAt: t0}}
	SortPasskeys(ps)
	if got := string(ps[0].CredentialID) + string(ps[1].CredentialID) + string(ps[2].CredentialID); got != "cab" {
		t.Errorf("SortPasskeys: %s", got)
	}
}

func TestDelete(t *testing.T) {
	const e = Errs("teststore")
	ctx := context.Background()
	ran := 0
	del := func() error { ran++; return e.NotFound("x") }
	if err := e.Delete(ctx, "delete", nil, "", del); err != nil || ran != 0 {
		t.Errorf("Delete of an empty key = %v after %d deletes; want nil after none", err, ran)
	}
	if err := e.Delete(ctx, "delete", e.Config("bad"), "k", del); !errors.Is(err, loginkit.ErrConfig) || ran != 0 {
		t.Errorf("Delete with a config error = %v after %d deletes; want ErrConfig after none", err, ran)
	}
	if err := e.Delete(ctx, "delete", nil, "k", del); !errors.Is(err, loginkit.ErrNotFound) || ran != 1 {
		t.Errorf("Delete = %v after %d deletes; want del's error after one", err, ran)
	}
}

func TestApplyChange(t *testing.T) {
	const e = Errs("teststore")
	boom := errors.New("boom")
	u := &member{}
	u.ID, u.Email = "1", "Ann@Example.COM"
	if _, err := ApplyChange(e, "update", "1", u, func(*member) error { return boom }); err != boom {
		t.Errorf("ApplyChange with a failing change = %v; want its error as it is", err)
	}
	a, err := ApplyChange(e, "update", "1", u, func(m *member) error { m.Username = "ann"; return nil })
	if err != nil || a != &u.Account || a.EmailKey != "ann@example.com" || a.UsernameKey != "ann" {
		t.Errorf("ApplyChange = %v, %v; want the user's account with its keys set", a, err)
	}
	if _, err := ApplyChange(e, "update", "1", u, func(m *member) error { m.ID = "2"; return nil }); !errors.Is(err, loginkit.ErrInvalid) {
		t.Errorf("ApplyChange of a change to the ID = %v; want ErrInvalid", err)
	}
}
