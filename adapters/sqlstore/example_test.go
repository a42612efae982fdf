package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
)

// Staff is an application's user model: the Account the library needs,
// plus columns of the application's own, which the store keeps too.
type Staff struct {
	loginkit.Account
	IsAdmin    bool      `bun:"is_admin"`
	Nickname   string    `bun:"nickname"`
	Department string    `bun:"department"`
	HiredOn    time.Time `bun:"hired_on,nullzero"`
}

// This example keeps users of a custom model, with extra columns, and
// their sessions in a SQLite file: it creates the tables, registers a
// user, refuses a second registration of the same address written
// differently, finds the user by login name with its own fields, changes
// one field atomically, and logs the user out everywhere.
func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlstore.OpenSQLite(filepath.Join(dir, "app.db")) // or sqlstore.OpenPostgres(url)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	// Creates loginkit_users (with Staff's columns), loginkit_sessions and
	// loginkit_tokens; safe to run at every start.
	if err := sqlstore.Migrate[Staff](ctx, db); err != nil {
		log.Fatal(err)
	}
	users := sqlstore.NewUsers[Staff](db) // a loginkit.UserStore[*Staff]
	sessions := sqlstore.NewSessions(db)

	ann := &Staff{
		Account:    loginkit.Account{Email: "Ann@Example.com", Username: "ann"},
		IsAdmin:    true,
		Nickname:   "Annie",
		Department: "Ops",
		HiredOn:    time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	if err := users.Create(ctx, ann); err != nil {
		log.Fatal(err)
	}
	err = users.Create(ctx, &Staff{Account: loginkit.Account{Email: " ann@EXAMPLE.com"}})
	fmt.Println("second ann:", err)

	found, err := users.FindByLogin(ctx, "ANN")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", found.Email, found.Nickname, found.Department, found.IsAdmin, found.HiredOn.Format(time.DateOnly))

	// Change the stored user, not a copy loaded earlier: concurrent
	// UpdateUser calls on one user take turns, so none undoes another.
	moved, err := users.UpdateUser(ctx, ann.ID, func(u *Staff) error {
		u.Department = "Security"
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("moved:", moved.Nickname, moved.Department)

	now := time.Now()
	for _, key := range []string{"laptop", "phone"} {
		s := &loginkit.Session{Key: key, UserID: ann.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := sessions.Save(ctx, s); err != nil {
			log.Fatal(err)
		}
	}
	n, err := sessions.DeleteByUser(ctx, ann.ID, "")
	if err != nil {
		log.Fatal(err)
	}
	_, err = sessions.Get(ctx, "phone")
	fmt.Println("logged out everywhere:", n, "sessions;", err)

	// Expired sessions and tokens stay in their tables until swept; an
	// application runs this from time to time (a time.Ticker, a cron job).
	if _, err := sessions.DeleteExpired(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// second ann: sqlstore: create user: email already taken: loginkit: duplicate
	// found: Ann@Example.com Annie Ops true 2021-03-01
	// moved: Annie Security
	// logged out everywhere: 2 sessions; sqlstore: get session: loginkit: not found
}
