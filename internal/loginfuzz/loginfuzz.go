// Package loginfuzz holds the body of the fuzz test that every user store
// of this module runs: arbitrary bytes as email, username, password and
// login, through Manager.Register and Manager.Authenticate. Whatever the
// input, the answer is a success or one of the documented refusals
// (ErrInvalid, ErrDuplicate, ErrInvalidCredentials), never a store error,
// which an application would turn into a 5xx.
package loginfuzz

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// Seeds are inputs every fuzz run starts from (besides the corpus in
// the package's testdata/fuzz): NUL bytes, invisible, bidirectional and
// control characters, invalid UTF-8, look-alike '@', long names.
var Seeds = [][4]string{
	{"ann@example.com", "ann", "correct horse", "ann"},
	{"a\x00@example.com", "a\x00", "pw\x00", "a\x00"},
	{"", "adm\u200bin", "pw", "admin"},
	{"x@example.com", "ann\u202eevil", "p\u202ew", "ann\u202eevil"},
	{"\xff@example.com", "\xfe", "\xff", "\xff"},
	{"ann＠example.com", "ann＠home", "pässwörd", "ANN@EXAMPLE.COM"},
	{"Straße@example.com", "STRASSE", "cafe\u0301", "strasse"},
	{"", "", "", ""},
	{" \t@\n", "\t", "\r\n", " "},
	{strings.Repeat("a", 300) + "@example.com", strings.Repeat("b", 300), strings.Repeat("c", 300), strings.Repeat("b", 300)},
}

// Run fuzzes Register and Authenticate on the store that newStore
// returns (one store for the whole run: registrations accumulate, as in
// an application), with newUser making empty users of the store's type.
func Run[U loginkit.AccountUser](f *testing.F, newStore func(testing.TB) loginkit.UserStore[U], newUser func() U) {
	for _, s := range Seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	store := newStore(f)
	m, err := loginkit.New[U]().Users(store).Sessions(memstore.NewSessions()).Hasher(fastHasher{}).Build()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, email, username, password, login string) {
		ctx := context.Background()
		u := newUser()
		a := u.LoginAccount()
		a.Email, a.Username = email, username
		err := m.Register(ctx, u, password)
		registered := err == nil
		if err != nil && !errors.Is(err, loginkit.ErrInvalid) && !errors.Is(err, loginkit.ErrDuplicate) {
			t.Fatalf("Register(email %q, username %q, password %q): %v; want nil, ErrInvalid or ErrDuplicate", email, username, password, err)
		}
		for _, name := range []string{login, email, username} {
			got, err := m.Authenticate(ctx, name, password)
			switch {
			case err == nil:
				if got.LoginAccount().PasswordHash == "" {
					t.Fatalf("Authenticate(%q, %q) returned a user without a password", name, password)
				}
			case errors.Is(err, loginkit.ErrInvalidCredentials):
				if registered && name == username && loginkit.NormalizeLogin(username) != "" {
					t.Fatalf("Authenticate(%q, %q) right after registering that username and password: %v", name, password, err)
				}
			default:
				t.Fatalf("Authenticate(%q, %q): %v; want nil or ErrInvalidCredentials", name, password, err)
			}
		}
	})
}

// fastHasher is a cheap salted SHA-256 Hasher: the fuzz target tests the
// manager and the store, not password hashing.
type fastHasher struct{}

func (fastHasher) Hash(_ context.Context, pw string) (string, error) {
	salt := loginkit.NewID()[:8]
	sum := sha256.Sum256([]byte(salt + pw))
	return "fuzz$" + salt + "$" + hex.EncodeToString(sum[:]), nil
}

func (fastHasher) Verify(_ context.Context, pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 3 || parts[0] != "fuzz" {
		return false, loginkit.ErrUnknownHashFormat
	}
	sum := sha256.Sum256([]byte(parts[1] + pw))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(parts[2])) != 1 {
		return false, loginkit.ErrMismatch
	}
	return false, nil
}
