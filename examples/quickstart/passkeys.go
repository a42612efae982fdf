package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"

	"github.com/loginkit/loginkit"
)

// Passkeys: "Sign in with a passkey" on the login page, a passkeys page
// behind a fresh login (add, rename, remove), and a passkey as the
// second factor after the password. The browser side is
// static/passkeys.js, which posts the JSON the manager hands out to
// navigator.credentials and sends back what the browser answers.

// passkeyConfig returns the relying-party settings for an app reached at
// origin (such as https://app.example.com): the RP ID is its host name.
func passkeyConfig(origin string) (loginkit.PasskeyOptions, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return loginkit.PasskeyOptions{}, errors.New("passkey origin: want a URL such as https://app.example.com")
	}
	if net.ParseIP(u.Hostname()) != nil {
		return loginkit.PasskeyOptions{}, errNoPasskeysOnIP
	}
	return loginkit.PasskeyOptions{RPID: u.Hostname(), RPDisplayName: "loginkit quickstart", Origins: []string{u.Scheme + "://" + u.Host}}, nil
}

// errNoPasskeysOnIP: browsers refuse passkeys for an IP address.
var errNoPasskeysOnIP = errors.New("passkeys need a host name, not an IP address: browse to http://localhost:<port> or give -base-url")

// passkeyError answers a failed passkey call as plain text, for the
// script to show.
func (a *App) passkeyError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong."
	switch {
	case errors.Is(err, loginkit.ErrPasskeyRefused), errors.Is(err, loginkit.ErrInvalidCode):
		status, msg = http.StatusBadRequest, "That passkey was not accepted."
	case errors.Is(err, loginkit.ErrLastCredential):
		status, msg = http.StatusConflict, "This is your only way to sign in: add another passkey or set a password first."
	case errors.Is(err, loginkit.ErrNeedsRefresh):
		status, msg = http.StatusForbidden, "Please confirm your password again."
	case errors.Is(err, loginkit.ErrUnauthorized):
		status, msg = http.StatusUnauthorized, "Your sign-in expired. Please log in again."
	case errors.Is(err, loginkit.ErrLocked):
		status, msg = http.StatusTooManyRequests, "Too many attempts. Try again later."
	case errors.Is(err, loginkit.ErrInactive):
		status, msg = http.StatusForbidden, "This account is disabled."
	case errors.Is(err, loginkit.ErrNotFound):
		status, msg = http.StatusNotFound, "No such passkey."
	default:
		a.log.ErrorContext(r.Context(), "passkey", "error", err)
	}
	http.Error(w, msg, status)
}

// passkeyOptions answers the first step of a passkey ceremony with the
// options document begin hands out, which the script passes to
// navigator.credentials.
func (a *App) passkeyOptions(begin func(http.ResponseWriter, *http.Request) (json.RawMessage, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc, err := begin(w, r)
		if err != nil {
			a.passkeyError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(doc)
	}
}

func (a *App) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	if _, err := a.pk.FinishLogin(w, r, loginkit.LoginOptions{}); err != nil {
		a.passkeyError(w, r, err)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (a *App) passkeyFactorFinish(w http.ResponseWriter, r *http.Request) {
	if err := a.pk.VerifySecondFactor(w, r); err != nil {
		a.passkeyError(w, r, err)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (a *App) passkeyAddFinish(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if len(name) > 100 {
		name = name[:100]
	}
	if name == "" {
		name = "Passkey"
	}
	if _, err := a.pk.FinishRegistration(w, r, name); err != nil {
		a.passkeyError(w, r, err)
		return
	}
	a.flash(w, r, "Passkey added.") // for the page the script goes to next
	_, _ = w.Write([]byte("ok"))
}

// passkeysPage lists the user's passkeys with rename and remove forms.
func (a *App) passkeysPage(w http.ResponseWriter, r *http.Request) {
	a.renderPasskeys(w, r, http.StatusOK, "")
}

// passkeyRow is a passkey as the page shows it.
type passkeyRow struct {
	ID, Name, Created, LastUsed string
	Synced                      bool
}

func (a *App) renderPasskeys(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	list, err := a.pk.List(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rows := make([]passkeyRow, 0, len(list))
	for _, p := range list {
		row := passkeyRow{ID: base64.RawURLEncoding.EncodeToString(p.CredentialID), Name: p.Name, Created: p.CreatedAt.Format("2 Jan 2006 15:04"), Synced: p.BackupEligible}
		if !p.LastUsedAt.IsZero() {
			row.LastUsed = p.LastUsedAt.Format("2 Jan 2006 15:04")
		}
		rows = append(rows, row)
	}
	u, _ := a.m.CurrentUser(r)
	a.render(w, r, status, "account_passkeys", view{Title: "Passkeys", User: u, Passkeys: rows, Error: errMsg})
}

func credentialID(r *http.Request) []byte {
	id, _ := base64.RawURLEncoding.DecodeString(r.PostFormValue("id"))
	return id
}

func (a *App) passkeyRename(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	if name == "" || len(name) > 100 {
		a.renderPasskeys(w, r, http.StatusBadRequest, "Give the passkey a name of at most 100 characters.")
		return
	}
	if err := a.pk.Rename(w, r, credentialID(r), name); err != nil {
		if errors.Is(err, loginkit.ErrNotFound) || errors.Is(err, loginkit.ErrInvalid) {
			a.renderPasskeys(w, r, http.StatusNotFound, "No such passkey.")
			return
		}
		a.fail(w, r, err)
		return
	}
	a.flash(w, r, "Passkey renamed.")
	http.Redirect(w, r, "/account/passkeys", http.StatusSeeOther)
}

func (a *App) passkeyDelete(w http.ResponseWriter, r *http.Request) {
	switch err := a.pk.Delete(w, r, credentialID(r)); {
	case errors.Is(err, loginkit.ErrLastCredential):
		a.renderPasskeys(w, r, http.StatusConflict, "This is your only way to sign in: add another passkey or set a password first.")
		return
	case errors.Is(err, loginkit.ErrNotFound) || errors.Is(err, loginkit.ErrInvalid):
		a.renderPasskeys(w, r, http.StatusNotFound, "No such passkey.")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.flash(w, r, "Passkey removed.")
	http.Redirect(w, r, "/account/passkeys", http.StatusSeeOther)
}

// userHasPasskeys reports whether the pending user can use a passkey as
// the second factor.
func (a *App) userHasPasskeys(r *http.Request, u *User) bool {
	if a.stores.Passkeys == nil {
		return false
	}
	list, err := a.stores.Passkeys.ListPasskeys(r.Context(), u.ID)
	return err == nil && len(list) > 0
}
