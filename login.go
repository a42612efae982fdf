package loginkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// LoginOptions tunes Login (Flask-Login's login_user arguments).
type LoginOptions struct {
	// Remember also sets a remember-me cookie, so the login survives the
	// end of the browser session. Needs a token store.
	Remember bool
	// RememberFor overrides the configured remember duration. It is the
	// lifetime of this login's remember-me: the tokens and cookies that
	// replace the first one when it is used keep its deadline.
	RememberFor time.Duration
	// NotFresh starts a session that is not fresh: FreshRequired routes
	// will ask for the password. Password logins are fresh (the default).
	NotFresh bool
	// Force logs in an inactive user. The session then keeps working while
	// the user stays inactive (until logout or a session version change),
	// so that such a user can reach, say, an "activate your account" page.
	Force bool
	// SkipSecondFactor logs in a user who has a second factor without
	// asking for it, for a login the application has already verified
	// strongly by other means. Leave it false after a password check.
	SkipSecondFactor bool
}

// Login logs u in on the response: it checks that u is active (unless
// opts.Force) and passes the login policies, revokes the session and
// remember token the request came with (no session fixation), starts a new
// session with a new token and sets its cookie, and, with opts.Remember,
// issues a remember-me token. Call it before writing the response body.
// Login does not check a password: call Authenticate first.
//
// Session values (SetValue) survive the rotation: the values of the
// request's anonymous session, or of a session of the same user, move to
// the new session; those of another user's session are dropped with it.
// Login reads the request's session for them (once; not at all when the
// request's login was already loaded) and never restores a remember
// cookie.
//
// With second factors configured (Builder.SecondFactor), a user who has
// one enrolled is not logged in yet: Login starts a short "second factor
// pending" state, in which the request stays anonymous, and returns
// ErrSecondFactorRequired; send the user to a page that calls
// twofactor.Service.PendingUser and then VerifyTOTP or UseRecoveryCode.
// Remember-me is granted only once the second factor is done; session
// values ride along.
func (m *Manager[U]) Login(w http.ResponseWriter, r *http.Request, u U, opts LoginOptions) error {
	if isNil(u) || u.UserID() == "" {
		return fmt.Errorf("%w: Login needs a user with an ID", ErrInvalid)
	}
	if m.sessions == nil {
		return fmt.Errorf("%w: Login needs a session store (Builder.Sessions)", ErrConfig)
	}
	if opts.Remember && m.remember == nil {
		return fmt.Errorf("%w: remember-me needs a token store (Builder.Tokens)", ErrConfig)
	}
	ctx := r.Context()
	now := m.now().UTC()
	if !opts.Force {
		if !u.IsActive() {
			return ErrInactive
		}
		if err := m.checkPolicies(ctx, m.policies, &Check{Stage: StageLogin, User: u, Account: accountOf(u), Request: r, Now: now}); err != nil {
			return err
		}
	}
	if m.factors != nil && !opts.SkipSecondFactor {
		if on, err := m.hasSecondFactor(ctx, u.UserID()); err != nil {
			return err
		} else if on {
			return m.startPending(w, r, u, opts, now)
		}
	}
	c := m.reqOf(r)
	if c != nil {
		c.mu.Lock()
		c.varyOnCookie()
	}
	err := m.login(w, r, c, u, opts, now)
	if c != nil {
		c.mu.Unlock()
	}
	if err != nil {
		return err
	}
	if m.hooks.LoggedIn != nil {
		m.hooks.LoggedIn(r, u)
	}
	return nil
}

// login is Login's work on the request state, locked by the caller.
func (m *Manager[U]) login(w http.ResponseWriter, r *http.Request, c *reqState[U], u U, opts LoginOptions, now time.Time) error {
	ctx := r.Context()
	prev, carried := m.priorSession(r, c, now)
	m.revokeRequestSession(w, r)
	if carried != nil {
		m.deleteSession(ctx, carried.session)
		m.revokeIssued(ctx, carried)
	}
	m.revokeRememberCookie(w, r, false)

	s, token := m.newSession(r, u, now, !opts.NotFresh)
	if prev != nil && (prev.UserID == "" || prev.UserID == u.UserID()) {
		// Values set before the login ("next", a message) move to the
		// new session; another user's are dropped with their session.
		s.Values = appValues(prev.Values)
	}
	if opts.Force && !u.IsActive() {
		if s.Values == nil {
			s.Values = map[string]string{}
		}
		s.Values[forcedValue] = "1"
	}
	var deadline time.Time
	if opts.Remember {
		d := opts.RememberFor
		if d <= 0 {
			d = m.remember.Duration
		}
		deadline = now.Add(d)
		s.Values = m.withRememberDeadline(s.Values, deadline)
	}
	if err := m.startSession(ctx, w, s, token); err != nil {
		return fmt.Errorf("loginkit: login: %w", err)
	}
	issued := ""
	if opts.Remember {
		sel, err := m.issueRememberFor(ctx, w, u, s, now, deadline)
		if err != nil {
			return fmt.Errorf("loginkit: login: remember token: %w", err)
		}
		issued = sel
	}
	if c != nil {
		c.loaded.Store(true)
		c.st = loggedIn(u, s, issued)
	}
	return nil
}

// priorSession returns the session the request came with, for the values
// a login carries over: the loaded one when the request's state was
// already loaded (then also returned as carried, for revocation: it may
// have been restored during this request, under a key no cookie of the
// request names), else the one the session cookie names, read once.
func (m *Manager[U]) priorSession(r *http.Request, c *reqState[U], now time.Time) (prev *Session, carried *state[U]) {
	if c != nil && c.loaded.Load() {
		return c.st.session, &c.st
	}
	v, _ := cookieValue(r, m.cookie.session)
	if v == "" {
		return nil, nil
	}
	s, err := m.openSession(r.Context(), v, now)
	if err != nil || !now.Before(s.ExpiresAt) || !now.Before(s.AbsoluteExpiresAt) {
		return nil, nil
	}
	return s, nil
}

// revokeIssued deletes a remember token issued earlier in this request.
func (m *Manager[U]) revokeIssued(ctx context.Context, st *state[U]) {
	sel := st.issuedSelector()
	if sel == "" || m.tokens == nil {
		return
	}
	if err := m.tokens.Delete(ctx, sel); err != nil {
		m.logger.WarnContext(ctx, "loginkit: could not delete remember token", "error", err)
	}
	st.extra.issued = ""
}

// Logout ends the request's login: it deletes the server-side session and
// the remember token (and the records of its recent rotations) and clears
// both cookies. It is safe to call when anonymous. A store failure is
// returned, but the cookies are cleared regardless.
//
// Logout drops the session's values with the session (as Django's logout
// does); a value set after Logout, such as a "You have been logged out"
// message, goes into a new anonymous session.
//
// With a stateless session store (sessionstores/cookiestore) there is no
// server-side session to delete: Logout clears the cookie, but a copy of
// it taken earlier stays valid until it expires. Use LogoutOthers or
// RevokeUser, which bump the user's session version, to end such copies.
func (m *Manager[U]) Logout(w http.ResponseWriter, r *http.Request) error {
	var u U
	st := m.state(r)
	if st != nil && st.authed {
		u = st.user
	}
	err := m.revokeRequestSession(w, r)
	if st != nil {
		if s := st.session; s != nil {
			m.deleteSession(r.Context(), s)
		}
		if st.issuedSelector() != "" {
			// The load restored the login from the remember cookie and
			// rotated its token: the request's cookie names a consumed
			// token, and the new one is revoked here.
			m.revokeIssued(r.Context(), st)
			if st.authed {
				m.forgetRecentRotations(r.Context(), u.UserID())
			}
			m.cookie.clear(w, m.cookie.remember)
		} else {
			m.revokeRememberCookie(w, r, true)
		}
		*st = state[U]{}
	} else {
		m.revokeRememberCookie(w, r, true)
	}
	if m.hooks.LoggedOut != nil {
		m.hooks.LoggedOut(r, u)
	}
	return err
}

// revokeRequestSession deletes the session named by the request's session
// cookie and clears the cookie.
func (m *Manager[U]) revokeRequestSession(w http.ResponseWriter, r *http.Request) error {
	if m.sessions == nil {
		return nil
	}
	v, _ := cookieValue(r, m.cookie.session)
	if v == "" {
		return nil
	}
	m.cookie.clear(w, m.cookie.session)
	if m.sealer != nil {
		return nil
	}
	key, err := decodeSessionCookie(v)
	if err != nil {
		return nil
	}
	if err := m.sessions.Delete(r.Context(), key); err != nil {
		return fmt.Errorf("loginkit: logout: %w", err)
	}
	return nil
}

// ConfirmLogin marks the current session fresh again after the user
// re-entered their password (Flask-Login's confirm_login), rotating the
// session token. It also records the current client's IP address and
// User-Agent as the session's fingerprint, so that under ProtectionBasic
// the session stays fresh for the client that proved the password even
// if its network changed since the login. It returns ErrUnauthorized when
// there is no session.
func (m *Manager[U]) ConfirmLogin(w http.ResponseWriter, r *http.Request) error {
	st := m.state(r)
	if st == nil || st.userSession() == nil {
		return ErrUnauthorized
	}
	now := m.now().UTC()
	s := st.session.Clone()
	s.Fresh, s.AuthenticatedAt = true, now
	// The client that proved the password is the one session protection
	// compares with from now on (Flask-Login's confirm_login does the
	// same): otherwise a client whose IP or User-Agent changed would be
	// marked stale again on its next request.
	s.IP, s.UserAgent = m.clientIP(r), userAgent(r)
	s.Fingerprint = fingerprint(s.IP, s.UserAgent)
	if err := m.rotate(r.Context(), w, r, st, s, now); err != nil {
		return fmt.Errorf("loginkit: confirm login: %w", err)
	}
	if m.hooks.LoginConfirmed != nil {
		m.hooks.LoginConfirmed(r, st.user)
	}
	return nil
}

// Reauthenticate checks password against the current user's and, when it
// matches, calls ConfirmLogin. Errors: ErrUnauthorized without a login;
// ErrInvalidCredentials for a wrong password; ErrLocked while a lockout
// policy locks the account (the check obeys the same bound as
// Authenticate, even with the right password); otherwise a wrapped store
// or context error.
func (m *Manager[U]) Reauthenticate(w http.ResponseWriter, r *http.Request, password string) error {
	u, ok := m.CurrentUser(r)
	if !ok {
		return ErrUnauthorized
	}
	if _, err := m.verifyPassword(r.Context(), u, password); err != nil {
		return err
	}
	return m.ConfirmLogin(w, r)
}

// rotate saves s under a new token, sets the cookie, removes the old
// session and makes s the request's session.
func (m *Manager[U]) rotate(ctx context.Context, w http.ResponseWriter, r *http.Request, st *state[U], s *Session, now time.Time) error {
	old := st.session
	token, key := newSessionToken()
	s.Key = key
	s.LastSeenAt = now
	s.ExpiresAt = minTime(now.Add(m.idle), s.AbsoluteExpiresAt)
	if err := m.startSession(ctx, w, s, token); err != nil {
		return err
	}
	m.deleteSession(ctx, old)
	st.session = s
	return nil
}

// newSession builds a session for u; token is what the cookie will carry.
func (m *Manager[U]) newSession(r *http.Request, u U, now time.Time, fresh bool) (*Session, string) {
	token, key := newSessionToken()
	ip, ua := m.clientIP(r), userAgent(r)
	s := &Session{
		Key:               key,
		UserID:            u.UserID(),
		CreatedAt:         now,
		LastSeenAt:        now,
		AbsoluteExpiresAt: now.Add(m.absolute),
		Fresh:             fresh,
		Version:           versionOf(u),
		Fingerprint:       fingerprint(ip, ua),
		IP:                ip,
		UserAgent:         ua,
	}
	s.ExpiresAt = minTime(now.Add(m.idle), s.AbsoluteExpiresAt)
	if fresh {
		s.AuthenticatedAt = now
	}
	return s, token
}

// startSession stores a new session and sets its cookie.
func (m *Manager[U]) startSession(ctx context.Context, w http.ResponseWriter, s *Session, token string) error {
	if m.sealer != nil {
		_, err := m.saveSession(ctx, w, s)
		return err
	}
	if err := m.sessions.Save(ctx, s); err != nil {
		return err
	}
	m.cookie.setSession(w, token)
	return nil
}

// LogoutOthers ends every other login of the current user — other
// sessions, all remember tokens, and (through the session version) any
// stateless cookie session — and keeps this one, rotated. The remember
// cookie is deleted too, so the kept session is no longer Remembered. It
// needs a user store and a user type embedding Account. Put its route
// behind FreshRequired: otherwise a session restored from a stolen
// remember cookie could log the owner out everywhere and stay.
func (m *Manager[U]) LogoutOthers(w http.ResponseWriter, r *http.Request) error {
	st := m.state(r)
	if st == nil || st.userSession() == nil {
		return ErrUnauthorized
	}
	if err := m.bumpVersion(r.Context(), st.user, nil); err != nil {
		return err
	}
	return m.keepCurrent(w, r, st)
}

// endLoginsWithoutFactor ends the user's other logins, remember tokens
// included, once a second factor is turned on: they passed only the
// password. It is LogoutOthers where session versions exist; without a
// user store (or an Account) it deletes what the stores can list.
func (m *Manager[U]) endLoginsWithoutFactor(w http.ResponseWriter, r *http.Request, st *state[U]) error {
	err := m.bumpVersion(r.Context(), st.user, nil)
	switch {
	case err == nil:
		return m.keepCurrent(w, r, st)
	case errors.Is(err, ErrConfig):
		m.cookie.clear(w, m.cookie.remember)
		return m.revokeUser(r.Context(), st.user.UserID(), st.session.Key)
	}
	return err
}

// keepCurrent revokes the user's other sessions and tokens after a version
// bump and re-issues the current session under the new version.
func (m *Manager[U]) keepCurrent(w http.ResponseWriter, r *http.Request, st *state[U]) error {
	ctx := r.Context()
	now := m.now().UTC()
	s := st.session.Clone()
	s.Version = versionOf(st.user)
	// The remember cookie is deleted below, with every remember token:
	// the session no longer stands for a remembered login.
	s.Remembered = false
	delete(s.Values, rememberDeadlineValue)
	if err := m.rotate(ctx, w, r, st, s, now); err != nil {
		return fmt.Errorf("loginkit: keep current session: %w", err)
	}
	m.cookie.clear(w, m.cookie.remember)
	return m.revokeUser(ctx, st.user.UserID(), s.Key)
}

// RevokeUser ends every login of u everywhere: it bumps u's session
// version and deletes its sessions and remember tokens. Use it when an
// administrator disables an account or resets its password. It changes
// only the stored session version (atomically, see UserUpdater) and then
// copies the stored Account into u: save other changes, such as Disabled,
// with the user store first.
func (m *Manager[U]) RevokeUser(ctx context.Context, u U) error {
	if err := m.bumpVersion(ctx, u, nil); err != nil {
		return err
	}
	return m.revokeUser(ctx, u.UserID(), "")
}

// revokeUser deletes a user's sessions (except keepKey) and remember
// tokens. A stateless session store cannot list sessions; the session
// version, bumped by the caller, revokes those.
func (m *Manager[U]) revokeUser(ctx context.Context, userID, keepKey string) error {
	var errs []error
	if m.sealer == nil && m.sessions != nil {
		if _, err := m.sessions.DeleteByUser(ctx, userID, keepKey); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			errs = append(errs, err)
		}
	}
	if m.tokens != nil {
		for _, p := range []string{PurposeRemember, purposeRememberRotated} {
			if _, err := m.tokens.DeleteByUser(ctx, userID, p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("loginkit: revoke sessions: %w", err)
	}
	return nil
}

// bumpVersion increments u's session version and applies change (if
// any) to its account, atomically against the stored user where the store
// allows (see UserUpdater), then makes u's Account match what was stored.
func (m *Manager[U]) bumpVersion(ctx context.Context, u U, change func(a *Account) error) error {
	if accountOf(u) == nil || m.users == nil {
		return fmt.Errorf("%w: revoking sessions needs a user store and a user type embedding Account", ErrConfig)
	}
	stored, err := m.bumpVersionID(ctx, u.UserID(), change)
	if err != nil {
		return err
	}
	copyAccount(u, stored)
	return nil
}

// bumpVersionID is bumpVersion for a user known by ID.
func (m *Manager[U]) bumpVersionID(ctx context.Context, id string, change func(a *Account) error) (U, error) {
	now := m.now().UTC()
	stored, err := m.updateUser(ctx, id, func(a *Account) error {
		if change != nil {
			if err := change(a); err != nil {
				return err
			}
		}
		a.SessionVersion++
		a.UpdatedAt = now
		return nil
	})
	if err != nil {
		var zero U
		if errors.Is(err, ErrInvalidCredentials) {
			return zero, err
		}
		return zero, fmt.Errorf("loginkit: save user: %w", err)
	}
	return stored, nil
}

// Register hashes password into u's account and creates the user. A
// duplicate email or username is ErrDuplicate. These are ErrInvalid,
// refused before the store is asked: a username that is not ValidUsername,
// an email that is not ValidEmail, an account with neither email nor
// username, and an email or username that is not a username in the sense
// of RFC 8265 (the PRECIS UsernameCaseMapped profile applied to each
// space-separated part: letters and digits of any script and printable
// ASCII; no control, invisible, bidirectional-control, unassigned,
// symbol or compatibility code points). This stricter check applies to
// new accounts only, so existing accounts with other names keep working;
// lookup keys stay those of NormalizeLogin. Policies on password strength
// are the application's; Register refuses only an empty password and one
// with code points the PRECIS OpaqueString profile disallows (controls,
// default-ignorable and unassigned code points, invalid UTF-8), as do
// ChangePassword and SetPassword. The email starts unconfirmed
// (Account.EmailConfirmed); see recovery.Service.SendConfirmation.
func (m *Manager[U]) Register(ctx context.Context, u U, password string) error {
	a, err := m.account(u)
	if err != nil {
		return err
	}
	if err := a.CheckLoginNames(); err != nil {
		return err
	}
	if !validNewLoginName(a.Username) {
		return fmt.Errorf("%w: a username is made of letters, digits and ASCII punctuation, words separated by single spaces", ErrInvalid)
	}
	if !validNewLoginName(a.Email) {
		return fmt.Errorf("%w: the email address contains a character that is not allowed", ErrInvalid)
	}
	if NormalizeLogin(a.Email) == "" && NormalizeLogin(a.Username) == "" {
		return fmt.Errorf("%w: an account needs an email or a username", ErrInvalid)
	}
	h, err := m.hashNew(ctx, password)
	if err != nil {
		return err
	}
	now := m.now().UTC()
	a.PasswordHash = h
	a.ConfirmedEmail, a.EmailConfirmedAt = "", time.Time{} // a new address is unconfirmed
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.UpdatedAt = now
	return m.users.Create(ctx, u)
}

// ChangePassword changes the current user's password after checking the
// current one (ErrInvalidCredentials when it is wrong, ErrLocked while a
// lockout policy locks the account, as for Reauthenticate), then logs out
// every other session and remember token and keeps this session, rotated
// (and no longer Remembered: this browser's remember cookie is deleted
// too). An empty new password, or one that is not ValidPassword, is
// ErrInvalid; ErrUnauthorized without a login.
func (m *Manager[U]) ChangePassword(w http.ResponseWriter, r *http.Request, current, next string) error {
	st := m.state(r)
	if st == nil || st.userSession() == nil {
		return ErrUnauthorized
	}
	ctx := r.Context()
	verified, err := m.verifyPassword(ctx, st.user, current)
	if err != nil {
		return err
	}
	h, err := m.hashNew(ctx, next)
	if err != nil {
		return err
	}
	err = m.bumpVersion(ctx, st.user, func(a *Account) error {
		if a.PasswordHash != verified {
			// Changed by someone else since the check: the current
			// password given here is no longer current.
			return ErrInvalidCredentials
		}
		a.PasswordHash = h
		return nil
	})
	if err != nil {
		return err
	}
	return m.keepCurrent(w, r, st)
}

// SetPassword sets u's password without checking the old one (an
// administrator's reset) and ends all of u's logins.
func (m *Manager[U]) SetPassword(ctx context.Context, u U, password string) error {
	if _, err := m.account(u); err != nil {
		return err
	}
	h, err := m.hashNew(ctx, password)
	if err != nil {
		return err
	}
	if err := m.bumpVersion(ctx, u, func(a *Account) error { a.PasswordHash = h; return nil }); err != nil {
		return err
	}
	return m.revokeUser(ctx, u.UserID(), "")
}

func (m *Manager[U]) hashNew(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("%w: empty password", ErrInvalid)
	}
	if !ValidPassword(password) {
		return "", fmt.Errorf("%w: the password contains a character that is not allowed (a control, invisible or unassigned code point)", ErrInvalid)
	}
	return m.hasher.Hash(ctx, password)
}

// account returns u's Account, or an error when password operations are
// not configured for this manager.
func (m *Manager[U]) account(u U) (*Account, error) {
	if m.users == nil || m.hasher == nil {
		return nil, fmt.Errorf("%w: password operations need a user store and a hasher", ErrConfig)
	}
	if isNil(u) {
		return nil, fmt.Errorf("%w: nil user", ErrInvalid)
	}
	a := accountOf(u)
	if a == nil {
		return nil, fmt.Errorf("%w: password operations need a user type embedding loginkit.Account", ErrConfig)
	}
	return a, nil
}
