package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/uptrace/bun"
)

// sessionRow is a row of the <prefix>sessions table. Times are Unix
// milliseconds, so that expiry compares as integers on both databases.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	Key               string `bun:"key,pk"`
	UserID            string `bun:"user_id,notnull"`
	CreatedAt         int64  `bun:"created_at,notnull"`
	AuthenticatedAt   int64  `bun:"authenticated_at,notnull"`
	LastSeenAt        int64  `bun:"last_seen_at,notnull"`
	ExpiresAt         int64  `bun:"expires_at,notnull"`
	AbsoluteExpiresAt int64  `bun:"absolute_expires_at,notnull"`
	Fresh             bool   `bun:"fresh,notnull"`
	Remembered        bool   `bun:"remembered,notnull"`
	Version           int64  `bun:"version,notnull"`
	Fingerprint       string `bun:"fingerprint,notnull"`
	IP                string `bun:"ip,notnull"`
	UserAgent         string `bun:"user_agent,notnull"`
	// Data is the JSON encoding of Values: "" for nil, "{}" for empty.
	Data string `bun:"data,notnull"`
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func (r *sessionRow) fill(s *loginkit.Session) error {
	*r = sessionRow{
		Key:               s.Key,
		UserID:            s.UserID,
		CreatedAt:         toMillis(s.CreatedAt),
		AuthenticatedAt:   toMillis(s.AuthenticatedAt),
		LastSeenAt:        toMillis(s.LastSeenAt),
		ExpiresAt:         toMillis(s.ExpiresAt),
		AbsoluteExpiresAt: toMillis(s.AbsoluteExpiresAt),
		Fresh:             s.Fresh,
		Remembered:        s.Remembered,
		Version:           s.Version,
		Fingerprint:       s.Fingerprint,
		IP:                s.IP,
		UserAgent:         s.UserAgent,
	}
	if s.Values != nil {
		b, err := json.Marshal(s.Values)
		if err != nil {
			return err
		}
		r.Data = string(b)
	}
	return nil
}

func (r *sessionRow) session() (*loginkit.Session, error) {
	s := &loginkit.Session{
		Key:               r.Key,
		UserID:            r.UserID,
		CreatedAt:         fromMillis(r.CreatedAt),
		AuthenticatedAt:   fromMillis(r.AuthenticatedAt),
		LastSeenAt:        fromMillis(r.LastSeenAt),
		ExpiresAt:         fromMillis(r.ExpiresAt),
		AbsoluteExpiresAt: fromMillis(r.AbsoluteExpiresAt),
		Fresh:             r.Fresh,
		Remembered:        r.Remembered,
		Version:           r.Version,
		Fingerprint:       r.Fingerprint,
		IP:                r.IP,
		UserAgent:         r.UserAgent,
	}
	if r.Data != "" {
		if err := json.Unmarshal([]byte(r.Data), &s.Values); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Sessions is a loginkit.SessionStore in the <prefix>sessions table, which
// Migrate creates. The table is keyed by the session key, with indexes on
// user_id (ListByUser, DeleteByUser) and expires_at (DeleteExpired). Times
// are stored as Unix milliseconds, the precision the store keeps. A
// Sessions is safe for concurrent use.
//
// Expired sessions are never returned, but stay in the table until
// DeleteExpired (or DeleteByUser) removes them: run DeleteExpired from
// time to time, for example from a time.Ticker in a goroutine of the
// application, or from a cron job calling a small command.
type Sessions struct {
	expiring
}

// NewSessions returns a session store keeping its sessions in the
// <prefix>sessions table of db (see WithPrefix). It sends no query until
// first used.
func NewSessions(db *bun.DB, opts ...Option) *Sessions {
	return &Sessions{newExpiring(db, opts, config.sessionsTable, "s")}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (ss *Sessions) CheckConfig() error { return ss.err }

// Save inserts the session, or replaces every column of the one stored
// under s.Key: one INSERT ... ON CONFLICT DO UPDATE. A nil session or an
// empty Key is loginkit.ErrInvalid. Times are truncated to milliseconds.
func (ss *Sessions) Save(ctx context.Context, s *loginkit.Session) error {
	const op = "save session"
	if err := errs.CheckSession(ctx, op, ss.err, s); err != nil {
		return err
	}
	var r sessionRow
	if err := r.fill(s); err != nil {
		return wrap(ctx, op, err)
	}
	_, err := ss.db.NewInsert().Model(&r).ModelTableExpr(ss.tableExpr()).
		On("CONFLICT (?) DO UPDATE", bun.Ident("key")).
		Exec(ctx)
	return wrap(ctx, op, err)
}

// Touch replaces the session stored under s.Key with s, every column but
// the key, if and only if that session exists and has not expired: one
// UPDATE ... WHERE key = s.Key AND expires_at > now, so that it cannot
// bring back a session that a concurrent Delete removed. When no row
// matches, it stores nothing and returns loginkit.ErrNotFound. It
// implements loginkit.SessionToucher. A nil session is loginkit.ErrInvalid;
// an empty Key is loginkit.ErrNotFound. Times are truncated to
// milliseconds.
func (ss *Sessions) Touch(ctx context.Context, s *loginkit.Session) error {
	const op = "touch session"
	if err := errs.Ready(ctx, op, ss.err); err != nil {
		return err
	}
	if s == nil {
		return errs.Invalid(op, "nil session")
	}
	if err := errs.Ready(ctx, op, nil); err != nil {
		return err
	}
	if s.Key == "" {
		return errs.NotFound(op)
	}
	var r sessionRow
	if err := r.fill(s); err != nil {
		return wrap(ctx, op, err)
	}
	res, err := ss.db.NewUpdate().Model(&r).ModelTableExpr(ss.tableExpr()).
		ExcludeColumn("key").
		Where(`s."key" = ? AND s.expires_at > ?`, s.Key, ss.nowMillis()).
		Exec(ctx)
	return one(ctx, op, res, err)
}

// Get returns the session stored under key: one SELECT by primary key that
// also checks expires_at. A missing or expired session is
// loginkit.ErrNotFound.
func (ss *Sessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	const op = "get session"
	var r sessionRow
	if err := ss.getLive(ctx, op, &r, "key", key); err != nil {
		return nil, err
	}
	s, err := r.session()
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return s, nil
}

// Delete removes one session. Deleting a missing session is not an error.
func (ss *Sessions) Delete(ctx context.Context, key string) error {
	return ss.deleteKey(ctx, "delete session", "key", key)
}

// ListByUser returns the user's unexpired sessions, newest CreatedAt first
// (then by key, descending): one SELECT using the user_id index.
func (ss *Sessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	const op = "list sessions"
	var rows []sessionRow
	if err := ss.listLive(ctx, op, &rows, userID, "key", ""); err != nil {
		return nil, err
	}
	out := make([]*loginkit.Session, 0, len(rows))
	for i := range rows {
		s, err := rows[i].session()
		if err != nil {
			return nil, wrap(ctx, op, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// DeleteByUser removes all of the user's sessions except the one under
// exceptKey (none when it is empty), expired ones included, in one DELETE
// ... RETURNING, and reports how many unexpired sessions it removed.
func (ss *Sessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	cond := ""
	if exceptKey != "" {
		cond = `"key" <> ?`
	}
	return ss.deleteByUser(ctx, "delete user's sessions", userID, cond, exceptKey)
}

// DeleteExpired removes every expired session, in one DELETE using the
// expires_at index, and reports how many. Run it periodically; see the
// type's documentation.
func (ss *Sessions) DeleteExpired(ctx context.Context) (int, error) {
	return ss.deleteExpired(ctx, "delete expired sessions")
}
