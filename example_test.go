package loginkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
)

// Staff is an application's user model: the library's Account embedded,
// the application's own fields beside it.
type Staff struct {
	loginkit.Account
	Name string
}

// Example wires a manager from in-memory stores, protects a page with
// Required, logs a user in with Authenticate and Login, and shows what an
// anonymous browser and the logged-in browser get.
func Example() {
	users := memstore.NewUsers[Staff]()
	m, err := loginkit.New[*Staff]().
		Users(users).
		Sessions(memstore.NewSessions()).
		Hasher(hashers.Default()).
		LoginURL("/login").
		Cookies(loginkit.CookieOptions{Insecure: true}). // plain-HTTP development only
		Development(true).
		Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	ann := &Staff{Name: "Ann"}
	ann.Email = "ann@example.com"
	if err := m.Register(context.Background(), ann, "correct horse battery staple"); err != nil {
		fmt.Println(err)
		return
	}

	mux := http.NewServeMux()
	mux.Handle("GET /account", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := m.CurrentUser(r)
		fmt.Fprintf(w, "Hello, %s", u.Name)
	})))
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.PostFormValue("login"), r.PostFormValue("password"))
		if err != nil {
			http.Error(w, "Invalid username or password", http.StatusUnauthorized)
			return
		}
		if err := m.Login(w, r, u, loginkit.LoginOptions{Remember: r.PostFormValue("remember") == "on"}); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, m.NextOr(r, "/account"), http.StatusSeeOther)
	})
	handler := m.Middleware(mux)

	// An anonymous browser is sent to the login page, with next set.
	page := httptest.NewRequest("GET", "/account", nil)
	page.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, page)
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	// The login form posts back to /login?next=...
	form := url.Values{"login": {"ANN@example.com"}, "password": {"correct horse battery staple"}}
	login := httptest.NewRequest("POST", "/login?next=%2Faccount", strings.NewReader(form.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, login)
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	// The browser sends its new session cookie back.
	page = httptest.NewRequest("GET", "/account", nil)
	for _, c := range rec.Result().Cookies() {
		page.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, page)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 303 /login?next=%2Faccount
	// 303 /account
	// 200 Hello, Ann
}

// ExampleSafeNext shows which redirect targets survive: only paths on the
// same site.
func ExampleSafeNext() {
	for _, next := range []string{"/account?tab=sessions", "https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"} {
		_, ok := loginkit.SafeNext(next)
		fmt.Println(ok, next)
	}
	// Output:
	// true /account?tab=sessions
	// false https://evil.example/
	// false //evil.example
	// false /\evil.example
	// false javascript:alert(1)
}

// ExampleManager_Authenticate shows the errors Authenticate returns: the
// same ErrInvalidCredentials for an unknown login and a wrong password.
func ExampleManager_Authenticate() {
	m, err := loginkit.New[*Staff]().Users(memstore.NewUsers[Staff]()).
		Sessions(memstore.NewSessions()).Hasher(hashers.Default()).Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	bob := &Staff{Name: "Bob"}
	bob.Username = "bob"
	if err := m.Register(ctx, bob, "a long passphrase"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = m.Authenticate(ctx, "bob", "wrong")
	fmt.Println(errors.Is(err, loginkit.ErrInvalidCredentials))
	_, err = m.Authenticate(ctx, "nobody", "a long passphrase")
	fmt.Println(errors.Is(err, loginkit.ErrInvalidCredentials))
	u, err := m.Authenticate(ctx, "BOB", "a long passphrase")
	fmt.Println(u.Name, err)
	// Output:
	// true
	// true
	// Bob <nil>
}

// One-time ("flash") messages with session values: set before a
// redirect, popped by the next page. They work for anonymous visitors too
// (an anonymous session carries them) and survive the login's rotation.
func ExampleManager_PopValue() {
	m, err := loginkit.New[*Staff]().
		Loader(memstore.NewUsers[Staff]()).
		Sessions(memstore.NewSessions()).
		Build()
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		_ = m.Logout(w, r)
		_ = m.SetValue(w, r, "flash", "You have been logged out.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		msg, _ := m.PopValue(w, r, "flash")
		fmt.Fprintf(w, "flash: %q", msg)
	})
	h := m.Middleware(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/logout", nil))
	cookies := rec.Result().Cookies()
	for range 2 {
		r := httptest.NewRequest("GET", "/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Body.String())
	}
	// Output:
	// flash: "You have been logged out."
	// flash: ""
}
