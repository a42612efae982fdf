package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/conformance"
	"github.com/loginkit/loginkit/internal/testenv"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

var _ loginkit.UserUpdater[*conformance.Member] = (*sqlstore.Users[conformance.Member, *conformance.Member])(nil)

// countFailures has racers goroutines each add one to the user's
// FailedLogins through UpdateUser at once, and checks that every call
// succeeded, that the calls took turns (each saw the count the previous
// one stored, so they returned 1 to racers, each once) and that the
// stored count is racers.
func countFailures(t *testing.T, us *sqlstore.Users[conformance.Member, *conformance.Member], id string, racers int) {
	t.Helper()
	ctx := context.Background()
	got := make([]int, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			u, err := us.UpdateUser(ctx, id, func(u *conformance.Member) error {
				u.FailedLogins++
				return nil
			})
			errs[i] = err
			if err == nil {
				got[i] = u.FailedLogins
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("UpdateUser: %v", err)
		}
	}
	slices.Sort(got)
	for i, n := range got {
		if n != i+1 {
			t.Errorf("the %d concurrent UpdateUser calls returned counts %v; want 1 to %d, each once", racers, got, racers)
			break
		}
	}
	u, err := us.LoadUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.FailedLogins != racers {
		t.Errorf("stored FailedLogins = %d after %d concurrent increments; want %d", u.FailedLogins, racers, racers)
	}
}

// TestUpdateUser checks UpdateUser on every database: concurrent calls
// take turns, a refused change stores nothing, and the result obeys
// Update's rules.
func TestUpdateUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		us := freshUsers(t, b)
		ctx := context.Background()
		ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com", Username: "ann"}, DisplayName: "Ann"}
		bob := &conformance.Member{Account: loginkit.Account{Email: "bob@example.com", Username: "bob"}}
		for _, u := range []*conformance.Member{ann, bob} {
			if err := us.Create(ctx, u); err != nil {
				t.Fatal(err)
			}
		}

		countFailures(t, us, ann.ID, 20)

		// The keys follow the changed email and username.
		u, err := us.UpdateUser(ctx, ann.ID, func(u *conformance.Member) error {
			u.Email, u.Username, u.DisplayName = " Ann2@Example.COM", "Annie", "Annie"
			return nil
		})
		if err != nil || u.EmailKey != "ann2@example.com" || u.UsernameKey != "annie" {
			t.Fatalf("UpdateUser changing email and username: %+v, %v", u, err)
		}
		if found, err := us.FindByLogin(ctx, "ANNIE"); err != nil || found.ID != ann.ID || found.DisplayName != "Annie" || found.FailedLogins != 20 {
			t.Errorf("FindByLogin after UpdateUser: %+v, %v; want ann with DisplayName Annie and FailedLogins 20", found, err)
		}
		if _, err := us.FindByLogin(ctx, "ann@example.com"); !errors.Is(err, loginkit.ErrNotFound) {
			t.Errorf("FindByLogin of the old email: %v; want ErrNotFound", err)
		}

		// Every refusal leaves the stored user as it was.
		before, err := us.LoadUser(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		errBoom := errors.New("boom")
		for _, c := range []struct {
			name   string
			change func(u *conformance.Member) error
			want   error
		}{
			{"change error", func(u *conformance.Member) error { u.Disabled = true; return errBoom }, errBoom},
			{"wrapped change error", func(u *conformance.Member) error { u.Disabled = true; return errors.Join(errBoom, loginkit.ErrInvalid) }, errBoom},
			{"taken email", func(u *conformance.Member) error { u.Disabled = true; u.Email = "BOB@example.com"; return nil }, loginkit.ErrDuplicate},
			{"taken username", func(u *conformance.Member) error { u.Disabled = true; u.Username = " Bob"; return nil }, loginkit.ErrDuplicate},
			{"email without @", func(u *conformance.Member) error { u.Disabled = true; u.Email = "ann"; return nil }, loginkit.ErrInvalid},
			{"username with @", func(u *conformance.Member) error { u.Disabled = true; u.Username = "a@b"; return nil }, loginkit.ErrInvalid},
			{"altered ID", func(u *conformance.Member) error { u.Disabled = true; u.ID = bob.ID; return nil }, loginkit.ErrInvalid},
		} {
			u, err := us.UpdateUser(ctx, ann.ID, c.change)
			if !errors.Is(err, c.want) || u != nil {
				t.Errorf("%s: UpdateUser returned %v, %v; want nil, %v", c.name, u, err, c.want)
			}
			for _, id := range []string{ann.ID, bob.ID} {
				if u, err := us.LoadUser(ctx, id); err != nil || u.Disabled {
					t.Errorf("%s: user %s is now %+v, %v; want it unchanged", c.name, id, u, err)
				}
			}
		}
		if after, err := us.LoadUser(ctx, ann.ID); err != nil || after.Email != before.Email || after.Username != before.Username {
			t.Errorf("after refused changes: %+v, %v; want %+v", after, err, before)
		}

		// A missing user, an empty ID or a done context: change never runs.
		var calls atomic.Int32
		count := func(u *conformance.Member) error { calls.Add(1); return nil }
		for _, id := range []string{"", "nobody"} {
			if u, err := us.UpdateUser(ctx, id, count); !errors.Is(err, loginkit.ErrNotFound) || u != nil {
				t.Errorf("UpdateUser(%q): %v, %v; want nil, ErrNotFound", id, u, err)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := us.UpdateUser(cctx, ann.ID, count); !errors.Is(err, context.Canceled) {
			t.Errorf("UpdateUser with a cancelled context: %v; want context.Canceled", err)
		}
		if n := calls.Load(); n != 0 {
			t.Errorf("change ran %d times for a missing user or a done context; want 0", n)
		}
	})
}

// TestUpdateUserServerSerializable checks that UpdateUser does not depend
// on the PostgreSQL server's default isolation level: with connections
// whose transactions are SERIALIZABLE by default, a transaction waiting
// for the row lock would fail with a serialization error once the holder
// commits, so UpdateUser asks for READ COMMITTED itself and concurrent
// calls all succeed.
func TestUpdateUserServerSerializable(t *testing.T) {
	raw := testenv.Require(t, testenv.PostgresURL)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_transaction_isolation", "serializable") // a run-time parameter for pgx
	u.RawQuery = q.Encode()
	db, err := sqlstore.OpenPostgres(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var level string
	if err := db.QueryRowContext(context.Background(), "SHOW default_transaction_isolation").Scan(&level); err != nil || level != "serializable" {
		t.Fatalf("default_transaction_isolation = %q, %v; want serializable", level, err)
	}
	prefix := newPrefix()
	opt := sqlstore.WithPrefix(prefix)
	migrate(t, db, prefix, opt)
	us := sqlstore.NewUsers[conformance.Member](db, opt)
	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}}
	if err := us.Create(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	countFailures(t, us, ann.ID, 20)
}

// TestUpdateUserSQLiteDeferred checks UpdateUser on a SQLite database the
// application opened itself, whose transactions begin DEFERRED (taking
// the write lock only at their first write): UpdateUser writes before it
// reads, so concurrent calls wait for each other's lock instead of
// failing when one upgrades from reading to writing.
func TestUpdateUserSQLiteDeferred(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sqldb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	sqldb.SetMaxOpenConns(8)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	t.Cleanup(func() { _ = db.Close() })
	migrate(t, db, sqlstore.DefaultPrefix)
	us := sqlstore.NewUsers[conformance.Member](db)
	ann := &conformance.Member{Account: loginkit.Account{Email: "ann@example.com"}}
	if err := us.Create(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	countFailures(t, us, ann.ID, 20)
}
