package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/loginkit/loginkit/adapters/sqlstore"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/internal/testenv"
)

// testConfig returns a configuration on the test servers with table and
// key prefixes of its own, removed when the test ends.
func testConfig(t *testing.T) Config {
	t.Helper()
	pg := testenv.Require(t, testenv.PostgresURL)
	rd := testenv.Require(t, testenv.RedisURL)
	var b [4]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	c := Config{
		PostgresURL: pg,
		RedisURL:    rd,
		TablePrefix: "expr_" + suffix + "_",
		KeyPrefix:   "loginkit-example-" + suffix + ":",
		Hasher:      hashers.Must(hashers.New(hashers.SchemePBKDF2SHA256, hashers.Iterations(1000))),
		// httptest serves plain HTTP on 127.0.0.1.
		InsecureCookies: true,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	t.Cleanup(func() { dropAll(t, c) })
	return c
}

// dropAll removes the test's tables and Redis keys.
func dropAll(t *testing.T, c Config) {
	ctx := context.Background()
	db, err := sqlstore.OpenPostgres(c.PostgresURL)
	if err == nil {
		for _, table := range []string{"users", "sessions", "tokens", "migrations", "migration_locks"} {
			if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+c.TablePrefix+table); err != nil {
				t.Errorf("dropping %s%s: %v", c.TablePrefix, table, err)
			}
		}
		db.Close()
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, c.KeyPrefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

// instance is one running copy of the application.
type instance struct {
	app *App
	srv *httptest.Server
}

// startInstances starts n instances on the same configuration at the same
// time, as a deployment would: each has its own connections.
func startInstances(t *testing.T, c Config, names ...string) []*instance {
	t.Helper()
	out := make([]*instance, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			cc := c
			cc.Name = name
			app, err := Open(context.Background(), cc)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = &instance{app: app, srv: httptest.NewServer(app.Handler())}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("starting instance %s: %v", names[i], err)
		}
	}
	for _, in := range out {
		t.Cleanup(func() {
			in.srv.Close()
			in.app.Close()
		})
	}
	return out
}

// browser is a cookie jar shared by every instance: cookies belong to a
// host, whatever the port, so one browser talks to both instances on
// 127.0.0.1.
type browser struct {
	t   *testing.T
	jar *cookiejar.Jar
	hc  *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, jar: jar, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, u string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// restart drops the browser-session cookies and keeps the remember cookie.
func (b *browser) restart(u string) {
	base, _ := url.Parse(u)
	var keep []*http.Cookie
	for _, ck := range b.jar.Cookies(base) {
		if ck.Name == "remember" {
			keep = append(keep, &http.Cookie{Name: ck.Name, Value: ck.Value, Path: "/"})
		}
	}
	b.jar, _ = cookiejar.New(nil)
	b.jar.SetCookies(base, keep)
	b.hc.Jar = b.jar
}

// greeting returns what the home page of in says about the visitor.
func (b *browser) greeting(in *instance) string {
	b.t.Helper()
	status, body := b.do("GET", in.srv.URL+"/", nil)
	if status != http.StatusOK {
		b.t.Fatalf("GET / on %s: %d", in.app.name, status)
	}
	if !strings.Contains(body, `<b id="instance">`+in.app.name+`</b>`) {
		b.t.Fatalf("the page does not come from %s:\n%s", in.app.name, body)
	}
	start := strings.Index(body, `<p id="greeting">`)
	if start < 0 {
		return "anonymous"
	}
	end := strings.Index(body[start:], "</p>")
	return body[start+len(`<p id="greeting">`) : start+end]
}

func TestTwoInstancesShareLogins(t *testing.T) {
	c := testConfig(t)
	ins := startInstances(t, c, "blue", "green")
	blue, green := ins[0], ins[1]
	laptop := newBrowser(t)

	// Register on blue; green knows the user at once.
	status, body := laptop.do("POST", blue.srv.URL+"/register", url.Values{
		"name": {"Ann Example"}, "username": {"ann"}, "email": {"ann@example.com"}, "password": {"correct horse"},
	})
	if status != http.StatusSeeOther {
		t.Fatalf("register: %d\n%s", status, body)
	}
	if got := laptop.greeting(green); got != "Hello, Ann Example (ann)." {
		t.Fatalf("green after registering on blue: %q", got)
	}
	// Log out on green: blue forgets too.
	if status, _ := laptop.do("POST", green.srv.URL+"/logout", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("logout: %d", status)
	}
	if got := laptop.greeting(blue); got != "anonymous" {
		t.Fatalf("blue after logging out on green: %q", got)
	}

	// A wrong password is refused by either.
	for _, in := range ins {
		if status, body := laptop.do("POST", in.srv.URL+"/login", url.Values{"login": {"ann"}, "password": {"wrong"}}); status != http.StatusUnauthorized || !strings.Contains(body, "Invalid username or password") {
			t.Fatalf("wrong password on %s: %d", in.app.name, status)
		}
	}

	// Log in with remember me on green; after a browser restart, blue
	// restores the login from the remember token kept in Redis.
	if status, _ := laptop.do("POST", green.srv.URL+"/login", url.Values{"login": {"ann@example.com"}, "password": {"correct horse"}, "remember": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("login on green: %d", status)
	}
	laptop.restart(blue.srv.URL)
	if got := laptop.greeting(blue); got != "Hello, Ann Example (ann), remembered." {
		t.Fatalf("blue after a browser restart: %q", got)
	}

	// A phone logs in on blue; the laptop, on green, sees both sessions
	// and logs the phone out from there.
	phone := newBrowser(t)
	if status, _ := phone.do("POST", blue.srv.URL+"/login", url.Values{"login": {"ann"}, "password": {"correct horse"}}); status != http.StatusSeeOther {
		t.Fatalf("phone login on blue: %d", status)
	}
	// Three sessions: the phone's, the laptop's remembered one, and the
	// one the laptop's browser forgot at its restart (still valid on the
	// server until it expires or is revoked).
	status, body = laptop.do("GET", green.srv.URL+"/account", nil)
	if status != http.StatusOK || strings.Count(body, "<li>") != 3 {
		t.Fatalf("sessions on green: %d\n%s", status, body)
	}
	if status, _ := laptop.do("POST", green.srv.URL+"/account/logout-others", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("logout others: %d", status)
	}
	if got := phone.greeting(blue); got != "anonymous" {
		t.Fatalf("the phone on blue after logout-others on green: %q", got)
	}
	if got := laptop.greeting(blue); !strings.HasPrefix(got, "Hello, Ann Example") {
		t.Fatalf("the laptop lost its own login: %q", got)
	}
	if _, body := laptop.do("GET", blue.srv.URL+"/account", nil); strings.Count(body, "<li>") != 1 {
		t.Fatalf("sessions after logout-others:\n%s", body)
	}

	// Anonymous visits to the account page are sent to the login form.
	status, _ = phone.do("GET", blue.srv.URL+"/account", nil)
	if status != http.StatusSeeOther {
		t.Fatalf("anonymous /account: %d", status)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	if _, err := ConfigFromEnv(func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "LOGINKIT_POSTGRES_URL") || !strings.Contains(err.Error(), "LOGINKIT_REDIS_URL") {
		t.Fatalf("empty environment: %v", err)
	}
	env["LOGINKIT_POSTGRES_URL"] = "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"
	env["LOGINKIT_REDIS_URL"] = "redis://127.0.0.1:6379/0"
	env["LOGINKIT_TABLE_PREFIX"] = "app_"
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.PostgresURL != env["LOGINKIT_POSTGRES_URL"] || c.RedisURL != env["LOGINKIT_REDIS_URL"] || c.TablePrefix != "app_" {
		t.Fatalf("ConfigFromEnv: %+v, %v", c, err)
	}
}
