package twofactor_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/hashers"
	"github.com/loginkit/loginkit/policies"
	"github.com/loginkit/loginkit/twofactor"
	"github.com/pquerna/otp/totp"
)

// Staff is the application's user model: Account and its own fields.
type Staff struct {
	loginkit.Account
	Name string
}

// Example turns on two-factor login, enrols an authenticator app, and
// logs in with the password and then a code; the admin page requires a
// completed second factor.
func Example() {
	key := make([]byte, loginkit.SecondFactorKeySize) // keep it secret, outside the database
	_, _ = rand.Read(key)
	now := time.Now().Truncate(30 * time.Second) // the start of a TOTP step
	m, err := loginkit.New[*Staff]().
		Users(memstore.NewUsers[Staff]()).
		Sessions(memstore.NewSessions()).
		Tokens(memstore.NewTokens()). // counts wrong codes
		Hasher(hashers.Default()).
		SecondFactor(memstore.NewSecondFactors(), loginkit.SecondFactorOptions{Key: key, Issuer: "Example"}).
		Cookies(loginkit.CookieOptions{Insecure: true}). // plain-HTTP development only
		Development(true).
		Clock(func() time.Time { return now }).
		Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	tf, err := twofactor.New(m)
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

	var secret string // what the account page shows as text beside the QR code
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := m.Authenticate(r.Context(), r.PostFormValue("login"), r.PostFormValue("password"))
		if err != nil {
			http.Error(w, "Invalid username or password", http.StatusUnauthorized)
			return
		}
		switch err := m.Login(w, r, u, loginkit.LoginOptions{}); {
		case errors.Is(err, loginkit.ErrSecondFactorRequired):
			fmt.Fprint(w, "enter your code")
		case err != nil:
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, "logged in")
		}
	})
	mux.HandleFunc("POST /login/code", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := tf.PendingUser(r); !ok {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		if err := tf.VerifyTOTP(w, r, r.PostFormValue("code")); err != nil {
			http.Error(w, "wrong code", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "logged in")
	})
	mux.Handle("POST /account/totp", m.Required(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := r.PostFormValue("code"); code != "" {
			codes, err := tf.ConfirmTOTP(w, r, code)
			if err != nil {
				http.Error(w, "wrong code", http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "enabled; %d recovery codes", len(codes))
			return
		}
		e, err := tf.BeginTOTP(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		secret = e.Secret // e.QRCode is a PNG of e.URL
		fmt.Fprint(w, "scan the QR code")
	})))
	mux.Handle("GET /admin", m.Guard(policies.SecondFactor())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "admin page")
	})))
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	show := func(res *http.Response, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, strings.TrimSpace(string(b)))
	}
	post := func(path string, kv ...string) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		show(client.PostForm(srv.URL+path, v))
	}
	code := func() string { c, _ := totp.GenerateCode(secret, now); return c }

	post("/login", "login", "ann@example.com", "password", "correct horse battery staple")
	show(client.Get(srv.URL + "/admin")) // logged in, but without a second factor
	post("/account/totp")
	post("/account/totp", "code", code())
	client.Jar, _ = cookiejar.New(nil) // another browser (or after a logout)

	now = now.Add(30 * time.Second) // the next code
	post("/login", "login", "ann@example.com", "password", "correct horse battery staple")
	show(client.Get(srv.URL + "/admin")) // pending: anonymous
	post("/login/code", "code", "000000")
	post("/login/code", "code", code())
	show(client.Get(srv.URL + "/admin"))
	// Output:
	// 200 logged in
	// 403 {"error":"forbidden","message":"You are not allowed to see this page."}
	// 200 scan the QR code
	// 200 enabled; 10 recovery codes
	// 200 enter your code
	// 401 {"error":"unauthorized","message":"Please log in to access this page."}
	// 401 wrong code
	// 200 logged in
	// 200 admin page
}
