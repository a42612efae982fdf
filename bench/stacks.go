// Package bench compares loginkit with the session libraries an
// application would otherwise wire by hand: github.com/alexedwards/scs/v2
// and github.com/gorilla/sessions, each with its own user loading.
//
// Every stack serves the same request: an authenticated GET that reads the
// current user's name and writes it. A Stack builds the handler and a
// request that already carries a logged-in session cookie, so Go
// benchmarks (bench_test.go) and the loopback load test (cmd/loadtest)
// measure exactly the same code. run.sh runs both and prints a table.
//
// This is its own module so that scs, gorilla/sessions and the load-test
// code never enter the library's go.mod.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	"github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"
	goredis "github.com/redis/go-redis/v9"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/sessionstores/cookiestore"
)

// User is the application's user model in every stack.
type User struct {
	loginkit.Account
	Name string
}

// Stack is one way of serving the benchmark request.
type Stack struct {
	// Name identifies the stack in benchmark and load-test output.
	Name string
	// Redis reports whether the stack needs the Redis server.
	Redis bool
	// Setup builds the handler and a request carrying a logged-in
	// session cookie for user "ann". The handler writes "ann" with status
	// 200 for that request and refuses a request without the cookie.
	// Release what Setup holds with the returned func.
	Setup func(redisURL string) (h http.Handler, r *http.Request, release func(), err error)
}

// Stacks returns every stack, the bare handler first.
func Stacks() []Stack {
	return []Stack{
		{Name: "bare", Setup: bare},
		{Name: "loginkit-memstore", Setup: loginkitMem},
		{Name: "loginkit-cookiestore", Setup: loginkitCookie},
		{Name: "scs-memstore", Setup: scsMem},
		{Name: "gorilla-cookiestore", Setup: gorillaCookie},
		{Name: "loginkit-redisstore", Redis: true, Setup: loginkitRedis},
		{Name: "loginkit-redisstore-near", Redis: true, Setup: loginkitRedisNear},
		{Name: "scs-redisstore", Redis: true, Setup: scsRedis},
	}
}

// testKey is a fixed 32-byte key for the cookie stacks.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// plainHasher stores passwords as given. The GET benchmarks never verify
// a password; only Register calls it once per setup. The login benchmark
// uses the real default hasher.
type plainHasher struct{}

func (plainHasher) Hash(_ context.Context, pw string) (string, error) { return "plain$" + pw, nil }
func (plainHasher) Verify(_ context.Context, pw, enc string) (bool, error) {
	if enc == "plain$"+pw {
		return false, nil
	}
	return false, loginkit.ErrMismatch
}

func nameHandler(name func(r *http.Request) (string, bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, ok := name(r)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(n))
	})
}

func bare(string) (http.Handler, *http.Request, func(), error) {
	u := &User{Name: "ann"}
	h := nameHandler(func(*http.Request) (string, bool) { return u.Name, true })
	return h, httptest.NewRequest("GET", "/me", nil), func() {}, nil
}

// loginkitStack builds a manager on sessions, logs ann in and returns the
// guarded handler and the cookie-carrying request.
func loginkitStack(sessions loginkit.SessionStore) (http.Handler, *http.Request, error) {
	users := memstore.NewUsers[User]()
	m, err := loginkit.New[*User]().Users(users).Sessions(sessions).Hasher(plainHasher{}).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).Build()
	if err != nil {
		return nil, nil, err
	}
	u := &User{Name: "ann"}
	u.Username = "ann"
	if err := m.Register(context.Background(), u, "pw-ann-123"); err != nil {
		return nil, nil, err
	}
	rec := httptest.NewRecorder()
	if err := m.Login(rec, httptest.NewRequest("POST", "/login", nil), u, loginkit.LoginOptions{}); err != nil {
		return nil, nil, err
	}
	h := m.Middleware(m.Required(nameHandler(func(r *http.Request) (string, bool) {
		u, ok := m.CurrentUser(r)
		if !ok {
			return "", false
		}
		return u.Name, true
	})))
	return h, withCookies(rec), nil
}

func withCookies(rec *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest("GET", "/me", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func loginkitMem(string) (http.Handler, *http.Request, func(), error) {
	h, r, err := loginkitStack(memstore.NewSessions())
	return h, r, func() {}, err
}

func loginkitCookie(string) (http.Handler, *http.Request, func(), error) {
	cs, err := cookiestore.New(testKey)
	if err != nil {
		return nil, nil, nil, err
	}
	h, r, err := loginkitStack(cs)
	return h, r, func() {}, err
}

func loginkitRedis(url string) (http.Handler, *http.Request, func(), error) {
	return loginkitOnRedis(url)
}

// loginkitRedisNear is loginkitRedis with the near-cache at its defaults.
func loginkitRedisNear(url string) (http.Handler, *http.Request, func(), error) {
	return loginkitOnRedis(url, redisstore.WithNearCache(redisstore.NearCacheConfig{}))
}

// loginkitOnRedis is the loginkit stack on a redisstore with opts, under
// a key prefix of its own.
func loginkitOnRedis(url string, opts ...redisstore.Option) (http.Handler, *http.Request, func(), error) {
	if url == "" {
		return nil, nil, nil, ErrNoRedis
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, nil, nil, err
	}
	rdb := goredis.NewClient(opt)
	prefix := fmt.Sprintf("bench:%d:", time.Now().UnixNano())
	st := redisstore.NewSessions(rdb, append([]redisstore.Option{redisstore.WithPrefix(prefix)}, opts...)...)
	h, r, err := loginkitStack(st)
	return h, r, func() { _ = st.Close(); _ = rdb.Close() }, err
}

// userMap is the hand-written user loading the scs and gorilla stacks
// need: an ID-to-user map behind a lock, the cheapest loader there is.
type userMap struct {
	mu sync.RWMutex
	m  map[string]*User
}

func newUserMap() *userMap {
	u := &User{Name: "ann"}
	u.ID = "u-ann"
	return &userMap{m: map[string]*User{u.ID: u}}
}

func (um *userMap) name(id string) (string, bool) {
	um.mu.RLock()
	u, ok := um.m[id]
	um.mu.RUnlock()
	if !ok {
		return "", false
	}
	return u.Name, true
}

// scsHandlers returns an scs session manager on store's page handler
// (the logged-in user's name, or 401) and its login handler (which logs
// ann in, renewing the token as a login must).
func scsHandlers(store scs.Store) (page, login http.Handler) {
	sm := scs.New()
	sm.Store = store
	sm.Cookie.Secure = false
	users := newUserMap()
	page = sm.LoadAndSave(nameHandler(func(r *http.Request) (string, bool) {
		id := sm.GetString(r.Context(), "user_id")
		if id == "" {
			return "", false
		}
		return users.name(id)
	}))
	login = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sm.RenewToken(r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		sm.Put(r.Context(), "user_id", "u-ann")
	}))
	return page, login
}

func scsStack(store scs.Store) (http.Handler, *http.Request, error) {
	page, login := scsHandlers(store)
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	if rec.Code != 200 {
		return nil, nil, fmt.Errorf("scs login: status %d: %s", rec.Code, rec.Body)
	}
	return page, withCookies(rec), nil
}

func scsMem(string) (http.Handler, *http.Request, func(), error) {
	h, r, err := scsStack(scsmem.NewWithCleanupInterval(time.Hour))
	return h, r, func() {}, err
}

func scsRedis(url string) (http.Handler, *http.Request, func(), error) {
	if url == "" {
		return nil, nil, nil, ErrNoRedis
	}
	pool := &redis.Pool{
		MaxIdle: 64,
		Dial:    func() (redis.Conn, error) { return redis.DialURL(url) },
	}
	store := scsredis.NewWithPrefix(pool, fmt.Sprintf("scsbench:%d:", time.Now().UnixNano()))
	h, r, err := scsStack(store)
	return h, r, func() { _ = pool.Close() }, err
}

func gorillaCookie(string) (http.Handler, *http.Request, func(), error) {
	store := sessions.NewCookieStore(testKey, testKey)
	store.Options.Secure = false
	users := newUserMap()
	page := nameHandler(func(r *http.Request) (string, bool) {
		s, err := store.Get(r, "s")
		if err != nil {
			return "", false
		}
		id, _ := s.Values["user_id"].(string)
		return users.name(id)
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/login", nil)
	s, err := store.New(req, "s")
	if err != nil && s == nil {
		return nil, nil, nil, err
	}
	s.Values["user_id"] = "u-ann"
	if err := s.Save(req, rec); err != nil {
		return nil, nil, nil, err
	}
	return page, withCookies(rec), func() {}, nil
}

// ErrNoRedis is returned by Setup of a Redis stack when no server address
// is given.
var ErrNoRedis = errors.New("bench: no Redis server (set LOGINKIT_REDIS_URL)")
