// Command minimal is the Flask-Login tutorial in Go: a user store, login
// with "remember me", logout, a protected page and a page that needs a
// fresh login. Run it and open http://127.0.0.1:8080 (log in as ann,
// password "correct horse"). examples/quickstart is the full application.
package main

import (
	"context"
	"fmt"
	"html"
	"log"
	"net/http"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
)

// User is the application's user model: Flask-Login's UserMixin is the
// embedded loginkit.Account.
type User struct{ loginkit.Account }

// newApp builds the manager and the routes, with one user, ann.
func newApp(ctx context.Context) (http.Handler, error) {
	users := memstore.NewUsers[User]()
	m, err := loginkit.New[*User]().
		Users(users).                     // the user_loader
		Sessions(memstore.NewSessions()). // server-side sessions
		Tokens(memstore.NewTokens()).     // enables remember-me
		Hasher(hashers.Default()).
		LoginURL("/login").                                                // login_view
		RefreshURL("/reauth").                                             // refresh_view
		Cookies(loginkit.CookieOptions{Insecure: true}).Development(true). // plain HTTP on localhost only
		Build()
	if err != nil {
		return nil, err
	}
	ann := &User{}
	ann.Username = "ann"
	if err := m.Register(ctx, ann, "correct horse"); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := m.CurrentUser(r); ok {
			page(w, "Logged in as "+html.EscapeString(u.Username)+`. <a href="/protected">Protected</a> <a href="/settings">Settings</a>`+
				`<form method="post" action="/logout"><button>Log out</button></form>`)
			return
		}
		page(w, `<a href="/login">Log in</a>`)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		page(w, passwordForm("/login", r.FormValue("next"), true))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"))
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			page(w, "Wrong username or password. "+passwordForm("/login", r.PostFormValue("next"), true))
			return
		}
		if err := m.Login(w, r, u, loginkit.LoginOptions{Remember: r.PostFormValue("remember") == "on"}); err != nil {
			http.Error(w, "Login failed", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, m.NextOr(r, "/"), http.StatusSeeOther) // only local targets
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		_ = m.Logout(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /protected", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		page(w, "Hello, "+html.EscapeString(u.Username)+"! This page needs a login.")
	})))
	mux.Handle("GET /settings", m.FreshRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page(w, "Settings: this page needs a fresh login, not one restored from the remember cookie.")
	})))
	mux.Handle("GET /reauth", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page(w, "Please confirm your password. "+passwordForm("/reauth", r.FormValue("next"), false))
	})))
	mux.Handle("POST /reauth", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Reauthenticate(w, r, r.PostFormValue("password")); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			page(w, "Wrong password. "+passwordForm("/reauth", r.PostFormValue("next"), false))
			return
		}
		http.Redirect(w, r, m.NextOr(r, "/"), http.StatusSeeOther)
	})))
	// Middleware loads the current user on every request; the standard
	// library's CrossOriginProtection refuses cross-site form posts.
	return http.NewCrossOriginProtection().Handler(m.Middleware(mux)), nil
}

// passwordForm is the login form, or the re-authentication form without
// the username and remember-me fields.
func passwordForm(action, next string, login bool) string {
	f := `<form method="post" action="` + action + `"><input type="hidden" name="next" value="` + html.EscapeString(next) + `">`
	if login {
		f += `<input name="username" placeholder="username"> <label><input type="checkbox" name="remember"> Remember me</label> `
	}
	return f + `<input type="password" name="password" placeholder="password"> <button>OK</button></form>`
}

func page(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>minimal</title>%s\n", body)
}

func main() {
	h, err := newApp(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	log.Print("listening on http://127.0.0.1:8080")
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", h))
}
