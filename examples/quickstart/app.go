package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loginkit/loginkit"
	lkmail "github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/passkey"
	"github.com/loginkit/loginkit/policies"
	"github.com/loginkit/loginkit/recovery"
	"github.com/loginkit/loginkit/twofactor"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// User is the application's user model: the library's Account plus a
// column of the application's own.
type User struct {
	loginkit.Account `bson:",inline"`
	IsAdmin          bool `bun:"is_admin" bson:"is_admin" json:"is_admin"`
}

// Stores are the stores the app needs; main wires SQLite ones.
type Stores struct {
	Users    loginkit.UserStore[*User]
	Sessions loginkit.SessionStore
	Tokens   loginkit.TokenStore
	// SecondFactors keeps TOTP secrets and recovery codes; without it,
	// two-factor authentication is not offered.
	SecondFactors loginkit.SecondFactorStore
	// Passkeys keeps passkeys; without it (or without
	// Options.PasskeyOrigin), passkeys are not offered.
	Passkeys loginkit.PasskeyStore
}

// Options configure the app.
type Options struct {
	// Hasher hashes passwords; required.
	Hasher loginkit.Hasher
	// Policies are added to the manager (e.g. lockout).
	Policies []loginkit.Policy
	// InsecureCookies leaves the Secure attribute off the cookies, for
	// plain-HTTP development on localhost.
	InsecureCookies bool
	// Logger receives the app's and the manager's logs.
	Logger *slog.Logger
	// Clock overrides the manager's clock (tests).
	Clock func() time.Time
	// SecondFactorKey encrypts TOTP secrets (32 bytes, kept outside the
	// database); when nil, a random key is made for this process only.
	SecondFactorKey []byte
	// AdminRequires2FA makes the administration pages require a login
	// completed with two-factor authentication.
	AdminRequires2FA bool
	// Mailer sends the password-reset and confirmation messages; nil
	// writes them to Logger (development).
	Mailer lkmail.Mailer
	// MailFrom is the messages' sender; default defaultMailFrom.
	MailFrom string
	// BaseURL starts the links in the messages, such as
	// https://app.example.com; default http://127.0.0.1:8080.
	BaseURL string
	// PasskeyOrigin is the origin browsers reach the app at, such as
	// https://app.example.com or http://localhost:8080 (browsers refuse
	// passkeys on an IP address); its host name is the passkeys' relying
	// party ID. Empty: no passkeys.
	PasskeyOrigin string
}

// App is the quickstart web application.
type App struct {
	m      *loginkit.Manager[*User]
	rc     *recovery.Service[*User]
	tf     *twofactor.Service[*User] // nil without a second-factor store
	pk     *passkey.Service[*User]   // nil with passkeys off
	stores Stores
	pages  map[string]*template.Template
	log    *slog.Logger
	// admin2FA: the admin pages need a login with a second factor.
	admin2FA bool
}

// Password rules: at least minPasswordLen characters, and at most
// maxPasswordLen bytes (hashers refuse very long passwords).
const (
	minPasswordLen = 8
	maxPasswordLen = 1024
)

// pageSize is the number of users per page in the administration list.
const pageSize = 20

// NewApp builds the app and its login manager.
func NewApp(st Stores, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	b := loginkit.New[*User]().
		Users(st.Users).
		Sessions(st.Sessions).
		Tokens(st.Tokens).
		Hasher(o.Hasher).
		Policies(o.Policies...).
		LoginURL("/login").
		RefreshURL("/reauth").
		Logger(o.Logger)
	if o.InsecureCookies {
		b.Cookies(loginkit.CookieOptions{Insecure: true}).Development(true)
	}
	if o.Clock != nil {
		b.Clock(o.Clock)
	}
	a := &App{stores: st, log: o.Logger, pages: map[string]*template.Template{}, admin2FA: o.AdminRequires2FA}
	b.ForbiddenHandler(http.HandlerFunc(a.forbidden))
	if st.SecondFactors != nil {
		key := o.SecondFactorKey
		if key == nil {
			key = make([]byte, loginkit.SecondFactorKeySize)
			_, _ = rand.Read(key)
			o.Logger.Warn("no second-factor key given: TOTP secrets enrolled now will not open after a restart")
		}
		b.SecondFactor(st.SecondFactors, loginkit.SecondFactorOptions{Key: key, Issuer: "loginkit quickstart"})
	}
	if st.Passkeys != nil && o.PasskeyOrigin != "" {
		switch po, err := passkeyConfig(o.PasskeyOrigin); {
		case errors.Is(err, errNoPasskeysOnIP):
			o.Logger.Warn("passkeys are off", "reason", err)
			a.stores.Passkeys = nil
		case err != nil:
			return nil, err
		default:
			b.Passkeys(st.Passkeys, po)
		}
	} else {
		a.stores.Passkeys = nil
	}
	m, err := b.Build()
	if err != nil {
		return nil, err
	}
	a.m = m
	if a.rc, err = newRecovery(m, o); err != nil {
		return nil, err
	}
	if a.stores.SecondFactors != nil {
		if a.tf, err = twofactor.New(m); err != nil {
			return nil, err
		}
	}
	if a.stores.Passkeys != nil {
		if a.pk, err = passkey.New(m); err != nil {
			return nil, err
		}
	}
	layout := template.Must(template.ParseFS(templateFS, "templates/layout.html"))
	for _, p := range []string{"home", "register", "login", "reauth", "account", "password", "admin_users", "admin_user", "admin_delete", "error", "login_2fa", "account_2fa", "recovery_codes", "forgot", "reset", "confirm", "account_passkeys"} {
		a.pages[p] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+p+".html"))
	}
	return a, nil
}

// Handler returns the app's routes behind CSRF protection and the login
// middleware.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	// fresh and required register a handler behind FreshRequired and
	// Required.
	fresh := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, a.m.FreshRequired(h)) }
	required := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, a.m.Required(h)) }
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("/", a.notFound)
	mux.HandleFunc("GET /register", a.registerForm)
	mux.HandleFunc("POST /register", a.register)
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	if a.stores.Passkeys != nil {
		mux.HandleFunc("POST /passkeys/login/begin", a.passkeyOptions(a.pk.BeginLogin))
		mux.HandleFunc("POST /passkeys/login/finish", a.passkeyLoginFinish)
		fresh("GET /account/passkeys", a.passkeysPage)
		fresh("POST /account/passkeys/begin", a.passkeyOptions(a.pk.BeginRegistration))
		fresh("POST /account/passkeys/finish", a.passkeyAddFinish)
		fresh("POST /account/passkeys/rename", a.passkeyRename)
		fresh("POST /account/passkeys/delete", a.passkeyDelete)
		if a.stores.SecondFactors != nil {
			mux.HandleFunc("POST /login/2fa/passkey/begin", a.passkeyOptions(a.pk.BeginSecondFactor))
			mux.HandleFunc("POST /login/2fa/passkey/finish", a.passkeyFactorFinish)
		}
	}
	required("GET /account", a.account)
	// Logging the other devices out needs a fresh login: a session
	// restored from a stolen remember cookie must not lock the owner out.
	// After the password check the user comes back here with GET.
	fresh("POST /account/sessions/revoke", a.revokeOthers)
	mux.Handle("GET /account/sessions/revoke", a.m.FreshRequired(http.RedirectHandler("/account", http.StatusSeeOther)))
	fresh("GET /account/password", a.passwordForm)
	fresh("POST /account/password", a.changePassword)
	required("GET /reauth", a.reauthForm)
	a.recoveryRoutes(mux)
	required("POST /reauth", a.reauth)
	if a.stores.SecondFactors != nil {
		mux.HandleFunc("GET /login/2fa", a.secondFactorForm)
		mux.HandleFunc("POST /login/2fa", a.secondFactor)
		fresh("GET /account/2fa", a.enableForm)
		fresh("GET /account/2fa/qr.png", a.qrCode)
		fresh("POST /account/2fa", a.enable)
		fresh("POST /account/2fa/recovery-codes", a.regenerate)
		fresh("POST /account/2fa/disable", a.disable)
		// After re-entering the password, the refresh page sends the
		// user back here with GET: back to the account page.
		mux.Handle("GET /account/2fa/{action}", a.m.FreshRequired(http.RedirectHandler("/account", http.StatusSeeOther)))
	}

	adminPolicies := []loginkit.Policy{policies.RequireUser(func(u *User) bool { return u.IsAdmin })}
	if a.admin2FA {
		adminPolicies = append(adminPolicies, policies.SecondFactor())
	}
	adminOnly := a.m.Guard(adminPolicies...)
	admin := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, adminOnly(h)) }
	admin("GET /admin/users", a.adminUsers)
	admin("POST /admin/users", a.adminCreate)
	admin("GET /admin/users/{id}", a.adminEditForm)
	admin("POST /admin/users/{id}", a.adminEdit)
	admin("POST /admin/users/{id}/active", a.adminActive)
	admin("GET /admin/users/{id}/delete", a.adminDeleteForm)
	admin("POST /admin/users/{id}/delete", a.adminDelete)

	mux.Handle("GET /api/me", jsonOnly(a.m.Required(http.HandlerFunc(a.apiMe))))
	mux.Handle("POST /api/login", jsonOnly(http.HandlerFunc(a.apiLogin)))
	mux.Handle("POST /api/logout", jsonOnly(http.HandlerFunc(a.apiLogout)))

	csrf := http.NewCrossOriginProtection()
	return csrf.Handler(a.m.Middleware(securityHeaders(mux)))
}

// jsonOnly marks the API routes as JSON-only: whatever the client's Accept
// header says, the guards answer with a JSON error (401, 503), never with a
// redirect to the login page.
func jsonOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
		h.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every page carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

// view is what every page template receives.
type view struct {
	Title    string
	Identity loginkit.Identity[*User]
	Flash    string
	Form     map[string]string
	Errors   map[string]string
	Error    string
	Next     string
	Message  string
	// PasswordRule is shown beside every new-password field.
	PasswordRule string

	User     *User
	Me       *User
	Sessions []sessionRow
	Users    []*User
	Edit     *User
	Page     int
	Pages    int
	Total    int
	Prev     int
	NextPage int

	// Two-factor authentication: the account's status, and recovery
	// codes to show once.
	TwoFactor *twofactor.Status
	Codes     []string

	// Passkeys: whether they are offered (login page, second-factor
	// page, account page), and the user's, on the passkeys page.
	PasskeysOn    bool
	PasskeyFactor bool
	Passkeys      []passkeyRow
}

// Password rule shown on every form that sets a password.
var passwordRule = fmt.Sprintf("At least %d characters.", minPasswordLen)

// lockoutNote explains the lockout on the login page after any failed
// login, so that a locked account's owner knows to wait.
var lockoutNote = fmt.Sprintf("After %d wrong passwords in a row, an account stops accepting logins for %d minutes; if you are sure of your password, wait and try again.",
	lockoutAfter, int(lockoutFor/time.Minute))

// flashKey is the session value holding a one-time message for the next
// page ("Password changed", "You have been logged out").
const flashKey = "flash"

// flash stores a one-time message for the next page this browser shows.
// Call it before writing the response (a redirect, typically).
func (a *App) flash(w http.ResponseWriter, r *http.Request, msg string) {
	if err := a.m.SetValue(w, r, flashKey, msg); err != nil {
		a.log.Warn("flash", "error", err)
	}
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Identity = a.m.Identity(r)
	v.PasskeysOn = a.stores.Passkeys != nil
	v.PasswordRule = passwordRule
	if v.Flash == "" {
		v.Flash, _ = a.m.PopValue(w, r, flashKey)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := a.pages[page].ExecuteTemplate(w, "layout", v); err != nil {
		a.log.Error("render", "page", page, "error", err)
	}
}

// forbidden is the manager's response to a logged-in user a policy
// refuses (here: a non-administrator on an /admin page).
func (a *App) forbidden(w http.ResponseWriter, r *http.Request) {
	if u, ok := a.m.CurrentUser(r); ok && u.IsAdmin && a.admin2FA && strings.HasPrefix(r.URL.Path, "/admin/") {
		a.render(w, r, http.StatusForbidden, "error", view{Title: "Two-factor authentication required",
			Message: "Administration needs a login with two-factor authentication: turn it on from your account page, then log in again."})
		return
	}
	a.render(w, r, http.StatusForbidden, "error", view{Title: "Forbidden", Message: "You are not allowed to see this page."})
}

func (a *App) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("request failed", "path", r.URL.Path, "error", err)
	a.render(w, r, http.StatusInternalServerError, "error", view{Title: "Something went wrong", Message: "Please try again in a moment."})
}

// notFound answers every path no route matches with the app's own page.
func (a *App) notFound(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusNotFound, "error", view{Title: "Page not found", Message: "There is no page at this address.", Next: "/"})
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home", view{Title: "Home"})
}

// --- registration and login ---

func (a *App) registerForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "register", view{Title: "Register"})
}

// validateNewUser checks the registration fields; it returns field errors.
func (a *App) validateNewUser(ctx context.Context, username, email, password, confirm string, checkConfirm bool) map[string]string {
	errs := map[string]string{}
	switch {
	case strings.TrimSpace(username) == "":
		errs["username"] = "Choose a username."
	case strings.ContainsAny(username, "@ \t"):
		errs["username"] = "A username cannot contain '@' or spaces."
	case !loginkit.ValidUsername(username):
		errs["username"] = lookalikeAtMessage(username)
	case len(username) > 64:
		errs["username"] = "That username is too long."
	default:
		if _, err := a.stores.Users.FindByLogin(ctx, username); err == nil {
			errs["username"] = "That username is taken."
		}
	}
	if !validEmail(email) || !loginkit.ValidEmail(email) {
		errs["email"] = "Enter a valid email address."
	} else if _, err := a.stores.Users.FindByLogin(ctx, email); err == nil {
		errs["email"] = "An account with that email already exists."
	}
	if msg := checkPassword(password); msg != "" {
		errs["password"] = msg
	}
	if checkConfirm && password != confirm {
		errs["confirm"] = "The passwords do not match."
	}
	return errs
}

// createUser validates the form fields and registers u with them. It
// returns the field errors to show again (none when u was created); a
// non-nil error is a failure to report as an error page.
func (a *App) createUser(ctx context.Context, u *User, f map[string]string, password, confirm string, checkConfirm bool) (map[string]string, error) {
	errs := a.validateNewUser(ctx, f["username"], f["email"], password, confirm, checkConfirm)
	if len(errs) > 0 {
		return errs, nil
	}
	u.Username, u.Email = strings.TrimSpace(f["username"]), strings.TrimSpace(f["email"])
	err := a.m.Register(ctx, u, password)
	switch {
	case errors.Is(err, loginkit.ErrDuplicate):
		errs["email"] = "That username or email is already registered."
	case errors.Is(err, loginkit.ErrInvalid):
		field, msg := refusedField(u.Username, u.Email)
		errs[field] = msg
	case err != nil:
		return nil, err
	}
	return errs, nil
}

func (a *App) register(w http.ResponseWriter, r *http.Request) {
	f := formValues(r, "username", "email")
	u := &User{}
	errs, err := a.createUser(r.Context(), u, f, r.PostFormValue("password"), r.PostFormValue("confirm"), true)
	switch {
	case err != nil:
		a.fail(w, r, err)
	case len(errs) > 0:
		a.render(w, r, http.StatusUnprocessableEntity, "register", view{Title: "Register", Form: f, Errors: errs})
	default:
		if err := a.m.Login(w, r, u, loginkit.LoginOptions{}); err != nil {
			a.fail(w, r, err)
			return
		}
		a.sendConfirmation(r, u)
		a.flash(w, r, "Welcome, "+u.Username+"! Your account is ready.")
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}
}

func (a *App) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.m.CurrentUser(r); ok {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	next, _ := loginkit.SafeNext(r.URL.Query().Get("next"))
	a.render(w, r, http.StatusOK, "login", view{Title: "Log in", Next: next})
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	f := formValues(r, "login")
	remember := r.PostFormValue("remember") == "1"
	if remember {
		f["remember"] = "1"
	}
	next, _ := loginkit.SafeNext(r.PostFormValue("next"))
	u, err := a.m.Authenticate(r.Context(), f["login"], r.PostFormValue("password"))
	if err == nil {
		err = a.m.Login(w, r, u, loginkit.LoginOptions{Remember: remember})
	}
	if errors.Is(err, loginkit.ErrSecondFactorRequired) {
		target := "/login/2fa"
		if next != "" {
			target += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	if err != nil {
		// The same message for an unknown name, a wrong password and a
		// locked account, so the page does not tell which accounts exist:
		// only an account that exists can be locked, so "locked" would
		// confirm it. The lockout is explained on every failure instead,
		// whatever the name typed, which reveals nothing about any account.
		msg := "Invalid username or password."
		switch {
		case errors.Is(err, loginkit.ErrLocked), errors.Is(err, loginkit.ErrInvalidCredentials):
		case errors.Is(err, loginkit.ErrInactive):
			// Only reached with the right password.
			msg = "This account has been deactivated."
		default:
			a.fail(w, r, err)
			return
		}
		a.render(w, r, http.StatusUnauthorized, "login", view{Title: "Log in", Form: f, Error: msg, Next: next, Message: lockoutNote})
		return
	}
	if next == "" {
		next = "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.m.Logout(w, r); err != nil {
		a.log.Warn("logout", "error", err)
	}
	a.flash(w, r, "You have been logged out.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// --- account ---

type sessionRow struct {
	Device, IP, Created, LastSeen string
	Current, Remembered           bool
	// Pending: the password was right, the two-factor code not given.
	Pending bool
}

func (a *App) account(w http.ResponseWriter, r *http.Request) {
	u, _ := a.m.CurrentUser(r)
	cur, _ := a.m.CurrentSession(r)
	ss, err := a.stores.Sessions.ListByUser(r.Context(), u.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rows := make([]sessionRow, 0, len(ss))
	for _, s := range ss {
		rows = append(rows, sessionRow{
			Device:     describeAgent(s.UserAgent),
			IP:         s.IP,
			Created:    s.CreatedAt.Format("2 Jan 15:04"),
			LastSeen:   s.LastSeenAt.Format("2 Jan 15:04"),
			Current:    cur != nil && s.Key == cur.Key,
			Remembered: s.Remembered,
			Pending:    twofactor.Pending(s),
		})
	}
	v := view{Title: "Account", User: u, Sessions: rows}
	if a.stores.SecondFactors != nil {
		st, err := a.tf.Status(r.Context(), u)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		v.TwoFactor = &st
	}
	a.render(w, r, http.StatusOK, "account", v)
}

func (a *App) revokeOthers(w http.ResponseWriter, r *http.Request) {
	if err := a.m.LogoutOthers(w, r); err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(w, r, "Your other sessions were logged out.")
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (a *App) passwordForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "password", view{Title: "Change password"})
}

func (a *App) changePassword(w http.ResponseWriter, r *http.Request) {
	current, next, confirm := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("confirm")
	errs := map[string]string{}
	if msg := checkPassword(next); msg != "" {
		errs["password"] = msg
	}
	if next != confirm {
		errs["confirm"] = "The passwords do not match."
	}
	if len(errs) == 0 {
		err := a.m.ChangePassword(w, r, current, next)
		switch {
		case errors.Is(err, loginkit.ErrInvalidCredentials):
			errs["current"] = "That is not your current password."
		case errors.Is(err, loginkit.ErrLocked):
			a.render(w, r, http.StatusTooManyRequests, "password", view{Title: "Change password",
				Errors: map[string]string{"current": tooManyAttempts}})
			return
		case errors.Is(err, loginkit.ErrInvalid):
			errs["password"] = badPasswordChars
		case errors.Is(err, loginkit.ErrUnauthorized):
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		case err != nil:
			a.fail(w, r, err)
			return
		default:
			a.flash(w, r, "Password changed. Your other sessions were logged out.")
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return
		}
	}
	a.render(w, r, http.StatusUnprocessableEntity, "password", view{Title: "Change password", Errors: errs})
}

func (a *App) reauthForm(w http.ResponseWriter, r *http.Request) {
	next, _ := loginkit.SafeNext(r.URL.Query().Get("next"))
	a.render(w, r, http.StatusOK, "reauth", view{Title: "Confirm password", Next: next})
}

func (a *App) reauth(w http.ResponseWriter, r *http.Request) {
	next, _ := loginkit.SafeNext(r.PostFormValue("next"))
	if err := a.m.Reauthenticate(w, r, r.PostFormValue("password")); err != nil {
		// The user is logged in, so naming the lockout reveals nothing.
		switch {
		case errors.Is(err, loginkit.ErrInvalidCredentials):
			a.render(w, r, http.StatusUnauthorized, "reauth", view{Title: "Confirm password", Error: "That is not your password.", Next: next})
		case errors.Is(err, loginkit.ErrLocked):
			a.render(w, r, http.StatusTooManyRequests, "reauth", view{Title: "Confirm password", Error: tooManyAttempts, Next: next})
		case errors.Is(err, loginkit.ErrUnauthorized):
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		default:
			a.fail(w, r, err)
		}
		return
	}
	if next == "" {
		next = "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// --- administration ---

func (a *App) adminUsers(w http.ResponseWriter, r *http.Request) {
	a.renderAdminUsers(w, r, http.StatusOK, nil, nil)
}

func (a *App) renderAdminUsers(w http.ResponseWriter, r *http.Request, status int, form, errs map[string]string) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	users, total, err := a.stores.Users.List(r.Context(), loginkit.ListOptions{Offset: (page - 1) * pageSize, Limit: pageSize})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pages := max(1, (total+pageSize-1)/pageSize)
	me, _ := a.m.CurrentUser(r)
	v := view{Title: "Users", Users: users, Me: me, Page: page, Pages: pages, Total: total, Form: form, Errors: errs}
	if page > 1 {
		v.Prev = page - 1
	}
	if page < pages {
		v.NextPage = page + 1
	}
	a.render(w, r, status, "admin_users", v)
}

func (a *App) adminCreate(w http.ResponseWriter, r *http.Request) {
	f := formValues(r, "username", "email")
	u := &User{IsAdmin: r.PostFormValue("admin") == "1"}
	errs, err := a.createUser(r.Context(), u, f, r.PostFormValue("password"), "", false)
	switch {
	case err != nil:
		a.fail(w, r, err)
	case len(errs) > 0:
		a.renderAdminUsers(w, r, http.StatusUnprocessableEntity, f, errs)
	default:
		a.flash(w, r, "User "+u.Username+" created.")
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	}
}

// target loads the user named in the path, answering 404 when missing.
func (a *App) target(w http.ResponseWriter, r *http.Request) (*User, bool) {
	u, err := a.stores.Users.LoadUser(r.Context(), r.PathValue("id"))
	if errors.Is(err, loginkit.ErrNotFound) {
		a.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Message: "There is no such user."})
		return nil, false
	}
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return u, true
}

// otherUser is target for what administrators may not do to their own
// account: when the user is the one logged in, it answers 400 with the
// message refusal.
func (a *App) otherUser(w http.ResponseWriter, r *http.Request, refusal string) (*User, bool) {
	u, ok := a.target(w, r)
	if !ok {
		return nil, false
	}
	if me, _ := a.m.CurrentUser(r); me.ID == u.ID {
		a.render(w, r, http.StatusBadRequest, "error", view{Title: "Not allowed", Message: refusal})
		return nil, false
	}
	return u, true
}

func (a *App) adminEditForm(w http.ResponseWriter, r *http.Request) {
	u, ok := a.target(w, r)
	if !ok {
		return
	}
	a.render(w, r, http.StatusOK, "admin_user", view{Title: "Edit user", Edit: u,
		Form: map[string]string{"username": u.Username, "email": u.Email}})
}

func (a *App) adminEdit(w http.ResponseWriter, r *http.Request) {
	u, ok := a.target(w, r)
	if !ok {
		return
	}
	f := formValues(r, "username", "email")
	errs := map[string]string{}
	switch {
	case f["username"] == "" || strings.ContainsAny(f["username"], "@ \t"):
		errs["username"] = "Enter a username without '@' or spaces."
	case !loginkit.ValidUsername(f["username"]):
		errs["username"] = lookalikeAtMessage(f["username"])
	}
	if !validEmail(f["email"]) || !loginkit.ValidEmail(f["email"]) {
		errs["email"] = "Enter a valid email address."
	}
	password := r.PostFormValue("password")
	if password != "" {
		if msg := checkPassword(password); msg != "" {
			errs["password"] = msg
		}
	}
	if len(errs) == 0 {
		u.Username, u.Email, u.IsAdmin = f["username"], f["email"], r.PostFormValue("admin") == "1"
		u.UpdatedAt = time.Now().UTC()
		err := a.stores.Users.Update(r.Context(), u)
		if err == nil && password != "" {
			err = a.m.SetPassword(r.Context(), u, password)
		}
		switch {
		case errors.Is(err, loginkit.ErrDuplicate):
			errs["email"] = "That username or email belongs to another user."
		case errors.Is(err, loginkit.ErrInvalid):
			field, msg := refusedField(u.Username, u.Email)
			errs[field] = msg
		case err != nil:
			a.fail(w, r, err)
			return
		default:
			a.flash(w, r, "User "+u.Username+" saved.")
			http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
			return
		}
	}
	a.render(w, r, http.StatusUnprocessableEntity, "admin_user", view{Title: "Edit user", Edit: u, Form: f, Errors: errs})
}

func (a *App) adminActive(w http.ResponseWriter, r *http.Request) {
	u, ok := a.otherUser(w, r, "You cannot deactivate your own account.")
	if !ok {
		return
	}
	u.Disabled = r.PostFormValue("active") != "1"
	u.UpdatedAt = time.Now().UTC()
	// Store the change first: RevokeUser saves the stored user with a new
	// session version, not the caller's copy.
	err := a.stores.Users.Update(r.Context(), u)
	if err == nil && u.Disabled {
		// Deactivating also ends the user's logins at once.
		err = a.m.RevokeUser(r.Context(), u)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if u.Disabled {
		a.flash(w, r, "User "+u.Username+" deactivated; their sessions were ended.")
	} else {
		a.flash(w, r, "User "+u.Username+" activated.")
	}
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// adminDeleteForm asks the administrator to confirm a deletion.
func (a *App) adminDeleteForm(w http.ResponseWriter, r *http.Request) {
	u, ok := a.otherUser(w, r, "You cannot delete your own account here.")
	if !ok {
		return
	}
	a.render(w, r, http.StatusOK, "admin_delete", view{Title: "Delete user", Edit: u})
}

func (a *App) adminDelete(w http.ResponseWriter, r *http.Request) {
	u, ok := a.otherUser(w, r, "You cannot delete your own account here.")
	if !ok {
		return
	}
	if err := a.m.RevokeUser(r.Context(), u); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.stores.Users.Delete(r.Context(), u.ID); err != nil {
		a.fail(w, r, err)
		return
	}
	if a.stores.SecondFactors != nil {
		if err := a.stores.SecondFactors.DeleteSecondFactor(r.Context(), u.ID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	if a.stores.Passkeys != nil {
		if _, err := a.stores.Passkeys.DeleteUserPasskeys(r.Context(), u.ID); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	a.flash(w, r, "User "+u.Username+" deleted.")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// --- JSON API ---

type apiUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	IsAdmin  bool   `json:"is_admin"`
}

func toAPI(u *User) apiUser {
	return apiUser{ID: u.ID, Username: u.Username, Email: u.Email, IsAdmin: u.IsAdmin}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *App) apiMe(w http.ResponseWriter, r *http.Request) {
	u, _ := a.m.CurrentUser(r)
	writeJSON(w, http.StatusOK, toAPI(u))
}

func (a *App) apiLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
		Remember bool   `json:"remember"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<14)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "expected a JSON body with login and password"})
		return
	}
	u, err := a.m.Authenticate(r.Context(), in.Login, in.Password)
	if err == nil {
		err = a.m.Login(w, r, u, loginkit.LoginOptions{Remember: in.Remember})
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, toAPI(u))
	case errors.Is(err, loginkit.ErrSecondFactorRequired):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "second_factor_required", "message": "This account uses two-factor authentication: log in with a browser"})
	case errors.Is(err, loginkit.ErrInvalidCredentials), errors.Is(err, loginkit.ErrInactive), errors.Is(err, loginkit.ErrLocked):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_credentials", "message": "Invalid username or password"})
	default:
		a.log.Error("api login", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
	}
}

func (a *App) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := a.m.Logout(w, r); err != nil {
		a.log.Warn("api logout", "error", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- helpers ---

// validEmail accepts a bare address such as ann@example.com: no display
// name, no surrounding spaces, a dot in the domain.
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(addr.Address, "@")
	return strings.Contains(domain, ".") && len(s) <= 254
}

// lookalikeAtMessage explains why a username without an ASCII '@' is
// still refused: one of its characters becomes '@' once normalised
// (loginkit.NormalizeLogin), such as the full-width '＠'.
func lookalikeAtMessage(username string) string {
	return fmt.Sprintf("A username cannot contain '@' or a character that stands for it (here %s).", lookalikeAt(username))
}

// lookalikeAt quotes the first character of s that normalises to a text
// containing '@', or returns "" when there is none.
func lookalikeAt(s string) string {
	for _, r := range s {
		if strings.Contains(loginkit.NormalizeLogin(string(r)), "@") {
			return fmt.Sprintf("%q", string(r))
		}
	}
	return ""
}

// refusedField names the form field, and a message for it, when the user
// store refuses a user with loginkit.ErrInvalid: the username when it is
// not loginkit.ValidUsername, the email when it is not loginkit.ValidEmail,
// otherwise the username, for a rule of the store's own.
func refusedField(username, email string) (field, msg string) {
	switch {
	case !loginkit.ValidLoginName(username):
		return "username", "The username contains a character that is not allowed (a control or invisible character)."
	case !loginkit.ValidLoginName(email):
		return "email", "The email address contains a character that is not allowed (a control or invisible character)."
	case !loginkit.ValidUsername(username):
		return "username", lookalikeAtMessage(username)
	case !loginkit.ValidEmail(email):
		return "email", "Enter a valid email address."
	}
	return "username", "That username or email cannot be used; please choose another."
}

// checkPassword returns why a new password is refused, or "".
func checkPassword(p string) string {
	switch {
	case utf8.RuneCountInString(p) < minPasswordLen:
		return fmt.Sprintf("Use at least %d characters.", minPasswordLen)
	case len(p) > maxPasswordLen:
		return fmt.Sprintf("Use at most %d bytes.", maxPasswordLen)
	case !loginkit.ValidPassword(p):
		return badPasswordChars
	}
	return ""
}

// Messages for refusals that the forms share.
const (
	tooManyAttempts  = "Too many wrong passwords: this account is locked for a few minutes. Try again later."
	badPasswordChars = "The password contains a character that is not allowed (a control or invisible character)."
)

func formValues(r *http.Request, names ...string) map[string]string {
	f := make(map[string]string, len(names))
	for _, n := range names {
		f[n] = strings.TrimSpace(r.PostFormValue(n))
	}
	return f
}

// describeAgent turns a User-Agent into a short device description.
func describeAgent(ua string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go client"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	osName := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			osName = o.name
			break
		}
	}
	if osName == "" {
		return browser
	}
	return browser + " on " + osName
}
