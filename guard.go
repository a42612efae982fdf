package loginkit

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Required protects next: Flask-Login's login_required. An anonymous
// request gets the unauthorized response: a browser request (one whose
// Accept header includes text/html) is redirected with 303 See Other to
// the login URL with "next" set to the original path and query; any other
// request, or any request when no login URL is configured, gets 401 with a
// small JSON body. A logged-in user must also pass the manager's policies.
// Every method is checked, OPTIONS included: a handler registered without
// a method in its pattern sees every method, and anyone can send an
// OPTIONS request (or forge a CORS preflight), so letting it through
// would run the handler for someone the guard refuses. Answer CORS
// preflights in a CORS middleware placed in front of the guards. When a
// store fails while loading the user, the response is 503.
//
// Required loads the user itself when Middleware is not in front of it.
func (m *Manager[U]) Required(next http.Handler) http.Handler { return m.guard(next, false, nil) }

// FreshRequired protects next like Required and also requires a fresh
// session (Flask-Login's fresh_login_required): one started by a password
// login or confirmed with ConfirmLogin, within FreshFor when that is set.
// A logged-in but stale request gets the needs-refresh response: a redirect
// to the refresh URL with "next", or 401 with a JSON body.
func (m *Manager[U]) FreshRequired(next http.Handler) http.Handler {
	return m.guard(next, true, nil)
}

// Guard returns middleware that protects a handler like Required and also
// checks the given policies at StageRequest.
func (m *Manager[U]) Guard(policies ...Policy) func(http.Handler) http.Handler {
	ps := append([]Policy(nil), policies...)
	return func(next http.Handler) http.Handler { return m.guard(next, false, ps) }
}

func (m *Manager[U]) guard(next http.Handler, fresh bool, extra []Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := m.reqOf(r)
		if c == nil {
			// Used without Middleware: the guard makes the state.
			c, r = newReqState(m, w, r)
		}
		st := m.stateOf(c, r)
		if !st.authed {
			if st.failed() != nil {
				m.respondUnavailable(w, r)
				return
			}
			m.respondUnauthorized(w, r)
			return
		}
		// The clock is read only when something needs it: reading it
		// costs as much as the rest of the guard.
		if fresh && !m.isFresh(st.userSession(), m.now()) {
			m.respondNeedsRefresh(w, r, st.user)
			return
		}
		if len(m.policies) > 0 || len(extra) > 0 {
			c := &Check{Stage: StageRequest, User: st.user, Account: accountOf(st.user), Session: st.userSession(), Request: r, Now: m.now()}
			err := m.checkPolicies(r.Context(), m.policies, c)
			if err == nil {
				err = m.checkPolicies(r.Context(), extra, c)
			}
			if err != nil {
				m.respondPolicy(w, r, st.user, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isFresh reports whether s counts as fresh now.
func (m *Manager[U]) isFresh(s *Session, now time.Time) bool {
	if s == nil || !s.Fresh {
		return false
	}
	return m.freshMaxAge == 0 || now.Sub(s.AuthenticatedAt) <= m.freshMaxAge
}

// checkPolicies runs policies in order and returns the first refusal.
func (m *Manager[U]) checkPolicies(ctx context.Context, ps []Policy, c *Check) error {
	for _, p := range ps {
		if err := p.Check(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// respondPolicy maps a policy's refusal to a response; unknown errors are
// treated as ErrForbidden.
func (m *Manager[U]) respondPolicy(w http.ResponseWriter, r *http.Request, u U, err error) {
	switch {
	case errors.Is(err, ErrNeedsRefresh):
		m.respondNeedsRefresh(w, r, u)
	case errors.Is(err, ErrUnauthorized), errors.Is(err, ErrInactive):
		m.respondUnauthorized(w, r)
	default:
		if !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrLocked) {
			m.logger.DebugContext(r.Context(), "loginkit: policy refused request", "error", err)
		}
		if m.forbidden != nil {
			m.forbidden.ServeHTTP(w, r)
			return
		}
		writeError(w, r, http.StatusForbidden, "forbidden", "You are not allowed to see this page.")
	}
}

func (m *Manager[U]) respondUnauthorized(w http.ResponseWriter, r *http.Request) {
	if m.hooks.Unauthorized != nil {
		m.hooks.Unauthorized(r)
	}
	m.askToLogIn(w, r, m.unauthorized, m.loginURL, m.LoginRedirectURL, "unauthorized", "Please log in to access this page.")
}

func (m *Manager[U]) respondNeedsRefresh(w http.ResponseWriter, r *http.Request, u U) {
	if m.hooks.NeedsRefresh != nil {
		m.hooks.NeedsRefresh(r, u)
	}
	m.askToLogIn(w, r, m.needsRefresh, m.refreshURL, m.RefreshRedirectURL, "needs_refresh", "Please confirm your password to access this page.")
}

// askToLogIn answers a request that needs a (fresh) login: with the
// application's handler when it set one, else with a redirect to page
// (built by redirect) for browsers when page is set, else with a 401
// carrying code and msg.
func (m *Manager[U]) askToLogIn(w http.ResponseWriter, r *http.Request, h http.Handler, page string, redirect func(*http.Request) string, code, msg string) {
	switch {
	case h != nil:
		h.ServeHTTP(w, r)
	case page != "" && wantsHTML(r):
		http.Redirect(w, r, redirect(r), http.StatusSeeOther)
	default:
		writeError(w, r, http.StatusUnauthorized, code, msg)
	}
}

func (m *Manager[U]) respondUnavailable(w http.ResponseWriter, r *http.Request) {
	if m.unavailable != nil {
		m.unavailable.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "5")
	writeError(w, r, http.StatusServiceUnavailable, "unavailable", "The login service is unavailable; please try again shortly.")
}

// wantsHTML reports a browser navigation: an Accept header naming
// text/html.
func wantsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, "text/html") {
			return true
		}
	}
	return false
}

// writeError writes a small JSON error, or plain text to browsers.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if wantsHTML(r) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg + "\n"))
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `","message":"` + msg + `"}` + "\n"))
}
