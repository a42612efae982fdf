package loginkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxValueBytes bounds the application values of one session: the sum of
// len(key)+len(value) over all of them. It keeps every session store
// usable, including sessionstores/cookiestore, whose whole session must
// fit in one cookie: a typical session sealed with MaxValueBytes of values
// stays under 2 KiB of cookie.
const MaxValueBytes = 1024

// ReservedValuePrefix starts the Session.Values keys the library keeps
// for itself; SetValue, Value and PopValue refuse such keys.
const ReservedValuePrefix = "loginkit."

// Session values: small application strings kept with the current session,
// such as a one-time ("flash") message or where to go after logging in.
//
// They live in the request's session. A request without one — an
// anonymous visitor — gets an anonymous session on the first SetValue: a
// session with an empty UserID that carries only values, with the usual
// idle and absolute timeouts; stores keep it like any session (those that
// index sessions by user file all anonymous ones under the empty user ID,
// and expire them as usual). Login moves the values of the request's
// anonymous session (or of the same user's session) into the new,
// rotated session, so they survive the login; values of another user's
// session are dropped with it. Logout drops the session and its values; a
// value set after Logout goes into a new anonymous session. ConfirmLogin,
// LogoutOthers and ChangePassword keep them.
//
// Keys are non-empty valid UTF-8 without NUL bytes and must not start
// with ReservedValuePrefix; values are valid UTF-8 without NUL bytes
// (ErrInvalid otherwise). All values of a session together stay within
// MaxValueBytes (ErrValueTooLarge otherwise).

// Value returns the session value stored under key, loading the request's
// state if nothing has yet (see Middleware). It reports false when there
// is no such value, no session, or no Middleware in front of the handler.
func (m *Manager[U]) Value(r *http.Request, key string) (string, bool) {
	st := m.state(r)
	if st == nil || strings.HasPrefix(key, ReservedValuePrefix) {
		return "", false
	}
	s := st.valueSession()
	if s == nil {
		return "", false
	}
	v, ok := s.Values[key]
	return v, ok
}

// SetValue stores value under key in the request's session, creating an
// anonymous session when the request has none. It writes the session to
// its store (or, for a cookie session, sets the cookie), so call it before
// writing the response header; it needs Middleware or a guard in front of
// the handler (ErrConfig otherwise). Invalid keys and values are
// ErrInvalid, values past MaxValueBytes ErrValueTooLarge; a store failure
// is returned wrapped.
func (m *Manager[U]) SetValue(w http.ResponseWriter, r *http.Request, key, value string) error {
	if err := checkValue(key, value); err != nil {
		return err
	}
	return m.changeValues(w, r, func(vals map[string]string) (map[string]string, bool) {
		if old, ok := vals[key]; ok && old == value {
			return vals, false
		}
		if vals == nil {
			vals = make(map[string]string, 1)
		}
		vals[key] = value
		return vals, true
	})
}

// PopValue returns the value stored under key and removes it from the
// session, as a one-time message is read: ("", ErrNotFound) when there is
// none. When writing the session fails, it returns the value together
// with the error, and the value stays stored.
func (m *Manager[U]) PopValue(w http.ResponseWriter, r *http.Request, key string) (string, error) {
	v, ok := m.Value(r, key)
	if !ok {
		return "", ErrNotFound
	}
	err := m.changeValues(w, r, func(vals map[string]string) (map[string]string, bool) {
		delete(vals, key)
		return vals, true
	})
	return v, err
}

// checkValue checks a key and value for SetValue.
func checkValue(key, value string) error {
	switch {
	case key == "" || !utf8.ValidString(key) || strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w: a session value key must be non-empty UTF-8 without NUL bytes", ErrInvalid)
	case strings.HasPrefix(key, ReservedValuePrefix):
		return fmt.Errorf("%w: session value keys starting with %q are reserved", ErrInvalid, ReservedValuePrefix)
	case !utf8.ValidString(value) || strings.IndexByte(value, 0) >= 0:
		return fmt.Errorf("%w: a session value must be UTF-8 without NUL bytes", ErrInvalid)
	case len(key)+len(value) > MaxValueBytes:
		return fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrValueTooLarge, len(key)+len(value), MaxValueBytes)
	}
	return nil
}

// valuesSize is the size MaxValueBytes bounds: that of the application's
// values. The library's own (reserved) values are few and small, and do
// not count against the application's budget.
func valuesSize(vals map[string]string) int {
	n := 0
	for k, v := range vals {
		if strings.HasPrefix(k, ReservedValuePrefix) {
			continue
		}
		n += len(k) + len(v)
	}
	return n
}

// changeValues applies change to a copy of the session's values and
// stores the session.
func (m *Manager[U]) changeValues(w http.ResponseWriter, r *http.Request, change func(map[string]string) (map[string]string, bool)) error {
	c := m.reqOf(r)
	if c == nil || m.sessions == nil {
		return fmt.Errorf("%w: session values need a session store and Middleware or a guard in front of the handler", ErrConfig)
	}
	m.state(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &c.st
	ctx := r.Context()
	now := m.now().UTC()
	var s *Session
	created := ""
	if cur := st.valueSession(); cur != nil {
		s = cur.Clone()
	} else {
		var token string
		s, token = m.newAnonymousSession(now)
		created = token
	}
	vals, changed := change(s.Values)
	if !changed {
		return nil
	}
	if valuesSize(vals) > MaxValueBytes {
		return fmt.Errorf("%w: the session's values would take %d bytes, over the %d-byte limit", ErrValueTooLarge, valuesSize(vals), MaxValueBytes)
	}
	if len(vals) == 0 {
		vals = nil
	}
	s.Values = vals
	if (created != "" || m.sealer != nil) && c.wrote {
		return fmt.Errorf("%w: session values changed after the response header was written", ErrInvalid)
	}
	var err error
	switch {
	case created != "":
		if s.Values == nil {
			return nil // popping from no session: nothing to store
		}
		err = m.startSession(ctx, w, s, created)
	case s.UserID == "" && s.Values == nil && st.pendingLogin() == nil:
		// The last value of an anonymous session is gone: so is the
		// session.
		m.deleteSession(ctx, s)
		if !c.wrote {
			m.cookie.clear(w, m.cookie.session)
		}
		st.session = nil
		return nil
	case m.sealer != nil:
		_, err = m.saveSession(ctx, w, s)
	default:
		err = m.replaceSession(ctx, s)
	}
	if err != nil {
		if m.sealer != nil && errors.Is(err, ErrInvalid) {
			return fmt.Errorf("%w: %w", ErrValueTooLarge, err)
		}
		return fmt.Errorf("loginkit: session values: %w", err)
	}
	if st.session == nil && st.pendingLogin() != nil {
		st.extra.pending = s
	} else {
		st.session = s
	}
	return nil
}

// replaceSession rewrites an existing server-side session, without
// recreating it if a concurrent Logout deleted it meanwhile.
func (m *Manager[U]) replaceSession(ctx context.Context, s *Session) error {
	if t, ok := m.sessions.(SessionToucher); ok {
		return t.Touch(ctx, s)
	}
	return m.sessions.Save(ctx, s)
}

// newAnonymousSession builds a session that carries only values; token is
// what the cookie will carry.
func (m *Manager[U]) newAnonymousSession(now time.Time) (*Session, string) {
	token, key := newSessionToken()
	s := &Session{
		Key:               key,
		CreatedAt:         now,
		LastSeenAt:        now,
		AbsoluteExpiresAt: now.Add(m.absolute),
	}
	s.ExpiresAt = minTime(now.Add(m.idle), s.AbsoluteExpiresAt)
	return s, token
}

// appValues returns a copy of vals without the library's reserved keys,
// or nil when none are left.
func appValues(vals map[string]string) map[string]string {
	var out map[string]string
	for k, v := range vals {
		if strings.HasPrefix(k, ReservedValuePrefix) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(vals))
		}
		out[k] = v
	}
	return out
}
