package recovery_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/recovery"
)

// Staff is the application's user model: Account and its own fields.
type Staff struct {
	loginkit.Account
	Name string
}

// ExampleNewRecovery wires password reset: a "forgot password" handler
// that answers the same for every login name, and a reset page that sets
// the new password from the link's token. The mailer here keeps the last
// message; use mail.NewSMTP in production and &mail.Log{} in development.
func ExampleNew() {
	users := memstore.NewUsers[Staff]()
	m, err := loginkit.New[*Staff]().
		Users(users).
		Sessions(memstore.NewSessions()).
		Tokens(memstore.NewTokens()). // reset and confirmation links need a token store
		Hasher(hashers.Default()).
		Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	var last *mail.Message
	rc, err := recovery.New(m, recovery.Options[*Staff]{
		Mailer:  mail.MailerFunc(func(_ context.Context, msg *mail.Message) error { last = msg; return nil }),
		From:    "Example <no-reply@example.com>",
		BaseURL: "https://app.example.com", // never the request's Host header
		AppName: "Example",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ann := &Staff{Name: "Ann"}
	ann.Email = "ann@example.com"
	if err := m.Register(context.Background(), ann, "correct horse"); err != nil {
		fmt.Println(err)
		return
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /forgot", func(w http.ResponseWriter, r *http.Request) {
		if err := rc.RequestReset(r, r.FormValue("login")); err != nil {
			http.Error(w, "please try again later", http.StatusTooManyRequests)
			return
		}
		fmt.Fprintln(w, "If an account exists for that name, we sent it a link.")
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		u, err := rc.CompleteReset(w, r, r.FormValue("token"), r.FormValue("password"))
		if err != nil {
			http.Error(w, "this link is invalid or has expired", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "new password set for", u.Name)
	})
	h := m.Middleware(mux)
	post := func(path string, form url.Values) string {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, r)
		return strings.TrimSpace(rec.Body.String())
	}

	fmt.Println(post("/forgot", url.Values{"login": {"nobody@example.com"}}))
	fmt.Println(post("/forgot", url.Values{"login": {"ann@example.com"}}))
	rc.Wait() // the message is sent in the background
	fmt.Println(last.To, "|", last.Subject)
	link := regexp.MustCompile(`https://\S+`).FindString(last.Text)
	fmt.Println(strings.SplitN(link, "=", 2)[0] + "=...")
	token := strings.SplitN(link, "=", 2)[1]
	fmt.Println(post("/reset", url.Values{"token": {token}, "password": {"battery staple"}}))
	fmt.Println(post("/reset", url.Values{"token": {token}, "password": {"again"}}))
	// Output:
	// If an account exists for that name, we sent it a link.
	// If an account exists for that name, we sent it a link.
	// ann@example.com | Reset your Example password
	// https://app.example.com/reset?token=...
	// new password set for Ann
	// this link is invalid or has expired
}

// ExampleRecovery_ConfirmEmail sends a confirmation link after
// registration and confirms the address with the link's token.
func ExampleService_ConfirmEmail() {
	m, err := loginkit.New[*Staff]().
		Users(memstore.NewUsers[Staff]()).
		Sessions(memstore.NewSessions()).
		Tokens(memstore.NewTokens()).
		Hasher(hashers.Default()).
		Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	var last *mail.Message
	rc, err := recovery.New(m, recovery.Options[*Staff]{
		Mailer:  mail.MailerFunc(func(_ context.Context, msg *mail.Message) error { last = msg; return nil }),
		From:    "no-reply@example.com",
		BaseURL: "https://app.example.com",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	bob := &Staff{Name: "Bob"}
	bob.Email = "bob@example.com"
	if err := m.Register(ctx, bob, "correct horse"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("confirmed at registration:", bob.EmailConfirmed())
	if err := rc.SendConfirmation(ctx, bob); err != nil {
		fmt.Println(err)
		return
	}
	link := regexp.MustCompile(`https://\S+`).FindString(last.Text)
	u, _ := url.Parse(link)
	stored, err := rc.ConfirmEmail(ctx, u.Query().Get("token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Path, "confirmed:", stored.EmailConfirmed())
	stored.Email = "bob@example.org" // any change of address unconfirms it
	fmt.Println("after a change:", stored.EmailConfirmed())
	// Output:
	// confirmed at registration: false
	// /confirm confirmed: true
	// after a change: false
}
