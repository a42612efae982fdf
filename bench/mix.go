package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/adapters/redisstore"
)

// A Mix is a stack serving many live sessions, for the realistic load
// test: each cookie set in Cookies is one logged-in browser.
type Mix struct {
	Handler http.Handler
	Cookies [][]*http.Cookie
	Release func()
	// Cache reports the near-cache's counters; nil for a stack without one.
	Cache func() redisstore.NearCacheStats
}

// A MixStack builds a Mix with n live sessions.
type MixStack struct {
	Name  string
	Setup func(redisURL string, n int) (*Mix, error)
}

// MixStacks returns the stacks of the realistic load test: the bare
// handler (which ignores the cookies), loginkit on Redis with and without
// the near-cache, and scs on Redis.
func MixStacks() []MixStack {
	return []MixStack{
		{Name: "bare", Setup: func(_ string, n int) (*Mix, error) {
			h, _, release, err := bare("")
			return &Mix{Handler: h, Cookies: make([][]*http.Cookie, n), Release: release}, err
		}},
		{Name: "loginkit-redisstore", Setup: func(url string, n int) (*Mix, error) { return loginkitMix(url, n, false) }},
		{Name: "loginkit-redisstore-near", Setup: func(url string, n int) (*Mix, error) { return loginkitMix(url, n, true) }},
		{Name: "scs-redisstore", Setup: scsMix},
	}
}

// parallel runs f(i) for i in [0, n) on workers goroutines and returns the
// first error.
func parallel(n, workers int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func loginkitMix(url string, n int, near bool) (*Mix, error) {
	if url == "" {
		return nil, ErrNoRedis
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	rdb := goredis.NewClient(opt)
	prefix := fmt.Sprintf("benchmix:%d:", time.Now().UnixNano())
	opts := []redisstore.Option{redisstore.WithPrefix(prefix)}
	if near {
		opts = append(opts, redisstore.WithNearCache(redisstore.NearCacheConfig{}))
	}
	st := redisstore.NewSessions(rdb, opts...)
	release := func() { _ = st.Close(); dropPrefix(rdb, prefix); _ = rdb.Close() }
	users := memstore.NewUsers[User]()
	m, err := loginkit.New[*User]().Users(users).Sessions(st).Hasher(plainHasher{}).
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true).Build()
	if err != nil {
		release()
		return nil, err
	}
	mix := &Mix{Cookies: make([][]*http.Cookie, n), Release: release}
	err = parallel(n, 16, func(i int) error {
		u := &User{Name: "user" + strconv.Itoa(i)}
		u.Username = u.Name
		if err := m.Register(context.Background(), u, "pw-"+u.Name); err != nil {
			return err
		}
		rec := httptest.NewRecorder()
		if err := m.Login(rec, httptest.NewRequest("POST", "/login", nil), u, loginkit.LoginOptions{}); err != nil {
			return err
		}
		mix.Cookies[i] = rec.Result().Cookies()
		return nil
	})
	if err != nil {
		release()
		return nil, err
	}
	mix.Handler = m.Middleware(m.Required(nameHandler(func(r *http.Request) (string, bool) {
		u, ok := m.CurrentUser(r)
		if !ok {
			return "", false
		}
		return u.Name, true
	})))
	if near {
		mix.Cache = st.NearCacheStats
	}
	return mix, nil
}

func scsMix(url string, n int) (*Mix, error) {
	if url == "" {
		return nil, ErrNoRedis
	}
	pool := &redis.Pool{
		MaxIdle: 64,
		Dial:    func() (redis.Conn, error) { return redis.DialURL(url) },
	}
	prefix := fmt.Sprintf("scsmix:%d:", time.Now().UnixNano())
	page, login := scsHandlers(scsredis.NewWithPrefix(pool, prefix))
	release := func() {
		_ = pool.Close()
		if opt, err := goredis.ParseURL(url); err == nil {
			rdb := goredis.NewClient(opt)
			dropPrefix(rdb, prefix)
			_ = rdb.Close()
		}
	}
	mix := &Mix{Handler: page, Cookies: make([][]*http.Cookie, n), Release: release}
	err := parallel(n, 16, func(i int) error {
		rec := httptest.NewRecorder()
		login.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
		if rec.Code != 200 {
			return fmt.Errorf("scs login: status %d: %s", rec.Code, rec.Body)
		}
		mix.Cookies[i] = rec.Result().Cookies()
		return nil
	})
	if err != nil {
		mix.Release()
		return nil, err
	}
	return mix, nil
}

// dropPrefix deletes every key beginning with prefix, so that a run leaves
// nothing behind in a shared server.
func dropPrefix(rdb *goredis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}
