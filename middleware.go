package loginkit

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/loginkit/loginkit/internal/hotpath"
)

// forcedValue is the Session.Values key marking a session created by a
// forced login of an inactive user: such a session keeps working while the
// user stays inactive, consistently with the forced login. Keys starting
// with "loginkit." are reserved.
const forcedValue = "loginkit.forced"

// state is what the middleware learned about one request.
type state[U User] struct {
	user      U
	authed    bool
	session   *Session // nil when anonymous or loaded by the request loader
	viaLoader bool
	err       error // a store failure while loading; guards answer 503

	// pending is a login waiting for its second factor; the request is
	// anonymous (see PendingUser).
	pending *Session
}

// stateCtx carries the state in the request context, keyed by the
// manager: one allocation for the context node and the state (see
// hotpath.Context and its benchmark).
type stateCtx[U User] = hotpath.Context[*Manager[U], state[U]]

func (m *Manager[U]) stateOf(r *http.Request) *state[U] {
	st, _ := r.Context().Value(m).(*state[U])
	return st
}

// Middleware loads the current user on every request and makes it available
// to the handlers below through CurrentUser, CurrentSession and Identity.
// It reads the session cookie, then (if there is no valid session) the
// remember-me cookie, then (if still anonymous) the request loader. It
// checks the session's idle and absolute expiry, the user's session
// version and active state, and session protection.
//
// A missing, malformed, tampered, oversized or expired cookie means an
// anonymous request, and the cookie is cleared; it never causes an error
// response. A store failure also leaves the request anonymous, and guarded
// routes then answer 503.
func (m *Manager[U]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, m.withState(w, r))
	})
}

// withState loads the request's state once and returns the request
// carrying it.
func (m *Manager[U]) withState(w http.ResponseWriter, r *http.Request) *http.Request {
	if m.stateOf(r) != nil {
		return r
	}
	c := &stateCtx[U]{Context: r.Context(), Key: m}
	m.load(w, r, &c.State)
	return r.WithContext(c)
}

// CurrentUser returns the logged-in user, typed, and whether there is one.
// It never panics: without Middleware (or a guard) in front of the handler
// it reports no user.
func (m *Manager[U]) CurrentUser(r *http.Request) (U, bool) {
	if st := m.stateOf(r); st != nil && st.authed {
		return st.user, true
	}
	var zero U
	return zero, false
}

// CurrentSession returns a copy of the current session. It reports false
// for anonymous requests and for users loaded by the request loader.
func (m *Manager[U]) CurrentSession(r *http.Request) (*Session, bool) {
	if st := m.stateOf(r); st != nil && st.authed && st.session != nil {
		return st.session.Clone(), true
	}
	return nil, false
}

// Identity is a snapshot of the current login for templates:
//
//	{{if .Identity.Authenticated}}Hello, {{.Identity.User.Username}}{{end}}
type Identity[U User] struct {
	// User is the logged-in user, or the zero U.
	User U
	// Authenticated reports whether a user is logged in.
	Authenticated bool
	// Fresh reports a session created or confirmed by a password check.
	Fresh bool
	// Remembered reports a session restored from a remember cookie.
	Remembered bool
}

// Identity returns the current login as a value templates can use.
func (m *Manager[U]) Identity(r *http.Request) Identity[U] {
	st := m.stateOf(r)
	if st == nil || !st.authed {
		return Identity[U]{}
	}
	id := Identity[U]{User: st.user, Authenticated: true}
	if st.session != nil {
		id.Fresh, id.Remembered = st.session.Fresh, st.session.Remembered
	}
	return id
}

// load fills st from the request's cookies and headers.
func (m *Manager[U]) load(w http.ResponseWriter, r *http.Request, st *state[U]) {
	now := m.now().UTC()
	skipRemember := false
	if v, oversized := cookieValue(r, m.cookie.session); oversized {
		m.cookie.clear(w, m.cookie.session)
	} else if v != "" {
		done, skip := m.loadSession(w, r, st, v, now)
		if done {
			return
		}
		skipRemember = skip
	}
	if m.remember != nil && !skipRemember {
		if m.loadRemembered(w, r, st, now) {
			return
		}
	}
	if m.requestLoader != nil {
		m.loadFromRequest(r, st)
	}
}

// loadSession handles the session cookie. done reports that loading is
// over (a user was found or a store failed); skipRemember that the
// remember cookie must not be tried (session protection revoked it).
func (m *Manager[U]) loadSession(w http.ResponseWriter, r *http.Request, st *state[U], cookie string, now time.Time) (done, skipRemember bool) {
	ctx := r.Context()
	s, err := m.openSession(ctx, cookie)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, errMalformedCookie) {
			m.cookie.clear(w, m.cookie.session)
			return false, false
		}
		m.storeFailed(r, "load session", err)
		st.err = err
		return true, false
	}
	drop := func(reason string) {
		m.deleteSession(ctx, s)
		m.cookie.clear(w, m.cookie.session)
		m.logger.DebugContext(ctx, "loginkit: session ended", "reason", reason, "user", s.UserID)
	}
	if s.UserID == "" || !now.Before(s.ExpiresAt) || !now.Before(s.AbsoluteExpiresAt) || now.Sub(s.LastSeenAt) >= m.idle {
		drop("expired")
		return false, false
	}
	if s.Values[pendingValue] != "" {
		m.loadPending(w, r, st, s)
		return true, false
	}
	u, err := m.loader.LoadUser(ctx, s.UserID)
	if err == nil && isNil(u) {
		err = ErrNotFound
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			drop("user not found")
			return false, false
		}
		m.storeFailed(r, "load user", err)
		st.err = err
		return true, false
	}
	if s.Version != versionOf(u) {
		drop("session version changed")
		return false, false
	}
	if !u.IsActive() && s.Values[forcedValue] != "1" {
		drop("user inactive")
		return false, false
	}
	dirty := false
	if m.protection != ProtectionOff {
		ip := m.clientIP(r)
		if ua := truncateUA(r.UserAgent()); !(s.IP == ip && s.UserAgent == ua) && !fingerprintMatches(ip, ua, s.Fingerprint) {
			// The session records the login's IP and User-Agent, the
			// fingerprint's own inputs: when they match, so would the
			// fingerprint, and the hash is skipped. It decides only for
			// a store that does not keep IP and UserAgent.
			if m.hooks.SessionProtected != nil {
				m.hooks.SessionProtected(r, s.UserID, m.protection)
			}
			if m.protection == ProtectionStrong {
				drop("session protection: client changed")
				m.revokeRememberCookie(w, r, false)
				return false, true
			}
			if s.Fresh {
				s.Fresh = false
				dirty = true
			}
		}
	}
	if dirty || now.Sub(s.LastSeenAt) >= m.touch {
		s.LastSeenAt = now
		s.ExpiresAt = minTime(now.Add(m.idle), s.AbsoluteExpiresAt)
		var err error
		if t, ok := m.sessions.(SessionToucher); ok && m.sealer == nil {
			err = t.Touch(ctx, s)
		} else {
			_, err = m.saveSession(ctx, w, s)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			// A concurrent Logout (or revocation) deleted the session
			// after this request read it: it stays deleted.
			m.cookie.clear(w, m.cookie.session)
			return false, false
		case err != nil:
			// The session is still valid; only its last-seen time is stale.
			m.logger.WarnContext(ctx, "loginkit: could not update session", "error", err)
		}
	}
	if m.remember != nil && m.remember.RefreshEachRequest {
		if v, _ := cookieValue(r, m.cookie.remember); v != "" {
			m.cookie.setRemember(w, v, m.remember.Duration)
		}
	}
	st.user, st.authed, st.session = u, true, s
	return true, false
}

// loadFromRequest consults the request loader.
func (m *Manager[U]) loadFromRequest(r *http.Request, st *state[U]) {
	u, err := m.requestLoader(r)
	if err == nil && isNil(u) {
		err = ErrNotFound
	}
	switch {
	case err == nil:
		if u.IsActive() {
			st.user, st.authed, st.viaLoader = u, true, true
		}
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnauthorized):
	default:
		m.storeFailed(r, "request loader", err)
		st.err = err
	}
}

// openSession returns the session a session cookie refers to.
func (m *Manager[U]) openSession(ctx context.Context, cookie string) (*Session, error) {
	if m.sealer != nil {
		return m.sealer.Open(cookie)
	}
	key, err := decodeSessionCookie(cookie)
	if err != nil {
		return nil, err
	}
	return m.sessions.Get(ctx, key)
}

// saveSession stores s (or, for a stateless store, seals it into the
// cookie) and returns the cookie value when it changed.
func (m *Manager[U]) saveSession(ctx context.Context, w http.ResponseWriter, s *Session) (string, error) {
	if m.sealer != nil {
		v, err := m.sealer.Seal(s)
		if err != nil {
			return "", err
		}
		m.cookie.setSession(w, v)
		return v, nil
	}
	return "", m.sessions.Save(ctx, s)
}

// deleteSession removes s from a server-side store; failures are logged,
// since the cookie is cleared anyway.
func (m *Manager[U]) deleteSession(ctx context.Context, s *Session) {
	if m.sealer != nil || s == nil || s.Key == "" {
		return
	}
	if err := m.sessions.Delete(ctx, s.Key); err != nil {
		m.logger.WarnContext(ctx, "loginkit: could not delete session", "error", err)
	}
}

func (m *Manager[U]) storeFailed(r *http.Request, op string, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	m.logger.ErrorContext(r.Context(), "loginkit: store failure", "op", op, "error", err)
}

// versionOf returns the user's session version (0 for users without an
// Account).
func versionOf(u User) int64 {
	if a := accountOf(u); a != nil {
		return a.SessionVersion
	}
	return 0
}

// isNil reports whether u is a nil pointer, interface, map or similar: a
// store bug that must not reach the handlers.
func isNil[U any](u U) bool {
	v := reflect.ValueOf(any(u))
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
