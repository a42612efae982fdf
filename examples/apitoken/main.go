// Command apitoken shows API clients authenticating with bearer tokens
// through the manager's request loader, next to browser sessions: a
// logged-in user issues tokens on a page (each shown once, stored only as
// a hash), lists them and revokes them; API requests carry
// "Authorization: Bearer <token>" and get the same typed current user,
// without any session or cookie.
//
//	go run ./examples/apitoken
//	curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8082/api/whoami
package main

import (
	"context"
	"encoding/json"
	"flag"
	"html/template"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/examples/internal/webserver"
	"github.com/loginkit/loginkit/hashers"
)

// PurposeAPI marks API tokens in the token store.
const PurposeAPI = "api"

// tokenLifetime is how long an issued API token lives.
const tokenLifetime = 90 * 24 * time.Hour

// User is the application's user model.
type User struct {
	loginkit.Account
}

// App holds the manager and stores.
type App struct {
	m      *loginkit.Manager[*User]
	users  loginkit.UserStore[*User]
	tokens loginkit.TokenStore
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<title>Log in</title>
{{with .}}<p>{{.}}</p>{{end}}
<form method="post" action="/login">
<input name="login" placeholder="username"> <input name="password" type="password" placeholder="password">
<button>Log in</button></form>`))

var tokensPage = template.Must(template.New("tokens").Parse(`<!doctype html>
<title>API tokens</title>
<h1>API tokens of {{.User.Username}}</h1>
{{with .New}}<p>New token (copy it now, it is not shown again): <code id="new-token">{{.}}</code></p>{{end}}
<ul id="tokens">{{range .Tokens}}<li>{{.Selector}} — created {{.CreatedAt.Format "2006-01-02 15:04"}}, expires {{.ExpiresAt.Format "2006-01-02"}}
<form method="post" action="/tokens/{{.Selector}}/revoke"><button>Revoke</button></form></li>{{end}}</ul>
<form method="post" action="/tokens"><button>Issue a token</button></form>
<form method="post" action="/logout-everywhere"><button>Log out everywhere and void every token</button></form>`))

// bearerLoader authenticates "Authorization: Bearer <token>" requests.
func (a *App) bearerLoader(r *http.Request) (*User, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, loginkit.ErrNotFound
	}
	t, err := loginkit.VerifyToken(r.Context(), a.tokens, strings.TrimSpace(secret), PurposeAPI)
	if err != nil {
		return nil, err
	}
	u, err := a.users.LoadUser(r.Context(), t.UserID)
	if err != nil {
		return nil, err
	}
	if t.Version != u.SessionVersion {
		return nil, loginkit.ErrNotFound // "log out everywhere" voids API tokens too
	}
	return u, nil
}

// NewApp builds the app on the given stores. insecureCookies leaves the
// Secure attribute off the cookies, for plain HTTP on the loopback
// interface.
func NewApp(users loginkit.UserStore[*User], sessions loginkit.SessionStore, tokens loginkit.TokenStore, hasher loginkit.Hasher, insecureCookies bool) (*App, http.Handler, error) {
	a := &App{users: users, tokens: tokens}
	b := loginkit.New[*User]().
		Users(users).Sessions(sessions).Tokens(tokens).Hasher(hasher).
		RequestLoader(a.bearerLoader).
		LoginURL("/")
	if insecureCookies {
		b.Cookies(loginkit.CookieOptions{Insecure: true}).Development(true)
	}
	m, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	a.m = m
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := m.CurrentSession(r); ok {
			http.Redirect(w, r, "/tokens", http.StatusSeeOther)
			return
		}
		_ = loginPage.Execute(w, "")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			_ = loginPage.Execute(w, "Invalid username or password")
			return
		}
		http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	})
	// Token management needs a browser session: a bearer token cannot
	// mint more tokens.
	sessionOnly := loginkit.PolicyFunc(func(_ context.Context, c *loginkit.Check) error {
		if c.Session == nil {
			return loginkit.ErrForbidden
		}
		return nil
	})
	guard := m.Guard(sessionOnly)
	mux.Handle("GET /tokens", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.renderTokens(w, r, "") })))
	mux.Handle("POST /tokens", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		secret, _, err := loginkit.IssueToken(r.Context(), tokens, u.ID, PurposeAPI, u.SessionVersion, tokenLifetime)
		if err != nil {
			http.Error(w, "could not issue a token", http.StatusServiceUnavailable)
			return
		}
		a.renderTokens(w, r, secret)
	})))
	mux.Handle("POST /tokens/{selector}/revoke", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		t, err := tokens.Get(r.Context(), r.PathValue("selector"))
		if err != nil || t.UserID != u.ID || t.Purpose != PurposeAPI {
			http.NotFound(w, r)
			return
		}
		if err := tokens.Delete(r.Context(), t.Selector); err != nil {
			http.Error(w, "could not revoke", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	})))
	// Logging out everywhere bumps the user's session version, which ends
	// every other session and voids every API token issued before.
	mux.Handle("POST /logout-everywhere", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutOthers(w, r); err != nil {
			http.Error(w, "could not log out everywhere", http.StatusServiceUnavailable)
			return
		}
		u, _ := m.CurrentUser(r)
		if _, err := tokens.DeleteByUser(r.Context(), u.ID, PurposeAPI); err != nil {
			slog.Warn("deleting voided API tokens", "error", err)
		}
		http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	})))
	mux.Handle("GET /api/whoami", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		_, viaSession := m.CurrentSession(r)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": u.ID, "username": u.Username, "session": viaSession})
	})))
	return a, http.NewCrossOriginProtection().Handler(m.Middleware(mux)), nil
}

func (a *App) renderTokens(w http.ResponseWriter, r *http.Request, fresh string) {
	u, _ := a.m.CurrentUser(r)
	list, err := a.tokens.ListByUser(r.Context(), u.ID, PurposeAPI)
	if err != nil {
		http.Error(w, "could not list tokens", http.StatusServiceUnavailable)
		return
	}
	_ = tokensPage.Execute(w, map[string]any{"User": u, "Tokens": list, "New": fresh})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	users := memstore.NewUsers[User]()
	// Plain HTTP is acceptable on the loopback interface only.
	a, h, err := NewApp(users, memstore.NewSessions(), memstore.NewTokens(), hashers.Default(), webserver.IsLoopback(*addr))
	if err != nil {
		log.Fatal(err)
	}
	demo := &User{}
	demo.Username = "demo"
	if err := a.m.Register(ctx, demo, "demo-password"); err != nil {
		log.Fatal(err)
	}
	log.Printf("apitoken on http://%s: POST /login with login=demo&password=demo-password, then visit /tokens", *addr)
	if err := webserver.Run(ctx, *addr, h); err != nil {
		log.Fatal(err)
	}
}
