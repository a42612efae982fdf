// Command customstore is the walk-through for an application that keeps
// its users in storage of its own — here one JSON file — instead of one of
// loginkit's adapters. Sessions and remember tokens stay in memory.
//
// The steps a library consumer follows:
//
//  1. Embed loginkit.Account in the user model (User, in jsonusers.go), so
//     that *User is a loginkit.AccountUser and keeps its own fields (Team).
//
//  2. Implement loginkit.UserStore[*User]: LoadUser, FindByLogin, Create,
//     Update, Delete and List (JSONUsers). The contract is in the
//     interface's documentation: uniqueness of email and username after
//     loginkit.NormalizeLogin, loginkit.ErrDuplicate and
//     loginkit.ErrNotFound, copies that callers may change, List ordered
//     by CreatedAt then ID.
//
//  3. Prove it with the conformance suite in the application's own test,
//     as jsonusers_test.go does: conformance.TestUsers with a harness whose
//     New returns an empty store for each case.
//
//  4. Hand it to the builder: loginkit.New[*User]().Users(store)...
//
//     go run ./examples/customstore -users users.json
//
// It creates a user "demo" with password "demo-password" on first run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/examples/internal/webserver"
	"github.com/loginkit/loginkit/hashers"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<title>customstore</title>
{{if .Authenticated}}<p>Hello, {{.User.Username}} of team {{.User.Team}}.</p>
<form method="post" action="/logout"><button>Log out</button></form>
{{else}}<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<input name="login" placeholder="username"> <input name="password" type="password" placeholder="password">
<button>Log in</button></form>{{if .Error}}<p>{{.Error}}</p>{{end}}{{end}}`))

type pageData struct {
	loginkit.Identity[*User]
	Error string
	Next  string
}

// newHandler wires the store into a manager and returns the app.
func newHandler(users loginkit.UserStore[*User], hasher loginkit.Hasher, insecure bool) (http.Handler, *loginkit.Manager[*User], error) {
	b := loginkit.New[*User]().
		Users(users).
		Sessions(memstore.NewSessions()).
		Tokens(memstore.NewTokens()).
		Hasher(hasher).
		LoginURL("/")
	if insecure {
		b.Cookies(loginkit.CookieOptions{Insecure: true}).Development(true)
	}
	m, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		next, _ := loginkit.SafeNext(r.URL.Query().Get("next"))
		_ = page.Execute(w, pageData{Identity: m.Identity(r), Next: next})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		if err != nil {
			next, _ := loginkit.SafeNext(r.FormValue("next"))
			w.WriteHeader(http.StatusUnauthorized)
			_ = page.Execute(w, pageData{Error: "Invalid username or password", Next: next})
			return
		}
		http.Redirect(w, r, m.NextOr(r, "/"), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		_ = m.Logout(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.Handle("GET /team", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		fmt.Fprintln(w, u.Team)
	})))
	return http.NewCrossOriginProtection().Handler(m.Middleware(mux)), m, nil
}

func main() {
	path := flag.String("users", "users.json", "JSON file holding the users")
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	users, err := OpenJSONUsers(*path)
	if err != nil {
		log.Fatal(err)
	}
	// Cookies without the Secure attribute are acceptable on the loopback
	// interface only.
	h, m, err := newHandler(users, hashers.Default(), webserver.IsLoopback(*addr))
	if err != nil {
		log.Fatal(err)
	}
	demo := &User{Team: "blue"}
	demo.Username = "demo"
	if err := m.Register(ctx, demo, "demo-password"); err != nil && !errors.Is(err, loginkit.ErrDuplicate) {
		log.Fatal(err)
	}
	log.Printf("customstore on http://%s (user demo / demo-password)", *addr)
	if err := webserver.Run(ctx, *addr, h); err != nil {
		log.Fatal(err)
	}
}
