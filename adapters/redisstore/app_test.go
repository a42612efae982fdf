package redisstore_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/conformance"
)

// testHasher is a deliberately fast loginkit.Hasher for tests of the
// manager on this package's stores: "test$" and the hex SHA-256 of the
// password. It is not a password hash; it only keeps these tests fast and
// independent of package hashers.
type testHasher struct{}

const testHashPrefix = "test$"

func (testHasher) Hash(ctx context.Context, password string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(password))
	return testHashPrefix + hex.EncodeToString(sum[:]), nil
}

func (h testHasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	if !strings.HasPrefix(encoded, testHashPrefix) {
		return false, loginkit.ErrUnknownHashFormat
	}
	want, err := h.Hash(ctx, password)
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(encoded)) != 1 {
		return false, loginkit.ErrMismatch
	}
	return false, nil
}

// newMember returns an unsaved user with the given email.
func newMember(email string) *conformance.Member {
	return &conformance.Member{Account: loginkit.Account{Email: email}}
}

// quiet is a logger for managers under test: store failures are expected
// in some tests and would only clutter the output.
var quiet = slog.New(slog.DiscardHandler)

// app is one "application server": a manager and the routes a real
// application would give it.
type app struct {
	m *loginkit.Manager[*conformance.Member]
	h http.Handler
}

// newApp finishes b (plain-HTTP cookies, the test hasher, a quiet logger)
// and mounts these routes behind the manager's middleware:
//
//	POST /login          form login, password, remember=1: Authenticate, then Login
//	GET  /me             Required: writes the current user's ID
//	POST /logout         Logout
//	POST /password       Required: ChangePassword(current, next)
//	POST /logout-others  Required: LogoutOthers
func newApp(tb testing.TB, b *loginkit.Builder[*conformance.Member]) *app {
	tb.Helper()
	m, err := b.Hasher(testHasher{}).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).
		Logger(quiet).
		Build()
	if err != nil {
		tb.Fatal(err)
	}
	fail := func(w http.ResponseWriter, err error) {
		switch {
		case errors.Is(err, loginkit.ErrInvalidCredentials):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case errors.Is(err, loginkit.ErrUnauthorized):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{Remember: r.FormValue("remember") == "1"})
		}
		if err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("GET /me", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, _ = io.WriteString(w, u.ID)
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("POST /password", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.ChangePassword(w, r, r.FormValue("current"), r.FormValue("next")); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("POST /logout-others", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutOthers(w, r); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	return &app{m: m, h: m.Middleware(mux)}
}

// browser keeps cookies across requests like a browser does (the session
// cookie, the remember cookie) and sends requests to whichever app it is
// given, as a load balancer would. It is safe for concurrent use.
type browser struct {
	mu      sync.Mutex
	cookies map[string]string
}

func newBrowser() *browser { return &browser{cookies: map[string]string{}} }

// clientAddr is the address every test browser connects from, so session
// protection sees one client.
const clientAddr = "192.0.2.10:40000"

// do sends a request to h and applies the response's cookies. form, when
// non-nil, is sent as an urlencoded body.
func (b *browser) do(h http.Handler, method, target string, form url.Values) *http.Response {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = clientAddr
	r.Header.Set("User-Agent", "redisstore-test-browser/1.0")
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	b.mu.Lock()
	for name, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	b.mu.Unlock()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	b.mu.Lock()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	b.mu.Unlock()
	return res
}

// clone returns a browser holding a copy of b's cookies: a stolen cookie
// jar, or a second tab that does not see b's later cookie changes.
func (b *browser) clone() *browser {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &browser{cookies: maps.Clone(b.cookies)}
}

// login posts the login form to a.
func (b *browser) login(a *app, login, password string, remember bool) *http.Response {
	form := url.Values{"login": {login}, "password": {password}}
	if remember {
		form.Set("remember", "1")
	}
	return b.do(a.h, "POST", "/login", form)
}

// me requests the protected page on a and returns the status and body.
func (b *browser) me(a *app) (int, string) {
	res := b.do(a.h, "GET", "/me", nil)
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
