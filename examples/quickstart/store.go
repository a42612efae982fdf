package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/policies"
)

// openSQLite opens (creating it if needed) the SQLite database at path,
// brings its schema up to date, and returns the three stores on it and a
// function that closes the database.
func openSQLite(ctx context.Context, path string) (Stores, func(), error) {
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		return Stores{}, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := sqlstore.Migrate[User](ctx, db); err != nil {
		db.Close()
		return Stores{}, nil, fmt.Errorf("migrating %s: %w", path, err)
	}
	st := Stores{
		Users:    sqlstore.NewUsers[User](db),
		Sessions: sqlstore.NewSessions(db),
		Tokens:   sqlstore.NewTokens(db),

		SecondFactors: sqlstore.NewSecondFactors(db),
	}
	return st, func() { _ = db.Close() }, nil
}

// defaultHasher is the password hasher of the app: argon2id for new
// passwords, and every format package hashers reads for imported ones,
// which are re-hashed with argon2id at the user's first login.
func defaultHasher() loginkit.Hasher { return hashers.Default() }

// After lockoutAfter failed passwords in a row, an account refuses logins
// for lockoutFor.
const (
	lockoutAfter = 5
	lockoutFor   = 15 * time.Minute
)

// defaultPolicies are the login policies of the app: the lockout above,
// each failure counted when it comes within lockoutFor of the previous.
func defaultPolicies() []loginkit.Policy {
	return []loginkit.Policy{policies.Lockout(lockoutAfter, lockoutFor, lockoutFor)}
}

// identifyHash names the scheme of an encoded password hash from another
// system, or explains why it cannot be used.
func identifyHash(encoded string) (string, error) {
	if encoded == "" {
		return "", errors.New("no password hash")
	}
	scheme, err := hashers.Identify(encoded)
	if err == nil {
		return scheme, nil
	}
	// Keep the last, most specific part of the hashers' message.
	detail := err.Error()
	if i := strings.LastIndex(detail, ": "); i >= 0 {
		detail = detail[i+2:]
	}
	if errors.Is(err, hashers.ErrRefusedScheme) {
		return "", fmt.Errorf("%s password hash refused: %s", scheme, detail)
	}
	if errors.Is(err, loginkit.ErrUnsafeHashParams) {
		return "", fmt.Errorf("%s password hash with parameters out of the safe range (%s)", scheme, detail)
	}
	return "", fmt.Errorf("unknown or malformed password hash (%s)", detail)
}
