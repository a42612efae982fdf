package loginkit

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// forcedValue is the Session.Values key marking a session created by a
// forced login of an inactive user: such a session keeps working while the
// user stays inactive, consistently with the forced login. Keys starting
// with "loginkit." are reserved.
const forcedValue = "loginkit.forced"

// Events found while loading, reported to the hooks once the state is
// complete (and unlocked, so that a hook may call CurrentUser).
const (
	evRestored uint8 = 1 << iota
	evFromRequest
	evProtected
	evTheft
)

// state is what the manager learned about one request. Its fields are
// ordered, and the rare ones kept behind extra, so that reqState fits a
// 112-byte allocation (bench's BenchmarkAuthenticatedGET measures it).
type state[U User] struct {
	user U
	// session is the request's session: the user's, or an anonymous one
	// that only carries values (UserID ""); nil when there is none.
	session *Session
	// extra holds what few requests have; nil until one needs it.
	extra *stateExtra

	authed    bool
	viaLoader bool
	events    uint8
}

// stateExtra is the part of a request's state that few requests need.
type stateExtra struct {
	err error // a store failure while loading; guards answer 503

	// issued is the selector of a remember token issued during this
	// request, so that a Login or Logout later in the same request
	// revokes it too.
	issued string

	eventID string // the user ID for evProtected and evTheft

	// pending is a login waiting for its second factor; the request is
	// anonymous (see twofactor.Service.PendingUser).
	pending *Session
}

// pendingLogin returns the login waiting for its second factor, or nil.
func (st *state[U]) pendingLogin() *Session {
	if st.extra == nil {
		return nil
	}
	return st.extra.pending
}

// more returns st.extra, allocating it on first use.
func (st *state[U]) more() *stateExtra {
	if st.extra == nil {
		st.extra = new(stateExtra)
	}
	return st.extra
}

// failed returns the store failure met while loading, or nil.
func (st *state[U]) failed() error {
	if st.extra == nil {
		return nil
	}
	return st.extra.err
}

// issuedSelector returns the selector of the remember token issued during
// this request, or "".
func (st *state[U]) issuedSelector() string {
	if st.extra == nil {
		return ""
	}
	return st.extra.issued
}

// loggedIn returns the state of a request that has just logged u in on
// session s, with the selector of the remember token issued, if any.
func loggedIn[U User](u U, s *Session, issued string) state[U] {
	st := state[U]{user: u, authed: true, session: s}
	if issued != "" {
		st.extra = &stateExtra{issued: issued}
	}
	return st
}

// event records a load event for the hooks, with the user ID it concerns.
func (st *state[U]) event(ev uint8, userID string) {
	st.events |= ev
	if userID != "" {
		st.more().eventID = userID
	}
}

// eventID returns the user ID recorded with the last event, or "".
func (st *state[U]) eventID() string {
	if st.extra == nil {
		return ""
	}
	return st.extra.eventID
}

// valueSession returns the session that holds the request's values: the
// user's, an anonymous one, or a login waiting for its second factor.
func (st *state[U]) valueSession() *Session {
	if st.session != nil {
		return st.session
	}
	return st.pendingLogin()
}

// userSession returns the session of the logged-in user: nil for
// anonymous requests, request-loader users and anonymous value sessions.
func (st *state[U]) userSession() *Session {
	if !st.authed || st.viaLoader || st.session == nil || st.session.UserID == "" {
		return nil
	}
	return st.session
}

// reqState carries one request's state in its context: one allocation for
// the context node, the state and the response writer wrapper, where
// context.WithValue and a separate state would take two (the trick
// bench's BenchmarkHotPathTricks/context measures).
// It is a context.Context itself; the same memory seen as a
// *trackingWriter is the ResponseWriter the handlers get, which keeps the
// context's methods off the writer.
type reqState[U User] struct {
	// orig is the request as it reached the manager; its context is this
	// context's parent. (Keeping the request rather than its context saves
	// a word of every request's allocation.)
	orig   *http.Request
	m      *Manager[U]
	w      http.ResponseWriter
	mu     sync.Mutex
	loaded atomic.Bool // set, under mu, once st is complete
	// wrote records that the response header was written.
	wrote bool
	st    state[U]
	// vary backs the "Vary: Cookie" header value, saving an allocation.
	vary [1]string
}

// newReqState returns the state for a request that has none yet, and r
// carrying it.
func newReqState[U User](m *Manager[U], w http.ResponseWriter, r *http.Request) (*reqState[U], *http.Request) {
	c := &reqState[U]{orig: r, m: m, w: w}
	return c, r.WithContext(c)
}

// Deadline returns the parent context's deadline.
func (c *reqState[U]) Deadline() (time.Time, bool) { return c.orig.Context().Deadline() }

// Done returns the parent context's done channel.
func (c *reqState[U]) Done() <-chan struct{} { return c.orig.Context().Done() }

// Err returns the parent context's error.
func (c *reqState[U]) Err() error { return c.orig.Context().Err() }

// Value returns the request state for the manager that made it, and the
// request as it reached the manager for requestKey.
func (c *reqState[U]) Value(key any) any {
	switch k := key.(type) {
	case *Manager[U]:
		if k == c.m {
			return c
		}
	case requestKey:
		return c.orig
	}
	return c.orig.Context().Value(key)
}

// writer returns the ResponseWriter for the handlers: c seen as a
// trackingWriter.
func (c *reqState[U]) writer() *trackingWriter[U] { return (*trackingWriter[U])(c) }

// requestKey finds the request in a context made by Middleware or a guard.
type requestKey struct{}

// requestOf returns the request whose state ctx carries, or nil.
func requestOf(ctx context.Context) *http.Request {
	if ctx == nil {
		return nil
	}
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

// trackingWriter is a request's reqState seen as the ResponseWriter the
// handlers get. It records whether the response header was written, so
// that a state loaded late does not try to set cookies that can no longer
// be sent.
type trackingWriter[U User] reqState[U]

// Header returns the underlying writer's header map.
func (w *trackingWriter[U]) Header() http.Header { return w.w.Header() }

// WriteHeader records the header as written (informational 1xx
// responses other than 101 do not count) and passes the call on.
func (w *trackingWriter[U]) WriteHeader(code int) {
	if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
		w.wrote = true
	}
	w.w.WriteHeader(code)
}

// Write records the header as written and passes the call on.
func (w *trackingWriter[U]) Write(b []byte) (int, error) {
	w.wrote = true
	return w.w.Write(b)
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for
// static files) reachable through the wrapper.
func (w *trackingWriter[U]) ReadFrom(src io.Reader) (int64, error) {
	w.wrote = true
	return io.Copy(w.w, src)
}

// Flush implements http.Flusher when the underlying writer can flush.
func (w *trackingWriter[U]) Flush() {
	w.wrote = true
	_ = http.NewResponseController(w.w).Flush()
}

// Hijack implements http.Hijacker for writers that support it (through
// http.ResponseController); others report an error.
func (w *trackingWriter[U]) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.wrote = true
	return http.NewResponseController(w.w).Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *trackingWriter[U]) Unwrap() http.ResponseWriter { return w.w }

// headerSink is the writer a late load uses: its cookies go nowhere.
type headerSink struct{ h http.Header }

func (s headerSink) Header() http.Header       { return s.h }
func (headerSink) Write(b []byte) (int, error) { return len(b), nil }
func (headerSink) WriteHeader(int)             {}

func (m *Manager[U]) reqOf(r *http.Request) *reqState[U] {
	c, _ := r.Context().Value(m).(*reqState[U])
	return c
}

// state returns the request's state, loading it first when nothing has
// asked for it yet in this request; nil without Middleware or a guard in
// front of the handler.
func (m *Manager[U]) state(r *http.Request) *state[U] {
	c := m.reqOf(r)
	if c == nil {
		return nil
	}
	return m.stateOf(c, r)
}

// stateOf is state for the request state c of r.
func (m *Manager[U]) stateOf(c *reqState[U], r *http.Request) *state[U] {
	if c.loaded.Load() {
		return &c.st
	}
	c.mu.Lock()
	if c.loaded.Load() {
		c.mu.Unlock()
		return &c.st
	}
	m.load(c, r)
	ev := c.st.events
	c.st.events = 0
	c.loaded.Store(true)
	c.mu.Unlock()
	if ev != 0 {
		m.fireLoadHooks(r, &c.st, ev)
	}
	return &c.st
}

// fireLoadHooks runs the hooks for what the load found.
func (m *Manager[U]) fireLoadHooks(r *http.Request, st *state[U], ev uint8) {
	h := &m.hooks
	if ev&evProtected != 0 && h.SessionProtected != nil {
		h.SessionProtected(r, st.eventID(), m.protection)
	}
	if ev&evTheft != 0 && h.RememberTheft != nil {
		h.RememberTheft(r, st.eventID())
	}
	if ev&evRestored != 0 && h.RememberRestored != nil {
		h.RememberRestored(r, st.user)
	}
	if ev&evFromRequest != 0 && h.UserLoadedFromRequest != nil {
		h.UserLoadedFromRequest(r, st.user)
	}
}

// Middleware makes the current user available to the handlers below it
// through CurrentUser, CurrentSession, Identity and the session values,
// loading it lazily, as Flask-Login's current_user does: nothing is read
// and no cookie is set until something asks — CurrentUser, Identity,
// CurrentSession, a guard, Login, Logout, Value, SetValue and the other
// calls that need the login. A request whose handler never asks (a
// static file, a health check) costs no store read and gets no
// Set-Cookie, even when it carries only a remember cookie after a browser
// restart. The first call that asks loads the state once for the whole
// request and adds "Vary: Cookie" to the response, whose content then
// depends on the user.
//
// Loading reads the session cookie, then (if there is no valid session)
// the remember-me cookie, then (if still anonymous) the request loader. It
// checks the session's idle and absolute expiry, the user's session
// version and active state, and session protection. A login restored from
// a remember cookie sets new cookies, so ask for the user before writing
// the response header: a load that happens after it cannot set cookies,
// and then ignores the remember cookie (the request is anonymous) rather
// than consume a token it could not replace.
//
// A missing, malformed, tampered, oversized or expired cookie means an
// anonymous request, and the cookie is cleared; it never causes an error
// response. A store failure also leaves the request anonymous, and guarded
// routes then answer 503.
//
// Middleware passes the handler a ResponseWriter that records whether the
// header was written; it keeps http.Flusher, http.Hijacker, io.ReaderFrom
// and Unwrap (for http.ResponseController) of the writer it wraps. The load may run
// from any goroutine of the request, once.
func (m *Manager[U]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.reqOf(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		c, r := newReqState(m, w, r)
		next.ServeHTTP(c.writer(), r)
	})
}

// CurrentUser returns the logged-in user, typed, and whether there is one.
// It loads the request's login on first use (see Middleware). It never
// panics: without Middleware (or a guard) in front of the handler it
// reports no user.
func (m *Manager[U]) CurrentUser(r *http.Request) (U, bool) {
	if st := m.state(r); st != nil && st.authed {
		return st.user, true
	}
	var zero U
	return zero, false
}

// CurrentSession returns a copy of the current user's session. It reports
// false for anonymous requests and for users loaded by the request loader.
func (m *Manager[U]) CurrentSession(r *http.Request) (*Session, bool) {
	if st := m.state(r); st != nil {
		if s := st.userSession(); s != nil {
			return s.Clone(), true
		}
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
	// Fresh reports a session created or confirmed by a password check
	// within Builder.FreshFor when that is set: exactly the sessions
	// FreshRequired admits.
	Fresh bool
	// Remembered reports a session restored from a remember cookie.
	Remembered bool
}

// Identity returns the current login as a value templates can use.
func (m *Manager[U]) Identity(r *http.Request) Identity[U] {
	st := m.state(r)
	if st == nil || !st.authed {
		return Identity[U]{}
	}
	id := Identity[U]{User: st.user, Authenticated: true}
	if s := st.userSession(); s != nil {
		id.Fresh = s.Fresh && (m.freshMaxAge == 0 || m.isFresh(s, m.now()))
		id.Remembered = s.Remembered
	}
	return id
}

// addVaryCookie adds "Vary: Cookie" unless the header already names it.
// backing, when the header has no Vary yet, holds the value (its capacity
// of one makes a later Add copy it rather than write past it).
func addVaryCookie(h http.Header, backing *[1]string) {
	var vary []string
	if len(h) > 0 {
		vary = h["Vary"]
	}
	if len(vary) == 0 {
		backing[0] = "Cookie"
		h["Vary"] = backing[:1:1]
		return
	}
	for _, v := range vary {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Cookie") {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

// varyOnCookie adds "Vary: Cookie" to the response unless its header was
// already written: its content now depends on the request's cookies. The
// load calls it, and so do Login and the second-factor step, which set
// login cookies without loading.
func (c *reqState[U]) varyOnCookie() {
	if !c.wrote {
		addVaryCookie(c.w.Header(), &c.vary)
	}
}

// load fills c.st from the request's cookies and headers.
func (m *Manager[U]) load(c *reqState[U], r *http.Request) {
	st := &c.st
	if m.sessions == nil {
		// API-only: no cookies, so the response does not vary with them.
		m.loadFromRequest(r, st)
		return
	}
	var w http.ResponseWriter = c.writer()
	late := c.wrote
	if late {
		w = headerSink{h: http.Header{}}
	} else {
		c.varyOnCookie()
	}
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
		if late {
			if v, _ := cookieValue(r, m.cookie.remember); v != "" {
				m.logger.WarnContext(r.Context(), "loginkit: the login was first asked for after the response header was written; the remember cookie is ignored for this request")
			}
		} else if m.loadRemembered(w, r, st, now) {
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
	s, err := m.openSession(ctx, cookie, now)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, errMalformedCookie) {
			m.cookie.clear(w, m.cookie.session)
			return false, false
		}
		m.storeFailed(r, "load session", err)
		st.more().err = err
		return true, false
	}
	drop := func(reason string) {
		m.deleteSession(ctx, s)
		m.cookie.clear(w, m.cookie.session)
		m.logger.DebugContext(ctx, "loginkit: session ended", "reason", reason, "user", s.UserID)
	}
	if !now.Before(s.ExpiresAt) || !now.Before(s.AbsoluteExpiresAt) || now.Sub(s.LastSeenAt) >= m.idle {
		drop("expired")
		return false, false
	}
	if s.UserID == "" {
		// An anonymous session carrying only application values: keep it
		// for them, and go on looking for a login.
		if !m.touchSession(ctx, w, s, now, false) {
			return false, false
		}
		st.session = s
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
		st.more().err = err
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
		if ua := userAgent(r); !(s.IP == ip && s.UserAgent == ua) && !fingerprintMatches(ip, ua, s.Fingerprint) {
			// The session records the login's IP and User-Agent, the
			// fingerprint's own inputs: when they match, so would the
			// fingerprint, and the hash is skipped. It decides only for
			// a store that does not keep IP and UserAgent.
			st.event(evProtected, s.UserID)
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
	if !m.touchSession(ctx, w, s, now, dirty) {
		return false, false
	}
	if m.remember != nil && m.remember.RefreshEachRequest {
		// The cookie is re-set to expire with the login's remember-me,
		// never later: a refresh does not extend it.
		if v, _ := cookieValue(r, m.cookie.remember); v != "" {
			if left := rememberLeft(s, now); left > 0 {
				m.cookie.setRemember(w, v, left)
			}
		}
	}
	st.user, st.authed, st.session = u, true, s
	return true, false
}

// touchSession writes the session's last-seen time and slides its idle
// expiry when the touch interval has passed (or dirty says the session
// changed). It reports false when the session turned out to be gone (a
// concurrent Logout deleted it); the cookie is then cleared.
func (m *Manager[U]) touchSession(ctx context.Context, w http.ResponseWriter, s *Session, now time.Time, dirty bool) bool {
	if !dirty && now.Sub(s.LastSeenAt) < m.touch {
		return true
	}
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
		return false
	case err != nil:
		// The session is still valid; only its last-seen time is stale.
		m.logger.WarnContext(ctx, "loginkit: could not update session", "error", err)
	}
	return true
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
			st.event(evFromRequest, "")
		}
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnauthorized):
	default:
		m.storeFailed(r, "request loader", err)
		st.more().err = err
	}
}

// openSession returns the session a session cookie refers to, as of now.
func (m *Manager[U]) openSession(ctx context.Context, cookie string, now time.Time) (*Session, error) {
	if m.openAt != nil {
		return m.openAt.OpenAt(cookie, now)
	}
	if m.sealer != nil {
		return m.sealer.Open(cookie)
	}
	key, err := decodeSessionCookie(cookie)
	if err != nil {
		return nil, err
	}
	if m.getAt != nil {
		return m.getAt.GetAt(ctx, key, now)
	}
	return m.sessions.Get(ctx, key)
}

// sessionGetterAt is implemented by session stores that can decide expiry
// at a time the caller has read (memstore's Sessions): the manager passes
// the request's time, so the request reads the clock once.
type sessionGetterAt interface {
	GetAt(ctx context.Context, key string, now time.Time) (*Session, error)
}

// sessionOpenerAt is implemented by sealers that can decide expiry at a
// time the caller has read (cookiestore's Store).
type sessionOpenerAt interface {
	OpenAt(value string, now time.Time) (*Session, error)
}

// atNow returns s as an I (sessionGetterAt or sessionOpenerAt) when s is
// the named type of this module's package pkg itself: memstore's Sessions
// or cookiestore's Store. A type embedding one (a wrapper that logs,
// counts or injects failures) has the method promoted, and calling that
// would skip the wrapper's own Get or Open; so only the store's own type
// qualifies.
func atNow[I any](s SessionStore, pkg, name string) I {
	var zero I
	i, ok := s.(I)
	if !ok {
		return zero
	}
	if t := reflect.TypeOf(s); t.Kind() != reflect.Pointer || t.Elem().Name() != name ||
		t.Elem().PkgPath() != "github.com/loginkit/loginkit/"+pkg {
		return zero
	}
	return i
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
