package cookiestore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

type member struct{ loginkit.Account }

// app is a small application on the manager with a cookiestore: the
// session lives only in the cookie.
type app struct {
	t     *testing.T
	mu    sync.Mutex
	users map[string]member
	now   time.Time
	store *cookiestore.Store
	h     http.Handler
}

func (a *app) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func newApp(t *testing.T) *app {
	a := &app{t: t, users: map[string]member{"ann": {loginkit.Account{ID: "ann", SessionVersion: 1}}},
		now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	a.store = newStore(t, testKey(1), cookiestore.WithClock(a.clock))
	m, err := loginkit.New[*member]().
		Loader(loginkit.LoaderFunc[*member](func(ctx context.Context, id string) (*member, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			u, ok := a.users[id]
			if !ok {
				return nil, loginkit.ErrNotFound
			}
			return &u, nil
		})).
		Sessions(a.store).
		Clock(a.clock).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		u := a.users["ann"]
		a.mu.Unlock()
		if err := m.Login(w, r, &u, loginkit.LoginOptions{}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { _ = m.Logout(w, r) })
	mux.Handle("GET /account", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = w.Write([]byte(u.ID))
	})))
	a.h = m.Middleware(mux)
	return a
}

// do sends one request with the given session cookie value (none when
// empty) and returns the status, the body and the session cookie the
// response set (nil when it set none).
func (a *app) do(method, path, session string) (int, string, *http.Cookie) {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Accept", "application/json")
	if session != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	var set *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			set = c
		}
	}
	return w.Code, w.Body.String(), set
}

func (a *app) login() string {
	a.t.Helper()
	code, body, c := a.do("POST", "/login", "")
	if code != http.StatusOK || c == nil || c.Value == "" {
		a.t.Fatalf("login: status %d, body %q, cookie %v", code, body, c)
	}
	if len(c.Value) > loginkit.MaxCookieBytes {
		a.t.Fatalf("login: session cookie is %d bytes", len(c.Value))
	}
	return c.Value
}

func TestManagerWithCookieSessions(t *testing.T) {
	t.Run("the session travels in the cookie", func(t *testing.T) {
		a := newApp(t)
		v := a.login()
		s, err := a.store.Open(v)
		if err != nil || s.UserID != "ann" || s.Version != 1 || !s.Fresh {
			t.Fatalf("the session cookie does not open to ann's fresh session: %+v, %v", s, err)
		}
		t.Logf("session cookie set by the manager: %d bytes", len(v))
		if code, body, _ := a.do("GET", "/account", v); code != http.StatusOK || body != "ann" {
			t.Fatalf("authenticated request: status %d, body %q; want 200 ann", code, body)
		}
	})
	t.Run("a tampered cookie is anonymous and cleared", func(t *testing.T) {
		a := newApp(t)
		v := []byte(a.login())
		v[len(v)/2] ^= 1
		code, _, c := a.do("GET", "/account", string(v))
		if code != http.StatusUnauthorized {
			t.Fatalf("tampered cookie: status %d, want 401", code)
		}
		if c == nil || c.MaxAge >= 0 {
			t.Errorf("tampered cookie: want it cleared, got Set-Cookie %v", c)
		}
	})
	t.Run("a session version bump revokes the cookie", func(t *testing.T) {
		a := newApp(t)
		v := a.login()
		a.mu.Lock()
		u := a.users["ann"]
		u.SessionVersion++
		a.users["ann"] = u
		a.mu.Unlock()
		if code, _, _ := a.do("GET", "/account", v); code != http.StatusUnauthorized {
			t.Fatalf("cookie sealed before the version bump: status %d, want 401", code)
		}
		if code, _, _ := a.do("GET", "/account", a.login()); code != http.StatusOK {
			t.Fatalf("cookie sealed after the version bump: status %d, want 200", code)
		}
	})
	t.Run("the idle timeout ends the session", func(t *testing.T) {
		a := newApp(t)
		v := a.login()
		a.mu.Lock()
		a.now = a.now.Add(2 * time.Hour)
		a.mu.Unlock()
		if code, _, _ := a.do("GET", "/account", v); code != http.StatusUnauthorized {
			t.Fatalf("after the idle timeout: status %d, want 401", code)
		}
	})
	t.Run("logout clears the cookie", func(t *testing.T) {
		a := newApp(t)
		v := a.login()
		_, _, c := a.do("POST", "/logout", v)
		if c == nil || c.MaxAge >= 0 {
			t.Fatalf("logout: want the session cookie cleared, got %v", c)
		}
	})
}

// sessionCookie is the manager's session cookie name with the default
// (Secure, host-only, Path=/) cookie options.
const sessionCookie = "__Host-session"
