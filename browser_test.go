package loginkit_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
)

// user is the application user model of these tests.
type user struct {
	loginkit.Account
	Name string
}

// testHasher is a fast, deterministic Hasher for manager tests: the hashing
// schemes themselves are tested in package hashers. Hashes look like
// "test$<salt>$<hex>"; "old$..." hashes verify but ask for a rehash.
type testHasher struct{}

func (testHasher) Hash(_ context.Context, pw string) (string, error) {
	salt := loginkit.NewID()[:8]
	sum := sha256.Sum256([]byte(salt + pw))
	return "test$" + salt + "$" + hex.EncodeToString(sum[:]), nil
}

func (testHasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 3 || (parts[0] != "test" && parts[0] != "old") {
		return false, loginkit.ErrUnknownHashFormat
	}
	sum := sha256.Sum256([]byte(parts[1] + pw))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(parts[2])) != 1 {
		return false, loginkit.ErrMismatch
	}
	return parts[0] == "old", nil
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// app is a small application on top of a Manager, with the routes the
// scenarios use.
type app struct {
	t        *testing.T
	m        *loginkit.Manager[*user]
	users    *memstore.Users[user, *user]
	sessions *memstore.Sessions
	tokens   *memstore.Tokens
	clock    *clock
	handler  http.Handler
}

type appOption func(b *loginkit.Builder[*user])

func newApp(t *testing.T, opts ...appOption) *app {
	t.Helper()
	a := &app{
		t:        t,
		users:    memstore.NewUsers[user](),
		sessions: memstore.NewSessions(),
		tokens:   memstore.NewTokens(),
		clock:    newClock(),
	}
	b := loginkit.New[*user]().
		Users(a.users).
		Sessions(a.sessions).
		Tokens(a.tokens).
		Hasher(testHasher{}).
		LoginURL("/login").
		RefreshURL("/reauth").
		Clock(a.clock.Now)
	for _, o := range opts {
		o(b)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	a.m = m
	a.handler = m.Middleware(a.routes())
	return a
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	whoami := func(w http.ResponseWriter, r *http.Request) {
		u, ok := a.m.CurrentUser(r)
		if !ok {
			_, _ = w.Write([]byte("anonymous"))
			return
		}
		id := a.m.Identity(r)
		fresh := "stale"
		if id.Fresh {
			fresh = "fresh"
		}
		_, _ = w.Write([]byte("user:" + u.Name + ":" + fresh))
	}
	mux.HandleFunc("GET /{$}", whoami)
	mux.Handle("/protected", a.m.Required(http.HandlerFunc(whoami)))
	mux.Handle("GET /fresh", a.m.FreshRequired(http.HandlerFunc(whoami)))
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		rememberFor, _ := time.ParseDuration(r.FormValue("remember_for"))
		if err := a.m.Login(w, r, u, loginkit.LoginOptions{Remember: r.FormValue("remember") == "1", RememberFor: rememberFor}); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, a.m.NextOr(r, "/"), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("POST /reauth", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.Reauthenticate(w, r, r.FormValue("password")); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, a.m.NextOr(r, "/"), http.StatusSeeOther)
	})))
	mux.Handle("POST /password", a.m.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.ChangePassword(w, r, r.FormValue("current"), r.FormValue("new")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("changed"))
	})))
	mux.Handle("POST /logout-others", a.m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.m.LogoutOthers(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("done"))
	})))
	return mux
}

// register creates a user with the given username and password.
func (a *app) register(name, password string) *user {
	a.t.Helper()
	u := &user{Name: name}
	u.Username = name
	u.Email = name + "@example.com"
	if err := a.m.Register(context.Background(), u, password); err != nil {
		a.t.Fatalf("Register(%s): %v", name, err)
	}
	return u
}

// browser carries cookies between requests the way a browser does:
// Max-Age<0 deletes, and cookies without Max-Age or Expires are session
// cookies that a restart forgets.
type browser struct {
	t         *testing.T
	h         http.Handler
	cookies   map[string]*http.Cookie
	userAgent string
	addr      string
	accept    string
}

func (a *app) browser() *browser {
	return &browser{t: a.t, h: a.handler, cookies: map[string]*http.Cookie{},
		userAgent: "TestBrowser/1.0", addr: "192.0.2.10:40000", accept: "text/html,application/xhtml+xml"}
}

// clone returns a second browser holding copies of b's cookies (a stolen
// or copied cookie jar).
func (b *browser) clone() *browser {
	c := *b
	c.cookies = map[string]*http.Cookie{}
	for k, v := range b.cookies {
		cp := *v
		c.cookies[k] = &cp
	}
	return &c
}

// restart forgets session cookies, keeping persistent ones.
func (b *browser) restart() {
	for k, c := range b.cookies {
		if c.MaxAge == 0 && c.Expires.IsZero() {
			delete(b.cookies, k)
		}
	}
}

func (b *browser) request(method, path, form string) *http.Request {
	var r *http.Request
	if form != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.RemoteAddr = b.addr
	r.Header.Set("User-Agent", b.userAgent)
	if b.accept != "" {
		r.Header.Set("Accept", b.accept)
	}
	// Send the jar as a raw header, as a browser does: http.Request's
	// AddCookie would drop bytes a cookie may not hold.
	var jar []string
	for _, c := range b.cookies {
		jar = append(jar, c.Name+"="+c.Value)
	}
	if len(jar) > 0 {
		r.Header.Set("Cookie", strings.Join(jar, "; "))
	}
	return r
}

func (b *browser) do(method, path, form string) *http.Response {
	b.t.Helper()
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, b.request(method, path, form))
	res := rec.Result()
	b.store(res)
	return res
}

func (b *browser) store(res *http.Response) {
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
}

func (b *browser) get(path string) *http.Response { b.t.Helper(); return b.do("GET", path, "") }

// body returns the response body as a string.
func body(res *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// whoami returns what GET / says about the browser's login.
func (b *browser) whoami() string {
	b.t.Helper()
	return body(b.get("/"))
}

func (b *browser) login(name, password string, remember bool) *http.Response {
	b.t.Helper()
	form := "login=" + name + "&password=" + password
	if remember {
		form += "&remember=1"
	}
	return b.do("POST", "/login", form)
}

func (b *browser) mustLogin(name, password string, remember bool) {
	b.t.Helper()
	res := b.login(name, password, remember)
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d, body %q", name, res.StatusCode, body(res))
	}
}

func (b *browser) cookie(name string) string {
	if c, ok := b.cookies[name]; ok {
		return c.Value
	}
	return ""
}

const (
	sessionCookie  = "__Host-session"
	rememberCookie = "__Host-remember"
)

func wantWho(t *testing.T, b *browser, want string) {
	t.Helper()
	if got := b.whoami(); got != want {
		t.Fatalf("whoami = %q, want %q", got, want)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }
