package storekit

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

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
