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
	c   *mongo.Collection
	err error // a bad option, answered by every method
}

// NewSessions returns a session store in db. It sends no command: run Migrate
// with the same options once before use.
func NewSessions(db *mongo.Database, opts ...Option) *Sessions {
	c := newConfig(opts)
	return &Sessions{c: db.Collection(c.Prefix + "sessions"), err: c.Err}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *Sessions) CheckConfig() error { return s.err }

// Collection returns the collection the store keeps its sessions in.
func (s *Sessions) Collection() *mongo.Collection { return s.c }

// ensureSessionIndexes creates the indexes of a session collection if they are
// missing: one on user_id, and the expiry index (see ensureExpiryIndex).
func ensureSessionIndexes(ctx context.Context, c *mongo.Collection) error {
	if err := ensureIndex(ctx, c, "user_id_1", fieldUserID); err != nil {
		return err
	}
	_, err := ensureExpiryIndex(ctx, c)
	return err
}

// ExpiryMode reports how expired sessions are removed, from the indexes the
// collection has: ExpiryTTL or ExpiryFilter once Migrate has run,
// ExpiryUnknown before.
func (s *Sessions) ExpiryMode(ctx context.Context) (ExpiryMode, error) {
	const op = "expiry mode"
	if err := errs.Ready(ctx, op, s.err); err != nil {
		return ExpiryUnknown, err
	}
	m, err := expiryMode(ctx, s.c)
	return m, wrap(op, err)
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
	const op = "get session"
	if err := errs.ReadyKey(ctx, op, s.err, key); err != nil {
		return nil, err
	}
	var d sessionDoc
	if err := findOne(ctx, s.c, liveID(key), &d); err != nil {
		return nil, wrap(op, err)
	}
	return d.session(), nil
}

// Delete removes one session. Deleting a missing session is not an error.
func (s *Sessions) Delete(ctx context.Context, key string) error {
	const op = "delete session"
	if err := errs.Ready(ctx, op, s.err); err != nil || key == "" {
		return err // an empty key names nothing to delete
	}
	_, err := s.c.DeleteOne(ctx, bson.D{{Key: fieldID, Value: key}})
	return wrap(op, err)
}

// ListByUser returns the user's unexpired sessions, newest CreatedAt
// first (ties in key order).
func (s *Sessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	const op = "list sessions"
	if err := errs.Ready(ctx, op, s.err); err != nil {
		return nil, err
	}
	out, err := findAll(ctx, s.c, bson.D{
		{Key: fieldUserID, Value: userID},
		{Key: fieldExpiresAt, Value: notExpired(now())},
	}, newestFirst, (*sessionDoc).session)
	return out, wrap(op, err)
}

// DeleteByUser removes all of the user's sessions except the one whose key
// is exceptKey (none when it is empty) and reports how many unexpired
// sessions it removed; the user's expired sessions are removed too but
// not counted, since for callers they no longer exist.
func (s *Sessions) DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error) {
	const op = "delete user sessions"
	if err := errs.Ready(ctx, op, s.err); err != nil {
		return 0, err
	}
	return deleteByUser(ctx, op, s.c, bson.D{{Key: fieldUserID, Value: userID}}, exceptKey)
}

// DeleteExpired removes the sessions whose expiry date has passed and
// reports how many. In ExpiryFilter mode call it periodically; in
// ExpiryTTL mode the server does the same on its own.
func (s *Sessions) DeleteExpired(ctx context.Context) (int, error) {
	const op = "delete expired sessions"
	if err := errs.Ready(ctx, op, s.err); err != nil {
		return 0, err
	}
	return deleteExpired(ctx, op, s.c)
}

// newestFirst is the order of ListByUser: newest created first, ties in
// _id order.
var newestFirst = bson.D{{Key: fieldCreatedAt, Value: -1}, {Key: fieldID, Value: 1}}

// deleteByUser removes the documents matching filter (and not exceptID,
// when it is set): first the unexpired ones, which it counts, then the
// expired ones.
func deleteByUser(ctx context.Context, op string, c *mongo.Collection, filter bson.D, exceptID string) (int, error) {
	if exceptID != "" {
		filter = append(filter, bson.E{Key: fieldID, Value: bson.D{{Key: "$ne", Value: exceptID}}})
	}
	t := now()
	live := append(slices.Clip(filter), bson.E{Key: fieldExpiresAt, Value: notExpired(t)})
	res, err := c.DeleteMany(ctx, live)
	if err != nil {
		return 0, wrap(op, err)
	}
	dead := append(slices.Clip(filter), bson.E{Key: fieldExpiresAt, Value: bson.D{{Key: "$lte", Value: t}}})
	if _, err := c.DeleteMany(ctx, dead); err != nil {
		return int(res.DeletedCount), wrap(op, err)
	}
	return int(res.DeletedCount), nil
}

func deleteExpired(ctx context.Context, op string, c *mongo.Collection) (int, error) {
	res, err := c.DeleteMany(ctx, bson.D{{Key: fieldExpiresAt, Value: bson.D{{Key: "$lte", Value: now()}}}})
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(res.DeletedCount), nil
}
