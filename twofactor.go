package loginkit

// Two-factor login, the shared part. After the password, Login calls
// startPending for a user hasSecondFactor says has one: a short-lived
// session marked pendingValue, which the middleware (loadPending) keeps
// out of every login state, so CurrentUser, CurrentSession and the guards
// see an anonymous request. A factor kind then supplies only its check:
// factorStep loads the pending user (PendingUser), applies the lockout
// and the per-account wrong-code limit, runs the check, and completes the
// login (completePending: a fresh session under a new token, the factor
// kind and time recorded in it for twofactor.Passed, remember-me if asked
// for) or, for a logged-in session, records the factor as verified again.
// TOTP and recovery codes are two such kinds; another (a passkey) adds a
// FactorKind, a clause in hasSecondFactor and a check for factorStep.

import (
	"context"
	"errors"
	"fmt"
	"github.com/loginkit/loginkit/internal/seam"
	"net/http"
	"strconv"
	"time"
)

// Defaults of SecondFactorOptions, stated in its field comments.
const (
	defaultPendingFor      = 5 * time.Minute
	defaultMaxCodeAttempts = 5
	defaultCodeAttemptsIn  = 15 * time.Minute
	defaultRecoveryCodes   = 10
)

const (
	purposeFactorAttempt    = "second-factor-attempt"
	pendingValue            = seam.PendingValue
	pendingRememberValue    = "loginkit.2fa.remember"
	factorKindValue         = seam.FactorKindValue
	factorAtValue           = seam.FactorAtValue
	enrolValue              = "loginkit.2fa.enrol"
	sealPurposeTOTP         = "totp"
	sealPurposeEnrolment    = "totp-enrolment"
	minRecoveryCodes        = 1
	maxRecoveryCodes        = 100
	defaultTOTPAccountLabel = "account"
)

// SecondFactorOptions configures two-factor login (Builder.SecondFactor).
type SecondFactorOptions struct {
	// Key is the SecondFactorKeySize-byte secret key that encrypts TOTP
	// secrets at rest (XChaCha20-Poly1305, keys derived with HKDF) and
	// keys the hashes of recovery codes. Keep it outside the database
	// (an environment variable or a secret manager): without it the
	// stored secrets cannot be read, and with it they can. Required.
	Key []byte
	// OldKeys are earlier keys, for rotation: secrets sealed and recovery
	// codes hashed under them keep working, while everything new uses
	// Key. Keep an old key until every user enrolled under it has
	// re-enrolled or disabled the factor.
	OldKeys [][]byte
	// Issuer names the application in authenticator apps. Required.
	Issuer string
	// PendingFor is how long the "second factor pending" state lasts
	// after a correct password; default 5 minutes.
	PendingFor time.Duration
	// MaxAttempts wrong codes per account within AttemptWindow are
	// allowed; further attempts are refused with ErrLocked until the
	// window has passed. Defaults: 5 in 15 minutes. Wrong codes are also
	// reported to LoginRecorder policies (policies.Lockout) as failed
	// logins.
	MaxAttempts   int
	AttemptWindow time.Duration
	// RecoveryCodes is the number of recovery codes generated at a time;
	// default 10.
	RecoveryCodes int
}

// factorConfig is the manager's second-factor configuration.
type factorConfig struct {
	store       SecondFactorStore
	keys        []factorKey // keys[0] seals and hashes new codes
	issuer      string
	pendingFor  time.Duration
	maxAttempts int
	window      time.Duration
	nCodes      int
}

// SecondFactor enables two-factor login: TOTP authenticator apps and
// recovery codes, kept in store. It needs a token store (Tokens), which
// counts wrong codes. With it, Login starts a "second factor pending"
// state instead of a login for a user who has enrolled (see Login and
// PendingUser); users without a second factor log in as before.
func (b *Builder[U]) SecondFactor(store SecondFactorStore, o SecondFactorOptions) *Builder[U] {
	bad := func(format string, args ...any) {
		b.errs = append(b.errs, fmt.Errorf("%w: second factor: "+format, append([]any{ErrConfig}, args...)...))
	}
	if store == nil {
		bad("a SecondFactorStore is required")
	}
	if o.Issuer == "" {
		bad("an Issuer is required (authenticator apps show it)")
	}
	if o.PendingFor < 0 || o.AttemptWindow < 0 || o.MaxAttempts < 0 || o.RecoveryCodes < 0 {
		bad("options must not be negative")
	}
	if o.RecoveryCodes != 0 && (o.RecoveryCodes < minRecoveryCodes || o.RecoveryCodes > maxRecoveryCodes) {
		bad("RecoveryCodes must be between %d and %d", minRecoveryCodes, maxRecoveryCodes)
	}
	f := &factorConfig{
		store:       store,
		issuer:      o.Issuer,
		pendingFor:  orDefault(o.PendingFor, defaultPendingFor),
		maxAttempts: o.MaxAttempts,
		window:      orDefault(o.AttemptWindow, defaultCodeAttemptsIn),
		nCodes:      o.RecoveryCodes,
	}
	if f.maxAttempts == 0 {
		f.maxAttempts = defaultMaxCodeAttempts
	}
	if f.nCodes == 0 {
		f.nCodes = defaultRecoveryCodes
	}
	for i, k := range append([][]byte{o.Key}, o.OldKeys...) {
		fk, err := deriveFactorKey(k)
		if err != nil {
			if i == 0 {
				bad("Key: %v", err)
			} else {
				bad("OldKeys[%d]: %v", i-1, err)
			}
			continue
		}
		f.keys = append(f.keys, fk)
	}
	b.factors = f
	return b
}

// hasSecondFactor reports whether the user must pass a second factor
// after the password. Today that is an enabled authenticator app;
// another factor kind (a passkey) adds its own check here, and completes
// the pending login through factorStep with its own FactorKind.
func (m *Manager[U]) hasSecondFactor(ctx context.Context, userID string) (bool, error) {
	on, err := m.hasTOTP(ctx, userID)
	if on || err != nil || m.passkeys == nil {
		return on, err
	}
	return m.hasPasskey(ctx, userID)
}

// hasTOTP reports whether the user has an enabled authenticator app.
func (m *Manager[U]) hasTOTP(ctx context.Context, userID string) (bool, error) {
	f, err := m.factors.store.GetSecondFactor(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("loginkit: second factor: %w", err)
	}
	return len(f.TOTPSecret) > 0, nil
}

// startPending replaces the request's session by a pending one for u.
// Called by Login once the password step is done.
func (m *Manager[U]) startPending(w http.ResponseWriter, r *http.Request, u U, opts LoginOptions, now time.Time) error {
	ctx := r.Context()
	c := m.reqOf(r)
	if c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.varyOnCookie()
	}
	prev, carried := m.priorSession(r, c, now)
	m.revokeRequestSession(w, r)
	if carried != nil {
		m.deleteSession(ctx, carried.session)
		m.deleteSession(ctx, carried.pendingLogin())
		m.revokeIssued(ctx, carried)
	}
	m.revokeRememberCookie(w, r, false)
	s, token := m.newSession(r, u, now, false)
	s.ExpiresAt = now.Add(m.factors.pendingFor)
	s.AbsoluteExpiresAt = s.ExpiresAt
	// Application values ride along to the login (see Login).
	s.Values = map[string]string{}
	if prev != nil && (prev.UserID == "" || prev.UserID == u.UserID()) {
		for k, v := range appValues(prev.Values) {
			s.Values[k] = v
		}
	}
	s.Values[pendingValue] = "1"
	if opts.Remember {
		d := opts.RememberFor
		if d <= 0 {
			d = m.remember.Duration
		}
		s.Values[pendingRememberValue] = strconv.FormatInt(int64(d/time.Second), 10)
	}
	if err := m.startSession(ctx, w, s, token); err != nil {
		return fmt.Errorf("loginkit: login: %w", err)
	}
	if c != nil {
		c.loaded.Store(true)
		c.st = state[U]{extra: &stateExtra{pending: s}}
	}
	return ErrSecondFactorRequired
}

// loadPending handles a pending session found by the middleware: the
// request stays anonymous, and the session is kept for the second-factor
// step unless session protection sees another client.
func (m *Manager[U]) loadPending(w http.ResponseWriter, r *http.Request, st *state[U], s *Session) {
	if m.factors == nil {
		m.deleteSession(r.Context(), s)
		m.cookie.clear(w, m.cookie.session)
		return
	}
	if m.protection != ProtectionOff {
		ip, ua := m.clientIP(r), userAgent(r)
		if !(s.IP == ip && s.UserAgent == ua) && !fingerprintMatches(ip, ua, s.Fingerprint) {
			st.event(evProtected, s.UserID)
			m.deleteSession(r.Context(), s)
			m.cookie.clear(w, m.cookie.session)
			return
		}
	}
	st.more().pending = s
}

// pendingUserOK implements twofactor.Service.PendingUser, which documents its contract.
func (m *Manager[U]) pendingUserOK(r *http.Request) (U, bool) {
	u, _, err := m.pendingUser(r)
	return u, err == nil
}

// pendingUser loads the user of the request's pending state.
func (m *Manager[U]) pendingUser(r *http.Request) (U, *Session, error) {
	var zero U
	st := m.state(r)
	if st == nil || st.pendingLogin() == nil || m.factors == nil {
		return zero, nil, ErrUnauthorized
	}
	s := st.pendingLogin()
	if !m.now().Before(s.ExpiresAt) {
		return zero, nil, ErrUnauthorized
	}
	u, err := m.loader.LoadUser(r.Context(), s.UserID)
	if err == nil && isNil(u) {
		err = ErrNotFound
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return zero, nil, ErrUnauthorized
	case err != nil:
		return zero, nil, fmt.Errorf("loginkit: second factor: load user: %w", err)
	case versionOf(u) != s.Version || !u.IsActive():
		return zero, nil, ErrUnauthorized
	}
	return u, s, nil
}

// factorStep runs one second-factor attempt of the given kind for the
// request: in the pending state it completes the login, and for a
// logged-in user it re-confirms the factor (see policies.RecentSecondFactor).
// check verifies what the user gave; it returns ErrInvalidCode (possibly
// wrapped) for a wrong code. The attempt is refused with ErrLocked when
// the account is locked or has used up its wrong codes for the window,
// and a wrong code is counted against both limits.
func (m *Manager[U]) factorStep(w http.ResponseWriter, r *http.Request, kind FactorKind, check func(ctx context.Context, u U) error) error {
	if err := m.factorsOn(); err != nil {
		return err
	}
	ctx := r.Context()
	st := m.state(r)
	var u U
	pending := st != nil && st.pendingLogin() != nil
	switch {
	case pending:
		pu, _, err := m.pendingUser(r)
		if err != nil {
			return err
		}
		u = pu
	case st != nil && st.authed && st.session != nil:
		u = st.user
	default:
		return ErrUnauthorized
	}
	now := m.now().UTC()
	if err := m.checkPolicies(ctx, m.policies, &Check{Stage: StageLogin, User: u, Account: accountOf(u), Request: r, Now: now}); errors.Is(err, ErrLocked) {
		m.factorFailed(r, u.UserID(), kind, err)
		return err
	}
	// Two limits, each reserved before the code is checked so that
	// concurrent attempts cannot slip past them: the account's lockout
	// (LoginRecorder policies count the attempt as failed until it
	// succeeds), and the second factor's own count of wrong codes per
	// window, which a correct password does not reset.
	res, err := m.reserveAttempt(ctx, u, now)
	switch {
	case errors.Is(err, ErrLocked):
		m.factorFailed(r, u.UserID(), kind, err)
		return err
	case errors.Is(err, ErrNotFound):
		return ErrUnauthorized
	case err != nil:
		return fmt.Errorf("loginkit: second factor: %w", err)
	}
	// From here on a failure stays counted by the lockout: only a right
	// code refunds it (settleFactor records a success, which would also
	// clear earlier failures).
	release, err := m.reserveFactorAttempt(ctx, u.UserID(), now)
	if err != nil {
		m.factorFailed(r, u.UserID(), kind, err)
		return err
	}
	if err := check(ctx, u); err != nil {
		if !errors.Is(err, ErrInvalidCode) {
			release(false) // not a wrong code: not counted as one
		}
		m.factorFailed(r, u.UserID(), kind, err)
		return err
	}
	if err := m.settleFactor(ctx, u, now, res); err != nil {
		m.factorFailed(r, u.UserID(), kind, err)
		return err
	}
	release(true)
	if pending {
		if err := m.completePending(w, r, st, u, kind, now); err != nil {
			return err
		}
	} else {
		s := st.session.Clone()
		s.Values = withFactor(s.Values, kind, now)
		if err := m.rotate(ctx, w, r, st, s, now); err != nil {
			return fmt.Errorf("loginkit: second factor: %w", err)
		}
	}
	if m.hooks.SecondFactorSucceeded != nil {
		m.hooks.SecondFactorSucceeded(r, u, kind)
	}
	return nil
}

func (m *Manager[U]) factorFailed(r *http.Request, userID string, kind FactorKind, err error) {
	if m.hooks.SecondFactorFailed != nil {
		m.hooks.SecondFactorFailed(r, userID, kind, err)
	}
}

// withFactor returns values (copied) recording a second factor of kind
// verified at now.
func withFactor(values map[string]string, kind FactorKind, now time.Time) map[string]string {
	out := make(map[string]string, len(values)+2)
	for k, v := range values {
		out[k] = v
	}
	out[factorKindValue] = string(kind)
	out[factorAtValue] = strconv.FormatInt(now.UnixMilli(), 10)
	return out
}

// completeSecondFactor implements twofactor.Service.Complete, which documents its contract.
func (m *Manager[U]) completeSecondFactor(w http.ResponseWriter, r *http.Request, kind FactorKind) error {
	if kind == "" {
		return fmt.Errorf("%w: empty factor kind", ErrInvalid)
	}
	return m.factorStep(w, r, kind, func(context.Context, U) error { return nil })
}

// completePending turns the pending session into a login.
func (m *Manager[U]) completePending(w http.ResponseWriter, r *http.Request, st *state[U], u U, kind FactorKind, now time.Time) error {
	ctx := r.Context()
	p := st.pendingLogin()
	s, token := m.newSession(r, u, now, true)
	s.Values = withFactor(appValues(p.Values), kind, now)
	var deadline time.Time
	if secs, err := strconv.ParseInt(p.Values[pendingRememberValue], 10, 64); err == nil && secs > 0 && m.remember != nil {
		deadline = now.Add(time.Duration(secs) * time.Second)
		s.Values = m.withRememberDeadline(s.Values, deadline)
	}
	if err := m.startSession(ctx, w, s, token); err != nil {
		return fmt.Errorf("loginkit: second factor: %w", err)
	}
	m.deleteSession(ctx, p)
	issued := ""
	if !deadline.IsZero() {
		sel, err := m.issueRememberFor(ctx, w, u, s, now, deadline)
		if err != nil {
			return fmt.Errorf("loginkit: second factor: remember token: %w", err)
		}
		issued = sel
	}
	*st = loggedIn(u, s, issued)
	if m.hooks.LoggedIn != nil {
		m.hooks.LoggedIn(r, u)
	}
	return nil
}

// settleFactor refunds the lockout reservation of an attempt that
// succeeded, recording a success (see settleAttempt). It returns
// ErrLocked when a lock landed while the attempt ran.
func (m *Manager[U]) settleFactor(ctx context.Context, u U, now time.Time, res reservation) error {
	if !m.hasRecorders() {
		return nil
	}
	_, err := m.updateUser(ctx, u.UserID(), func(a *Account) error {
		return m.settleAttempt(ctx, u, a, now, res)
	})
	switch {
	case errors.Is(err, ErrLocked):
		return err
	case err != nil:
		m.logger.WarnContext(ctx, "loginkit: could not record second-factor success", "user", u.UserID(), "error", err)
	}
	return nil
}

// reserveFactorAttempt counts an attempt before it is checked, so that
// concurrent attempts cannot all slip under the limit: it stores an
// attempt record (a token that expires after the window) and refuses
// with ErrLocked when the user already has MaxAttempts unexpired ones.
// release(true) forgets the user's recorded attempts after a success;
// release(false) forgets only this one (an attempt that could not be
// checked). A wrong code keeps its record until the window has passed.
func (m *Manager[U]) reserveFactorAttempt(ctx context.Context, userID string, now time.Time) (release func(success bool), err error) {
	sel := "2fa-" + NewID()
	t := &Token{Selector: sel, ValidatorHash: "-", UserID: userID, Purpose: purposeFactorAttempt, CreatedAt: now, ExpiresAt: now.Add(m.factors.window)}
	if err := m.tokens.Create(ctx, t); err != nil {
		return nil, fmt.Errorf("loginkit: second factor: count attempt: %w", err)
	}
	list, err := m.tokens.ListByUser(ctx, userID, purposeFactorAttempt)
	if err != nil {
		_ = m.tokens.Delete(context.WithoutCancel(ctx), sel)
		return nil, fmt.Errorf("loginkit: second factor: count attempts: %w", err)
	}
	if len(list) > m.factors.maxAttempts {
		_ = m.tokens.Delete(context.WithoutCancel(ctx), sel)
		return nil, fmt.Errorf("%w: too many wrong codes, try again later", ErrLocked)
	}
	return func(success bool) {
		ctx := context.WithoutCancel(ctx)
		var err error
		if success {
			_, err = m.tokens.DeleteByUser(ctx, userID, purposeFactorAttempt)
		} else {
			err = m.tokens.Delete(ctx, sel)
		}
		if err != nil {
			m.logger.WarnContext(ctx, "loginkit: could not clear second-factor attempts", "user", userID, "error", err)
		}
	}, nil
}

// factorStatus describes a user's second factors, for an account
// page.
type factorStatus struct {
	// TOTP reports an enabled authenticator app.
	TOTP bool
	// TOTPEnabledAt is when it was enabled.
	TOTPEnabledAt time.Time
	// RecoveryCodesLeft is the number of unused recovery codes.
	RecoveryCodesLeft int
}

// secondFactorStatus implements twofactor.Service.Status, which documents its contract.
func (m *Manager[U]) secondFactorStatus(ctx context.Context, u U) (factorStatus, error) {
	if err := m.factorsOn(); err != nil {
		return factorStatus{}, err
	}
	f, err := m.factors.store.GetSecondFactor(ctx, u.UserID())
	switch {
	case errors.Is(err, ErrNotFound):
		return factorStatus{}, nil
	case err != nil:
		return factorStatus{}, fmt.Errorf("loginkit: second factor status: %w", err)
	}
	return factorStatus{TOTP: len(f.TOTPSecret) > 0, TOTPEnabledAt: f.TOTPEnabledAt, RecoveryCodesLeft: len(f.RecoveryCodes)}, nil
}

// disableSecondFactor implements twofactor.Service.Disable, which documents its contract.
func (m *Manager[U]) disableSecondFactor(w http.ResponseWriter, r *http.Request) error {
	u, _, err := m.freshFactorUser(r)
	if err != nil {
		return err
	}
	if err := m.factors.store.DeleteSecondFactor(r.Context(), u.UserID()); err != nil {
		return fmt.Errorf("loginkit: disable second factor: %w", err)
	}
	if m.hooks.SecondFactorDisabled != nil {
		m.hooks.SecondFactorDisabled(r, u)
	}
	return nil
}

// factorsOn reports, matching ErrConfig, a manager built without
// Builder.SecondFactor.
func (m *Manager[U]) factorsOn() error {
	if m.factors == nil {
		return fmt.Errorf("%w: second factors are not configured (Builder.SecondFactor)", ErrConfig)
	}
	return nil
}

// freshFactorUser returns the logged-in user for an operation that needs
// a fresh session.
func (m *Manager[U]) freshFactorUser(r *http.Request) (U, *state[U], error) {
	var zero U
	if err := m.factorsOn(); err != nil {
		return zero, nil, err
	}
	st := m.state(r)
	if st == nil || !st.authed || st.session == nil {
		return zero, nil, ErrUnauthorized
	}
	if !m.isFresh(st.session, m.now()) {
		return zero, nil, ErrNeedsRefresh
	}
	return st.user, st, nil
}
