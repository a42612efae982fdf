package loginkit

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Remember-me tokens are split into a public selector, which names the
// token in the TokenStore, and a secret validator, stored only as a hash.
// Each use rotates the token: the old selector is consumed, a new token is
// issued, and a record of the rotation is kept under rotatedSelector(old)
// until the old token would have expired. A later request presenting the
// old cookie is then either a parallel request of the same browser (within
// the grace window: it is let in without another rotation) or a replay of
// a stolen cookie (after it: every session and remember token of the user
// is revoked).

// rotatedSelector names the record of a rotation. The '~' keeps it
// outside the selectors the manager issues (base64url has no '~').
func rotatedSelector(selector string) string { return "~" + selector }

// loadRemembered restores a login from the remember cookie. It reports
// done when a user was found or a store failed.
func (m *Manager[U]) loadRemembered(w http.ResponseWriter, r *http.Request, st *state[U], now time.Time) bool {
	v, oversized := cookieValue(r, m.cookie.remember)
	if oversized {
		m.cookie.clear(w, m.cookie.remember)
		return false
	}
	if v == "" {
		return false
	}
	sel, val, err := parseSplitToken(v)
	if err != nil {
		m.cookie.clear(w, m.cookie.remember)
		return false
	}
	ctx := r.Context()
	t, err := m.tokens.Get(ctx, sel)
	if errors.Is(err, ErrNotFound) {
		return m.loadRotated(w, r, st, sel, val, now)
	}
	if err != nil {
		m.storeFailed(r, "load remember token", err)
		st.more().err = err
		return true
	}
	if t.Purpose != PurposeRemember || !splitValidatorMatches(val, t.ValidatorHash) || !now.Before(t.ExpiresAt) {
		// Whoever sent this does not hold the secret; leave the token be.
		m.cookie.clear(w, m.cookie.remember)
		return false
	}
	u, ok := m.rememberedUser(w, r, st, t)
	if !ok {
		return st.failed() != nil
	}
	if sel := m.rotateRemember(w, r, u, t, now); sel != "" {
		st.more().issued = sel
	}
	return m.restore(w, r, st, u, t.ExpiresAt, now)
}

// rotateRemember replaces the remember token t, which the request's
// cookie holds, with a new one that keeps t's deadline. The writes are
// ordered so that no store failure can leave the browser holding a cookie
// that the next request would take for a stolen one:
//
//  1. the new token is created (if that fails, t stays valid and is used
//     again next time: no rotation this time);
//  2. the rotation record is created, which lets parallel requests with
//     the old cookie in within the grace window and catches a replay
//     after it (if that fails, the new token is dropped and t stays
//     valid);
//  3. t is consumed. When that succeeds, or fails in a way that may have
//     consumed it, the new cookie is set; only when a parallel request
//     consumed t first is the new token dropped, that request's response
//     carrying its own new cookie.
//
// Failures are logged as warnings: the request itself is served from t.
// It returns the new token's selector when the browser got its cookie.
func (m *Manager[U]) rotateRemember(w http.ResponseWriter, r *http.Request, u U, t *Token, now time.Time) string {
	ctx := r.Context()
	next, cookie := newRememberToken(u, now, t.ExpiresAt)
	if err := m.tokens.Create(ctx, next); err != nil {
		m.logger.WarnContext(ctx, "loginkit: could not rotate remember token; the current one stays valid", "op", "create", "error", err)
		m.dropToken(ctx, next.Selector) // in case it was stored after all
		return ""
	}
	rec := &Token{
		Selector:      rotatedSelector(t.Selector),
		ValidatorHash: t.ValidatorHash,
		UserID:        t.UserID,
		Purpose:       purposeRememberRotated,
		Version:       t.Version,
		CreatedAt:     now,
		ExpiresAt:     t.ExpiresAt,
	}
	if err := m.createRotationRecord(ctx, rec); err != nil {
		m.logger.WarnContext(ctx, "loginkit: could not rotate remember token; the current one stays valid", "op", "record", "error", err)
		m.dropToken(ctx, next.Selector)
		m.dropToken(ctx, rec.Selector) // in case it was stored after all
		return ""
	}
	_, err := m.tokens.Consume(ctx, t.Selector)
	switch {
	case errors.Is(err, ErrNotFound):
		// A parallel request rotated it a moment ago; its response
		// carries the new cookie.
		m.dropToken(ctx, next.Selector)
		return ""
	case err != nil:
		// t may or may not be consumed: the new token is valid either
		// way, so the browser gets it.
		m.logger.WarnContext(ctx, "loginkit: could not consume rotated remember token", "error", err)
	}
	m.cookie.setRemember(w, cookie, t.ExpiresAt.Sub(now))
	return next.Selector
}

// createRotationRecord stores rec. A record already stored under its
// selector is kept when it was made within the grace window (a parallel
// request's rotation of the same token); an older one is left over from a
// rotation that failed half-way, and is replaced, lest its age make the
// next parallel request look like a theft.
func (m *Manager[U]) createRotationRecord(ctx context.Context, rec *Token) error {
	err := m.tokens.Create(ctx, rec)
	if !errors.Is(err, ErrDuplicate) {
		return err
	}
	old, err := m.tokens.Get(ctx, rec.Selector)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case rec.CreatedAt.Sub(old.CreatedAt) <= m.remember.Grace:
		return nil
	default:
		if err := m.tokens.Delete(ctx, rec.Selector); err != nil {
			return err
		}
	}
	if err := m.tokens.Create(ctx, rec); err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	return nil
}

// dropToken deletes a token the manager no longer needs; a failure only
// leaves an unused token to expire.
func (m *Manager[U]) dropToken(ctx context.Context, selector string) {
	if err := m.tokens.Delete(ctx, selector); err != nil {
		m.logger.WarnContext(ctx, "loginkit: could not delete unused remember token", "error", err)
	}
}

// loadRotated handles a remember cookie whose token was already rotated.
func (m *Manager[U]) loadRotated(w http.ResponseWriter, r *http.Request, st *state[U], sel, val string, now time.Time) bool {
	ctx := r.Context()
	rec, err := m.tokens.Get(ctx, rotatedSelector(sel))
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			m.storeFailed(r, "load remember token", err)
			st.more().err = err
			return true
		}
		m.cookie.clear(w, m.cookie.remember)
		return false
	}
	if rec.Purpose != purposeRememberRotated || !splitValidatorMatches(val, rec.ValidatorHash) {
		m.cookie.clear(w, m.cookie.remember)
		return false
	}
	if now.Sub(rec.CreatedAt) <= m.remember.Grace {
		u, ok := m.rememberedUser(w, r, st, rec)
		if !ok {
			return st.failed() != nil
		}
		return m.restore(w, r, st, u, rec.ExpiresAt, now)
	}
	// A cookie that was rotated away long ago came back: someone else
	// holds a copy. Revoke everything the user has.
	m.logger.WarnContext(ctx, "loginkit: rotated remember cookie replayed; revoking the user's sessions and tokens", "user", rec.UserID)
	if m.users != nil {
		// The version bump also ends stateless cookie sessions, which
		// cannot be deleted one by one.
		if _, err := m.bumpVersionID(ctx, rec.UserID, nil); err != nil && !errors.Is(err, ErrNotFound) {
			m.storeFailed(r, "revoke after remember theft", err)
		}
	}
	if err := m.revokeUser(ctx, rec.UserID, ""); err != nil {
		m.storeFailed(r, "revoke after remember theft", err)
	}
	m.cookie.clear(w, m.cookie.remember)
	st.event(evTheft, rec.UserID)
	return false
}

// rememberedUser loads and checks the user a remember token belongs to.
func (m *Manager[U]) rememberedUser(w http.ResponseWriter, r *http.Request, st *state[U], t *Token) (U, bool) {
	ctx := r.Context()
	u, err := m.loader.LoadUser(ctx, t.UserID)
	if err == nil && isNil(u) {
		err = ErrNotFound
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		m.storeFailed(r, "load user", err)
		st.more().err = err
		return u, false
	}
	if err != nil || versionOf(u) != t.Version || !u.IsActive() {
		if t.Purpose == PurposeRemember {
			if err := m.tokens.Delete(ctx, t.Selector); err != nil {
				m.logger.WarnContext(ctx, "loginkit: could not delete remember token", "error", err)
			}
		}
		m.cookie.clear(w, m.cookie.remember)
		var zero U
		return zero, false
	}
	return u, true
}

// restore starts a non-fresh session for a remembered user, whose
// remember-me ends at deadline. The values of an anonymous session the
// request carried move into it.
func (m *Manager[U]) restore(w http.ResponseWriter, r *http.Request, st *state[U], u U, deadline, now time.Time) bool {
	s, token := m.newSession(r, u, now, false)
	s.Remembered = true
	anon := st.session
	if anon != nil {
		s.Values = appValues(anon.Values)
	}
	s.Values = m.withRememberDeadline(s.Values, deadline)
	if err := m.startSession(r.Context(), w, s, token); err != nil {
		m.storeFailed(r, "save session", err)
		st.more().err = err
		return true
	}
	m.deleteSession(r.Context(), anon)
	st.user, st.authed, st.session = u, true, s
	st.event(evRestored, "")
	return true
}

// rememberDeadlineValue is the Session.Values key recording when the
// remember-me of the session's login ends (Unix seconds), so that
// RefreshEachRequest re-sets the remember cookie without extending it.
const rememberDeadlineValue = "loginkit.remember.until"

// withRememberDeadline returns vals (allocated if nil) recording deadline,
// when RefreshEachRequest needs it; otherwise vals unchanged, so that a
// remembered session costs no values map on every request.
func (m *Manager[U]) withRememberDeadline(vals map[string]string, deadline time.Time) map[string]string {
	if !m.remember.RefreshEachRequest {
		return vals
	}
	if vals == nil {
		vals = make(map[string]string, 1)
	}
	vals[rememberDeadlineValue] = strconv.FormatInt(deadline.Unix(), 10)
	return vals
}

// rememberLeft returns how long the remember-me of session s has left,
// or 0 when s records no deadline (a login without remember-me, or one
// made before deadlines were recorded).
func rememberLeft(s *Session, now time.Time) time.Duration {
	v := s.Values[rememberDeadlineValue]
	if v == "" {
		return 0
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0
	}
	return max(time.Unix(sec, 0).Sub(now), 0)
}

// issueRemember creates a remember token for u that expires at deadline,
// sets its cookie to expire with it and returns its selector.
func (m *Manager[U]) issueRemember(ctx context.Context, w http.ResponseWriter, u U, now, deadline time.Time) (string, error) {
	t, cookie := newRememberToken(u, now, deadline)
	if err := m.tokens.Create(ctx, t); err != nil {
		return "", err
	}
	m.cookie.setRemember(w, cookie, deadline.Sub(now))
	return t.Selector, nil
}

// issueRememberFor is issueRemember for the login that just started
// session s: when the token cannot be issued, it ends that session too
// (deletes it and clears its cookie), so that a login asked to be
// remembered is not left half done.
func (m *Manager[U]) issueRememberFor(ctx context.Context, w http.ResponseWriter, u U, s *Session, now, deadline time.Time) (string, error) {
	sel, err := m.issueRemember(ctx, w, u, now, deadline)
	if err != nil {
		m.deleteSession(ctx, s)
		m.cookie.clear(w, m.cookie.session)
		return "", err
	}
	return sel, nil
}

// newRememberToken returns a new remember token for u and the cookie
// value that proves it.
func newRememberToken[U User](u U, now, deadline time.Time) (*Token, string) {
	sel, val, cookie := newSplitToken()
	return &Token{
		Selector:      sel,
		ValidatorHash: hashToken(val),
		UserID:        u.UserID(),
		Purpose:       PurposeRemember,
		Version:       versionOf(u),
		CreatedAt:     now,
		ExpiresAt:     deadline,
	}, cookie
}

// revokeRememberCookie deletes the remember token named by the request's
// remember cookie, if the cookie holds its secret, and clears the cookie.
// A cookie carrying only a known selector (selectors are not secret)
// deletes nothing. With forget, it also deletes the user's rotation
// records from the last grace window, so that a cookie this browser held
// a moment ago cannot log in again through the grace path.
func (m *Manager[U]) revokeRememberCookie(w http.ResponseWriter, r *http.Request, forget bool) {
	if m.remember == nil {
		return
	}
	v, _ := cookieValue(r, m.cookie.remember)
	if v == "" {
		return
	}
	ctx := r.Context()
	if sel, val, err := parseSplitToken(v); err == nil {
		t, err := m.tokens.Get(ctx, sel)
		switch {
		case err == nil && t.Purpose == PurposeRemember && splitValidatorMatches(val, t.ValidatorHash):
			if err := m.tokens.Delete(ctx, sel); err != nil {
				m.logger.WarnContext(ctx, "loginkit: could not delete remember token", "error", err)
			}
			if forget {
				m.forgetRecentRotations(ctx, t.UserID)
			}
		case err != nil && !errors.Is(err, ErrNotFound):
			m.logger.WarnContext(ctx, "loginkit: could not delete remember token", "error", err)
		}
	}
	m.cookie.clear(w, m.cookie.remember)
}

// forgetRecentRotations deletes the user's rotation records created
// within the grace window. Older ones stay, so that a replay of a cookie
// rotated away long ago is still caught as theft.
func (m *Manager[U]) forgetRecentRotations(ctx context.Context, userID string) {
	recs, err := m.tokens.ListByUser(ctx, userID, purposeRememberRotated)
	if err != nil {
		m.logger.WarnContext(ctx, "loginkit: could not list remember rotations", "error", err)
		return
	}
	now := m.now()
	for _, rec := range recs {
		if now.Sub(rec.CreatedAt) <= m.remember.Grace {
			if err := m.tokens.Delete(ctx, rec.Selector); err != nil {
				m.logger.WarnContext(ctx, "loginkit: could not delete remember rotation", "error", err)
			}
		}
	}
}
