package passkey_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/internal/softauthn"
	"github.com/loginkit/loginkit/passkey"
)

// exampleFatal reports a software-authenticator failure in an Example.
type exampleFatal struct{}

func (exampleFatal) Helper()                        {}
func (exampleFatal) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// Staff is the application's user model: Account and its own fields.
type Staff struct {
	loginkit.Account
	Name string
}

// Example turns on passkeys, registers one for a user who has just
// logged in with their password, and signs in with it in another browser
// without typing a username. The browser's part
// (navigator.credentials.create and .get) is played by a small software
// authenticator of the tests.
func Example() {
	m, err := loginkit.New[*Staff]().
		Users(memstore.NewUsers[Staff]()).
		Sessions(memstore.NewSessions()).
		Tokens(memstore.NewTokens()). // keeps the challenges
		Hasher(hashers.Default()).
		Passkeys(memstore.NewPasskeys(), loginkit.PasskeyOptions{
			RPID: "login.example", RPDisplayName: "Example", Origins: []string{"https://login.example"},
		}).
		Build()
	if err != nil {
		panic(err)
	}
	pk, err := passkey.New(m) // the ceremonies
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.FormValue("login"), r.FormValue("password"))
		if err == nil {
			err = m.Login(w, r, u, loginkit.LoginOptions{})
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	})
	// The JSON the browser passes to navigator.credentials.create / .get,
	// and the credential it returns, go through four small endpoints.
	mux.HandleFunc("POST /passkeys/register/begin", func(w http.ResponseWriter, r *http.Request) {
		opts, err := pk.BeginRegistration(w, r) // needs a fresh login
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		_, _ = w.Write(opts)
	})
	mux.HandleFunc("POST /passkeys/register/finish", func(w http.ResponseWriter, r *http.Request) {
		p, err := pk.FinishRegistration(w, r, "Laptop")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "registered %q", p.Name)
	})
	mux.HandleFunc("POST /passkeys/login/begin", func(w http.ResponseWriter, r *http.Request) {
		opts, err := pk.BeginLogin(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(opts)
	})
	mux.HandleFunc("POST /passkeys/login/finish", func(w http.ResponseWriter, r *http.Request) {
		u, err := pk.FinishLogin(w, r, loginkit.LoginOptions{})
		if err != nil { // errors.Is(err, loginkit.ErrPasskeyRefused) for a refused assertion
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "signed in as %s", u.Username)
	})
	h := m.Middleware(mux)

	// send posts body with the cookies in jar, keeping those it gets back.
	send := func(jar map[string]string, path, contentType string, body []byte) string {
		r := httptest.NewRequest("POST", "https://login.example"+path, bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		for k, v := range jar {
			r.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for _, c := range rec.Result().Cookies() {
			jar[c.Name] = c.Value
		}
		return strings.TrimSpace(rec.Body.String())
	}

	ann := &Staff{}
	ann.Username = "ann"
	if err := m.Register(context.Background(), ann, "correct horse battery staple"); err != nil {
		panic(err)
	}
	laptop := softauthn.New(exampleFatal{})

	first := map[string]string{}
	send(first, "/login", "application/x-www-form-urlencoded", []byte("login=ann&password=correct+horse+battery+staple"))
	opts := send(first, "/passkeys/register/begin", "application/json", nil)
	fmt.Println(send(first, "/passkeys/register/finish", "application/json", laptop.Create(exampleFatal{}, []byte(opts))))

	other := map[string]string{} // another browser: no session, no username
	opts = send(other, "/passkeys/login/begin", "application/json", nil)
	laptop.Count++
	fmt.Println(send(other, "/passkeys/login/finish", "application/json", laptop.Get(exampleFatal{}, []byte(opts))))
	// Output:
	// registered "Laptop"
	// signed in as ann
}
