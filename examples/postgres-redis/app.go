package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/redisstore"
	"github.com/loginkit/loginkit/adapters/sqlstore"
)

// User is the application's user model, stored in PostgreSQL: the
// library's Account plus a column of its own.
type User struct {
	loginkit.Account
	DisplayName string `bun:"display_name"`
}

// Config is what an instance needs to know.
type Config struct {
	// PostgresURL is a postgres:// URL for the users table
	// (LOGINKIT_POSTGRES_URL).
	PostgresURL string
	// RedisURL is a redis:// URL for sessions and tokens
	// (LOGINKIT_REDIS_URL).
	RedisURL string
	// TablePrefix and KeyPrefix name the PostgreSQL tables and Redis keys
	// (LOGINKIT_TABLE_PREFIX, LOGINKIT_KEY_PREFIX); empty means the
	// adapters' defaults. Every instance of one application must use the
	// same ones.
	TablePrefix, KeyPrefix string
	// Name is shown on the pages, to tell instances apart.
	Name string
	// Hasher hashes passwords; required.
	Hasher loginkit.Hasher
	// InsecureCookies leaves the Secure attribute off, for plain HTTP on
	// the loopback interface.
	InsecureCookies bool
	// Logger receives the manager's logs; default slog.Default().
	Logger *slog.Logger
}

// ConfigFromEnv reads the connection settings from environment variables
// through getenv (os.Getenv).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		PostgresURL: getenv("LOGINKIT_POSTGRES_URL"),
		RedisURL:    getenv("LOGINKIT_REDIS_URL"),
		TablePrefix: getenv("LOGINKIT_TABLE_PREFIX"),
		KeyPrefix:   getenv("LOGINKIT_KEY_PREFIX"),
	}
	var missing []string
	if c.PostgresURL == "" {
		missing = append(missing, "LOGINKIT_POSTGRES_URL (postgres://user:pass@host:5432/db?sslmode=disable)")
	}
	if c.RedisURL == "" {
		missing = append(missing, "LOGINKIT_REDIS_URL (redis://host:6379/0)")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("set %s", strings.Join(missing, " and "))
	}
	return c, nil
}

// App is one instance of the application.
type App struct {
	m        *loginkit.Manager[*User]
	sessions loginkit.SessionStore
	db       *bun.DB
	rdb      *redis.Client
	name     string
	h        http.Handler
}

// Open connects to PostgreSQL and Redis, creates the tables if needed and
// builds the login manager. Close releases the connections.
func Open(ctx context.Context, c Config) (*App, error) {
	var sqlOpts []sqlstore.Option
	if c.TablePrefix != "" {
		sqlOpts = append(sqlOpts, sqlstore.WithPrefix(c.TablePrefix))
	}
	var redisOpts []redisstore.Option
	if c.KeyPrefix != "" {
		redisOpts = append(redisOpts, redisstore.WithPrefix(c.KeyPrefix))
	}
	db, err := sqlstore.OpenPostgres(c.PostgresURL)
	if err != nil {
		return nil, err
	}
	ropts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("LOGINKIT_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(ropts)
	a := &App{db: db, rdb: rdb, name: c.Name}
	fail := func(err error) (*App, error) {
		a.Close()
		return nil, err
	}
	if err := sqlstore.Migrate[User](ctx, db, sqlOpts...); err != nil {
		return fail(fmt.Errorf("preparing the PostgreSQL tables: %w", err))
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fail(fmt.Errorf("connecting to Redis: %w", err))
	}
	a.sessions = redisstore.NewSessions(rdb, redisOpts...)
	b := loginkit.New[*User]().
		Users(sqlstore.NewUsers[User](db, sqlOpts...)).
		Sessions(a.sessions).
		Tokens(redisstore.NewTokens(rdb, redisOpts...)).
		Hasher(c.Hasher).
		LoginURL("/")
	if c.Logger != nil {
		b.Logger(c.Logger)
	}
	if c.InsecureCookies {
		b.Cookies(loginkit.CookieOptions{Insecure: true}).Development(true)
	}
	m, err := b.Build()
	if err != nil {
		return fail(err)
	}
	a.m = m
	a.h = a.routes()
	return a, nil
}

// Close closes the database and Redis connections.
func (a *App) Close() error {
	return errors.Join(a.db.Close(), a.rdb.Close())
}

// Handler returns the instance's HTTP handler.
func (a *App) Handler() http.Handler { return a.h }

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>postgres-redis</title></head>
<body>
<p>Instance <b id="instance">{{.Instance}}</b></p>
{{with .Error}}<p id="error">{{.}}</p>{{end}}
{{if .Identity.Authenticated}}
<p id="greeting">Hello, {{.Identity.User.DisplayName}} ({{.Identity.User.Username}}){{if .Identity.Remembered}}, remembered{{end}}.</p>
<p><a href="/account">Your sessions</a></p>
<form method="post" action="/logout"><button>Log out</button></form>
{{else}}
<h1>Log in</h1>
<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label>Email or username <input name="login"></label>
<label>Password <input name="password" type="password"></label>
<label><input type="checkbox" name="remember" value="1"> Remember me</label>
<button>Log in</button>
</form>
<h2>Register</h2>
<form method="post" action="/register">
<label>Name <input name="name"></label>
<label>Username <input name="username"></label>
<label>Email <input name="email" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button>Register</button>
</form>
{{end}}
{{with .Sessions}}<h2>Active sessions</h2><ul id="sessions">{{range .}}<li>{{.IP}} {{.UserAgent}}</li>{{end}}</ul>
<form method="post" action="/account/logout-others"><button>Log out everywhere else</button></form>{{end}}
</body></html>`))

type pageData struct {
	Instance string
	Identity loginkit.Identity[*User]
	Error    string
	Next     string
	Sessions []*loginkit.Session
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	d.Instance = a.name
	d.Identity = a.m.Identity(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = page.Execute(w, d)
}

func (a *App) routes() http.Handler {
	m := a.m
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		next, _ := loginkit.SafeNext(r.URL.Query().Get("next"))
		a.render(w, r, http.StatusOK, pageData{Next: next})
	})
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		u := &User{DisplayName: strings.TrimSpace(r.PostFormValue("name"))}
		u.Username = strings.TrimSpace(r.PostFormValue("username"))
		u.Email = strings.TrimSpace(r.PostFormValue("email"))
		password := r.PostFormValue("password")
		if len(password) < 8 {
			a.render(w, r, http.StatusUnprocessableEntity, pageData{Error: "Use a password of at least 8 characters."})
			return
		}
		err := m.Register(r.Context(), u, password)
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		switch {
		case errors.Is(err, loginkit.ErrDuplicate):
			a.render(w, r, http.StatusUnprocessableEntity, pageData{Error: "That username or email is already registered."})
		case errors.Is(err, loginkit.ErrInvalid):
			a.render(w, r, http.StatusUnprocessableEntity, pageData{Error: "Enter a username without '@', or an email."})
		case err != nil:
			a.unavailable(w, r, err)
		default:
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.PostFormValue("login"), r.PostFormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{Remember: r.PostFormValue("remember") == "1"})
		}
		switch {
		case errors.Is(err, loginkit.ErrInvalidCredentials), errors.Is(err, loginkit.ErrInactive), errors.Is(err, loginkit.ErrLocked):
			a.render(w, r, http.StatusUnauthorized, pageData{Error: "Invalid username or password"})
		case err != nil:
			a.unavailable(w, r, err)
		default:
			http.Redirect(w, r, m.NextOr(r, "/"), http.StatusSeeOther)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			slog.Warn("logout", "error", err)
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /account", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		sessions, err := a.sessions.ListByUser(r.Context(), u.ID)
		if err != nil {
			a.unavailable(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, pageData{Sessions: sessions})
	})))
	mux.Handle("POST /account/logout-others", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutOthers(w, r); err != nil {
			a.unavailable(w, r, err)
			return
		}
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})))
	return http.NewCrossOriginProtection().Handler(m.Middleware(mux))
}

func (a *App) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	slog.Error("request failed", "path", r.URL.Path, "error", err)
	a.render(w, r, http.StatusServiceUnavailable, pageData{Error: "The service is unavailable; please try again."})
}
