package loginkit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/adapters/mongostore"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/passkey"
	"github.com/loginkit/loginkit/recovery"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
	"github.com/loginkit/loginkit/twofactor"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// noPanic runs f and fails the test if it panics: bad input to an
// exported function gets an error, and only functions named Must... may
// panic.
func noPanic(t *testing.T, what string, f func() error) error {
	t.Helper()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("%s panicked: %v", what, p)
			}
		}()
		err = f()
	}()
	return err
}

// TestConstructorsRefuseBadOptions walks the constructors and options of
// every package with bad input and checks that each answers with an error
// (matching loginkit.ErrConfig for store options, so that Build reports
// them) and never panics. No server is needed: the stores refuse before
// sending anything.
func TestConstructorsRefuseBadOptions(t *testing.T) {
	ctx := context.Background()

	// hashers: New checks its options; Must is the only panicking form.
	for _, c := range []struct {
		scheme string
		opts   []hashers.Option
	}{
		{"md5", nil},
		{hashers.SchemeBcrypt, []hashers.Option{hashers.Cost(3)}},
		{hashers.SchemeBcrypt, []hashers.Option{hashers.Cost(40)}},
		{hashers.SchemeBcrypt, []hashers.Option{hashers.Memory(1024)}}, // not a bcrypt option
		{hashers.SchemeArgon2id, []hashers.Option{hashers.Memory(1)}},
		{hashers.SchemeArgon2id, []hashers.Option{hashers.Parallelism(0)}},
		{hashers.SchemeArgon2id, []hashers.Option{hashers.Iterations(-1)}},
		{hashers.SchemeScrypt, []hashers.Option{hashers.Cost(0)}},
		{hashers.SchemeScrypt, []hashers.Option{hashers.BlockSize(0)}},
		{hashers.SchemePBKDF2SHA256, []hashers.Option{hashers.Iterations(0)}},
		{hashers.SchemePBKDF2SHA512, []hashers.Option{hashers.Concurrency(0)}},
		{hashers.SchemePBKDF2SHA512, []hashers.Option{hashers.MaxPasswordBytes(-1)}},
	} {
		what := fmt.Sprintf("hashers.New(%q, %d options)", c.scheme, len(c.opts))
		if err := noPanic(t, what, func() error { _, err := hashers.New(c.scheme, c.opts...); return err }); err == nil {
			t.Errorf("%s: no error", what)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("hashers.Must with an error did not panic")
			}
		}()
		hashers.Must(hashers.New(hashers.SchemeBcrypt, hashers.Cost(3)))
	}()

	// Store options: each adapter refuses a bad prefix in the same way, with
	// an ErrConfig from CheckConfig, from Migrate, from every method and
	// from Build.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "bad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mc, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/").SetTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	mdb := mc.Database("bad")

	type stores struct {
		users    loginkit.UserStore[*conformance.Member]
		sessions loginkit.SessionStore
		tokens   loginkit.TokenStore
		factors  loginkit.SecondFactorStore
		migrate  func() error
	}
	adapters := map[string]struct {
		bad  []string
		make func(prefix string) stores
	}{
		"redisstore": {[]string{"{app}:", "app}", "a{"}, func(p string) stores {
			o := redisstore.WithPrefix(p)
			return stores{redisstore.NewUsers[conformance.Member](rdb, o), redisstore.NewSessions(rdb, o), redisstore.NewTokens(rdb, o), redisstore.NewSecondFactors(rdb, o), nil}
		}},
		"sqlstore": {[]string{"App_", "1a_", "a-b", `a"b`, "a;drop", strings.Repeat("a", 33)}, func(p string) stores {
			o := sqlstore.WithPrefix(p)
			return stores{sqlstore.NewUsers[conformance.Member](db, o), sqlstore.NewSessions(db, o), sqlstore.NewTokens(db, o), sqlstore.NewSecondFactors(db, o),
				func() error { return sqlstore.Migrate[conformance.Member](ctx, db, o) }}
		}},
		"mongostore": {[]string{"a$b", "a\x00", "system.x", "\xff", strings.Repeat("a", 65)}, func(p string) stores {
			o := mongostore.WithPrefix(p)
			return stores{mongostore.NewUsers[conformance.Member](mdb, o), mongostore.NewSessions(mdb, o), mongostore.NewTokens(mdb, o), mongostore.NewSecondFactors(mdb, o),
				func() error { return mongostore.Migrate(ctx, mdb, o) }}
		}},
	}
	for name, a := range adapters {
		for _, p := range a.bad {
			what := fmt.Sprintf("%s.WithPrefix(%q)", name, p)
			var s stores
			noPanic(t, what, func() error { s = a.make(p); return nil })
			if s.users == nil {
				continue
			}
			for store, v := range map[string]any{"users": s.users, "sessions": s.sessions, "tokens": s.tokens, "second factors": s.factors} {
				cc, ok := v.(loginkit.ConfigChecker)
				if !ok {
					t.Errorf("%s: the %s store is no ConfigChecker", what, store)
					continue
				}
				if err := cc.CheckConfig(); !errors.Is(err, loginkit.ErrConfig) {
					t.Errorf("%s: %s CheckConfig = %v; want ErrConfig", what, store, err)
				}
			}
			calls := map[string]func() error{
				"Users.LoadUser": func() error { _, err := s.users.LoadUser(ctx, "x"); return err },
				"Users.Create":   func() error { return s.users.Create(ctx, &conformance.Member{}) },
				"Sessions.Get":   func() error { _, err := s.sessions.Get(ctx, "x"); return err },
				"Sessions.Save": func() error {
					return s.sessions.Save(ctx, &loginkit.Session{Key: "x", ExpiresAt: time.Now().Add(time.Hour)})
				},
				"Tokens.Consume":      func() error { _, err := s.tokens.Consume(ctx, "x"); return err },
				"Tokens.DeleteByUser": func() error { _, err := s.tokens.DeleteByUser(ctx, "u", ""); return err },
				"SecondFactors.Get":   func() error { _, err := s.factors.GetSecondFactor(ctx, "u"); return err },
			}
			if s.migrate != nil {
				calls["Migrate"] = s.migrate
			}
			for call, f := range calls {
				if err := noPanic(t, what+" "+call, f); !errors.Is(err, loginkit.ErrConfig) {
					t.Errorf("%s: %s = %v; want ErrConfig", what, call, err)
				}
			}
			_, err := loginkit.New[*conformance.Member]().Users(s.users).Sessions(s.sessions).Tokens(s.tokens).
				Hasher(hashers.Default()).Build()
			if !errors.Is(err, loginkit.ErrConfig) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: Build = %v; want ErrConfig naming the adapter", what, err)
			}
			_, err = loginkit.New[*conformance.Member]().Users(memstore.NewUsers[conformance.Member]()).
				Sessions(memstore.NewSessions()).Tokens(memstore.NewTokens()).Hasher(hashers.Default()).
				SecondFactor(s.factors, loginkit.SecondFactorOptions{Key: make([]byte, 32), Issuer: "test"}).Build()
			if !errors.Is(err, loginkit.ErrConfig) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: Build with the second-factor store = %v; want ErrConfig naming the adapter", what, err)
			}
		}
	}

	// cookiestore.New and its options.
	key := make([]byte, cookiestore.KeySize)
	for what, f := range map[string]func() error{
		"short key":      func() error { _, err := cookiestore.New(key[:5]); return err },
		"nil key":        func() error { _, err := cookiestore.New(nil); return err },
		"short old key":  func() error { _, err := cookiestore.New(key, cookiestore.WithOldKeys([]byte("x"))); return err },
		"nil clock":      func() error { _, err := cookiestore.New(key, cookiestore.WithClock(nil)); return err },
		"tiny max bytes": func() error { _, err := cookiestore.New(key, cookiestore.WithMaxBytes(1)); return err },
		"huge max bytes": func() error { _, err := cookiestore.New(key, cookiestore.WithMaxBytes(1<<30)); return err },
	} {
		if err := noPanic(t, "cookiestore.New with a "+what, f); !errors.Is(err, loginkit.ErrConfig) || !errors.Is(err, loginkit.ErrInvalid) {
			t.Errorf("cookiestore.New with a %s: %v; want an error matching ErrConfig and ErrInvalid", what, err)
		}
	}

	// mail: parsing and SMTP configuration.
	for what, f := range map[string]func() error{
		"ParseTemplate":        func() error { _, err := mail.ParseTemplate("{{", "", ""); return err },
		"ParseSMTPURL":         func() error { _, err := mail.ParseSMTPURL("::not a url"); return err },
		"NewSMTP without port": func() error { _, err := mail.NewSMTP(mail.SMTPConfig{Addr: "localhost"}); return err },
	} {
		if err := noPanic(t, "mail."+what, f); err == nil {
			t.Errorf("mail.%s with bad input: no error", what)
		}
	}

	// The feature packages: a nil manager, or one built without what the
	// feature needs, is ErrConfig.
	bare, err := loginkit.New[*conformance.Member]().Users(memstore.NewUsers[conformance.Member]()).Hasher(hashers.Default()).
		Sessions(memstore.NewSessions()).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	for what, f := range map[string]func() error{
		"recovery.New(nil)": func() error {
			_, err := recovery.New[*conformance.Member](nil, recovery.Options[*conformance.Member]{})
			return err
		},
		"recovery.New without a token store": func() error {
			_, err := recovery.New(bare, recovery.Options[*conformance.Member]{Mailer: &mail.Log{}, From: "a@example.com", BaseURL: "https://example.com"})
			return err
		},
		"passkey.New(nil)":                           func() error { _, err := passkey.New[*conformance.Member](nil); return err },
		"passkey.New without Builder.Passkeys":       func() error { _, err := passkey.New(bare); return err },
		"twofactor.New(nil)":                         func() error { _, err := twofactor.New[*conformance.Member](nil); return err },
		"twofactor.New without Builder.SecondFactor": func() error { _, err := twofactor.New(bare); return err },
	} {
		if err := noPanic(t, what, f); !errors.Is(err, loginkit.ErrConfig) {
			t.Errorf("%s: %v; want ErrConfig", what, err)
		}
	}

	// The builder: a store that needs none of this still builds.
	if _, err := loginkit.New[*conformance.Member]().Users(memstore.NewUsers[conformance.Member]()).
		Sessions(memstore.NewSessions()).Hasher(hashers.Default()).Build(); err != nil {
		t.Errorf("Build with memstore: %v", err)
	}
}
