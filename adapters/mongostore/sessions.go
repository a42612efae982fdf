package mongostore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Sessions is a loginkit.SessionStore in a MongoDB collection (default
// "loginkit_sessions"), one document per session with the session key as
// _id. It is safe for concurrent use.
type Sessions struct {
	base
}

// NewSessions returns a session store in db. It sends no command: run Migrate
// with the same options once before use.
func NewSessions(db *mongo.Database, opts ...Option) *Sessions {
	return &Sessions{newBase(db, opts, "sessions")}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *Sessions) CheckConfig() error { return s.err }

// Collection returns the collection the store keeps its sessions in.
func (s *Sessions) Collection() *mongo.Collection { return s.c }

// ExpiryMode reports how expired sessions are removed, from the indexes the
// collection has: ExpiryTTL or ExpiryFilter once Migrate has run,
// ExpiryUnknown before.
func (s *Sessions) ExpiryMode(ctx context.Context) (ExpiryMode, error) {
	return s.expiryMode(ctx)
}

// sessionDoc is a session as stored.
type sessionDoc struct {
	Key               string         `bson:"_id"`
	UserID            string         `bson:"user_id"`
	CreatedAt         time.Time      `bson:"created_at"`
	AuthenticatedAt   time.Time      `bson:"authenticated_at"`
	LastSeenAt        time.Time      `bson:"last_seen_at"`
	ExpiresAt         time.Time      `bson:"expires_at"`
	AbsoluteExpiresAt time.Time      `bson:"absolute_expires_at"`
	Fresh             bool           `bson:"fresh"`
	Remembered        bool           `bson:"remembered"`
	Version           int64          `bson:"version"`
	Fingerprint       string         `bson:"fingerprint"`
	IP                string         `bson:"ip"`
	UserAgent         string         `bson:"user_agent"`
	Values            []sessionValue `bson:"values"`
}

// sessionValue is one entry of Session.Values. Values are stored as an
// array of pairs rather than a subdocument so that any string, '.' and '$'
// included, can be a key on every server.
type sessionValue struct {
	K string `bson:"k"`
	V string `bson:"v"`
}

func toSessionDoc(s *loginkit.Session) *sessionDoc {
	d := &sessionDoc{
		Key:               s.Key,
		UserID:            s.UserID,
		CreatedAt:         s.CreatedAt,
		AuthenticatedAt:   s.AuthenticatedAt,
		LastSeenAt:        s.LastSeenAt,
		ExpiresAt:         s.ExpiresAt,
		AbsoluteExpiresAt: s.AbsoluteExpiresAt,
		Fresh:             s.Fresh,
		Remembered:        s.Remembered,
		Version:           s.Version,
		Fingerprint:       s.Fingerprint,
		IP:                s.IP,
		UserAgent:         s.UserAgent,
	}
	if s.Values != nil {
		d.Values = make([]sessionValue, 0, len(s.Values))
		for k, v := range s.Values {
			d.Values = append(d.Values, sessionValue{K: k, V: v})
		}
		slices.SortFunc(d.Values, func(a, b sessionValue) int { return strings.Compare(a.K, b.K) })
	}
	return d
}

func (d *sessionDoc) session() *loginkit.Session {
	s := &loginkit.Session{
		Key:               d.Key,
		UserID:            d.UserID,
		CreatedAt:         d.CreatedAt.UTC(),
		AuthenticatedAt:   d.AuthenticatedAt.UTC(),
		LastSeenAt:        d.LastSeenAt.UTC(),
		ExpiresAt:         d.ExpiresAt.UTC(),
		AbsoluteExpiresAt: d.AbsoluteExpiresAt.UTC(),
		Fresh:             d.Fresh,
		Remembered:        d.Remembered,
		Version:           d.Version,
		Fingerprint:       d.Fingerprint,
		IP:                d.IP,
		UserAgent:         d.UserAgent,
	}
	if d.Values != nil {
		s.Values = make(map[string]string, len(d.Values))
		for _, v := range d.Values {
			s.Values[v.K] = v.V
		}
	}
	return s
}

// Save creates the session or replaces every field of it: one replace
// with upsert. An empty Key is loginkit.ErrInvalid. Times are kept to the
// millisecond.
func (s *Sessions) Save(ctx context.Context, sess *loginkit.Session) error {
	const op = "save session"
	if err := errs.CheckSession(ctx, op, s.err, sess); err != nil {
		return err
	}
	d := toSessionDoc(sess)
	filter := bson.D{{Key: fieldID, Value: sess.Key}}
	replace := options.Replace().SetUpsert(true)
	_, err := s.c.ReplaceOne(ctx, filter, d, replace)
	// Two upserts of a new key raced and the other one inserted first
	// (servers may answer so instead of retrying; FerretDB's upsert is a
	// find then an insert, so a concurrent Delete and Save can make it
	// lose again): the session exists now, so replace it. A few attempts
	// settle any realistic race; each is one round trip.
	for i := 0; i < 8 && isDuplicateKey(err); i++ {
		if cerr := errs.Ready(ctx, op, nil); cerr != nil {
			return cerr
		}
		_, err = s.c.ReplaceOne(ctx, filter, d, replace)
	}
	return wrap(op, err)
}

// Touch implements loginkit.SessionToucher: one replace without upsert,
// filtered on the key and an unexpired expiry date, so a request in
// flight cannot write back a session that a concurrent Logout deleted. A
// missing or expired session is loginkit.ErrNotFound and nothing is
// stored.
func (s *Sessions) Touch(ctx context.Context, sess *loginkit.Session) error {
	const op = "touch session"
	if err := errs.CheckSession(ctx, op, s.err, sess); err != nil {
		return err
	}
	res, err := s.c.ReplaceOne(ctx, liveID(sess.Key), toSessionDoc(sess))
	return matchedOne(op, res, err, loginkit.ErrNotFound)
}

// Get returns the session stored under key: one find on _id and the
// expiry date. A missing or expired session is loginkit.ErrNotFound.
func (s *Sessions) Get(ctx context.Context, key string) (*loginkit.Session, error) {
	var d sessionDoc
	if err := s.findLive(ctx, "get session", key, &d); err != nil {
		return nil, err
	}
	return d.session(), nil
}

// Delete removes one session. Deleting a missing session is not an error.
func (s *Sessions) Delete(ctx context.Context, key string) error {
	return s.deleteID(ctx, "delete session", key)
}

// ListByUser returns the user's unexpired sessions, newest CreatedAt
// first (ties in key order).
func (s *Sessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	return listLive(ctx, s.base, "list sessions", bson.D{{Key: fieldUserID, Value: userID}}, (*sessionDoc).session)
}

// DeleteByUser removes all of the user's sessions except the one whose key
// is exceptKey (none when it is empty) and reports how many unexpired
// sessions it removed; the user's expired sessions are removed too but
// not counted, since for callers they no longer exist.
func (s *Sessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	return s.deleteByUser(ctx, "delete user sessions", bson.D{{Key: fieldUserID, Value: userID}}, exceptKey)
}

// DeleteExpired removes the sessions whose expiry date has passed and
// reports how many. In ExpiryFilter mode call it periodically; in
// ExpiryTTL mode the server does the same on its own.
func (s *Sessions) DeleteExpired(ctx context.Context) (int, error) {
	return s.deleteExpired(ctx, "delete expired sessions")
}
