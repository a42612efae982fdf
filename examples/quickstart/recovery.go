package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/recovery"
)

// defaultMailFrom is the sender of the app's messages unless -mail-from
// says otherwise.
const defaultMailFrom = "loginkit quickstart <no-reply@example.com>"

// newRecovery builds the password-reset and email-confirmation service:
// messages go to o.Mailer (the log when it is nil), links start with
// o.BaseURL, never with the request's Host header.
func newRecovery(m *loginkit.Manager[*User], o Options) (*recovery.Service[*User], error) {
	mailer := o.Mailer
	if mailer == nil {
		mailer = &mail.Log{Logger: o.Logger}
	}
	from := o.MailFrom
	if from == "" {
		from = defaultMailFrom
	}
	base := o.BaseURL
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	return recovery.New(m, recovery.Options[*User]{
		Mailer:  mailer,
		From:    from,
		BaseURL: base,
		AppName: "loginkit quickstart",
	})
}

// recoveryRoutes adds the "forgot password" and email-confirmation pages.
func (a *App) recoveryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /forgot", a.forgotForm)
	mux.HandleFunc("POST /forgot", a.forgot)
	mux.HandleFunc("GET /reset", a.resetForm)
	mux.HandleFunc("POST /reset", a.reset)
	mux.HandleFunc("GET /confirm", a.confirmForm)
	mux.HandleFunc("POST /confirm", a.confirm)
	mux.Handle("POST /account/confirm/resend", a.m.Required(http.HandlerFunc(a.resendConfirmation)))
}

func (a *App) forgotForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "forgot", view{Title: "Forgot password"})
}

// forgot answers the same whether the account exists or not.
func (a *App) forgot(w http.ResponseWriter, r *http.Request) {
	f := formValues(r, "login")
	err := a.rc.RequestReset(r, f["login"])
	switch {
	case errors.Is(err, recovery.ErrRateLimited):
		a.render(w, r, http.StatusTooManyRequests, "forgot", view{Title: "Forgot password", Form: f,
			Error: "Too many requests. Please try again later."})
	case errors.Is(err, loginkit.ErrInvalid):
		a.render(w, r, http.StatusUnprocessableEntity, "forgot", view{Title: "Forgot password", Form: f,
			Error: "Enter your email address or username."})
	case err != nil:
		a.fail(w, r, err)
	default:
		a.render(w, r, http.StatusOK, "forgot", view{Title: "Forgot password",
			Message: "If an account exists for that name, we have sent a link to reset its password to its email address. The link works once, within 30 minutes."})
	}
}

// noReferrer keeps the token in a page's URL out of Referer headers.
func noReferrer(w http.ResponseWriter) { w.Header().Set("Referrer-Policy", "no-referrer") }

var invalidLink = "This link is invalid or has expired. Links work once, and a newer link, a password change or a login makes older ones void."

func (a *App) resetForm(w http.ResponseWriter, r *http.Request) {
	noReferrer(w)
	token := r.URL.Query().Get("token")
	if _, err := a.rc.VerifyReset(r.Context(), token); err != nil {
		a.linkError(w, r, err, "Reset password")
		return
	}
	a.render(w, r, http.StatusOK, "reset", view{Title: "Reset password", Form: map[string]string{"token": token}})
}

func (a *App) reset(w http.ResponseWriter, r *http.Request) {
	noReferrer(w)
	token, password := r.PostFormValue("token"), r.PostFormValue("password")
	errs := map[string]string{}
	if msg := checkPassword(password); msg != "" {
		errs["password"] = msg
	}
	if password != r.PostFormValue("confirm") {
		errs["confirm"] = "The passwords do not match."
	}
	if len(errs) == 0 {
		_, err := a.rc.CompleteReset(w, r, token, password)
		if err == nil {
			a.flash(w, r, "Your password was reset and every session of your account was logged out. Log in with the new password.")
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		a.linkError(w, r, err, "Reset password")
		return
	}
	a.render(w, r, http.StatusUnprocessableEntity, "reset", view{Title: "Reset password", Form: map[string]string{"token": token}, Errors: errs})
}

// linkError answers a reset or confirmation link that cannot be used.
func (a *App) linkError(w http.ResponseWriter, r *http.Request, err error, title string) {
	switch {
	case errors.Is(err, loginkit.ErrInvalidToken), errors.Is(err, loginkit.ErrInactive):
		a.render(w, r, http.StatusBadRequest, "error", view{Title: title, Message: invalidLink})
	default:
		a.fail(w, r, err)
	}
}

// confirmForm shows a button rather than confirming on GET: mail
// scanners open links to check them.
func (a *App) confirmForm(w http.ResponseWriter, r *http.Request) {
	noReferrer(w)
	token := r.URL.Query().Get("token")
	u, err := a.rc.VerifyConfirmation(r.Context(), token)
	if err != nil {
		a.linkError(w, r, err, "Confirm email")
		return
	}
	a.render(w, r, http.StatusOK, "confirm", view{Title: "Confirm email", Edit: u, Form: map[string]string{"token": token}})
}

func (a *App) confirm(w http.ResponseWriter, r *http.Request) {
	noReferrer(w)
	if _, err := a.rc.ConfirmEmail(r.Context(), r.PostFormValue("token")); err != nil {
		a.linkError(w, r, err, "Confirm email")
		return
	}
	if _, ok := a.m.CurrentUser(r); ok {
		a.flash(w, r, "Thank you: your email address is confirmed.")
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	a.flash(w, r, "Thank you: your email address is confirmed.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *App) resendConfirmation(w http.ResponseWriter, r *http.Request) {
	u, _ := a.m.CurrentUser(r)
	err := a.rc.SendConfirmation(r.Context(), u)
	switch {
	case errors.Is(err, recovery.ErrRateLimited):
		a.flash(w, r, "Too many confirmation messages were sent recently; please try again later.")
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	case err != nil:
		a.fail(w, r, err)
	default:
		a.flash(w, r, "We sent a new confirmation link to your email address.")
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}
}

// sendConfirmation mails a new user the confirmation link; a failure is
// logged, not shown: the user can ask again from the banner.
func (a *App) sendConfirmation(r *http.Request, u *User) {
	if err := a.rc.SendConfirmation(r.Context(), u); err != nil {
		a.log.Warn("could not send the confirmation message", "user", u.ID, "error", strings.TrimSpace(err.Error()))
	}
}
