package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/loginkit/loginkit"
)

// Two-factor authentication: an authenticator app (TOTP) with recovery
// codes. The login form hands over to /login/2fa when the password was
// right for a user who has turned it on.

// loadOrCreateKey returns the second-factor key kept in the file at path
// (64 hex digits), creating the file with a new random key, readable by
// its owner only, on first use. The key encrypts the TOTP secrets in the
// database, so it lives outside it: a copy of the database alone reveals
// no secret.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != loginkit.SecondFactorKeySize {
			return nil, fmt.Errorf("%s: want %d hex-encoded bytes", path, loginkit.SecondFactorKeySize)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, loginkit.SecondFactorKeySize)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return loadOrCreateKey(path) // created meanwhile by another start
		}
		return nil, err
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// secondFactorForm shows the code form to a user whose password was right.
func (a *App) secondFactorForm(w http.ResponseWriter, r *http.Request) {
	u, ok := a.tf.PendingUser(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	next, _ := loginkit.SafeNext(r.URL.Query().Get("next"))
	a.render(w, r, http.StatusOK, "login_2fa", view{Title: "Two-factor authentication", Message: displayName(u), Next: next, PasskeyFactor: a.userHasPasskeys(r, u)})
}

// secondFactor checks a code from the app, or a recovery code.
func (a *App) secondFactor(w http.ResponseWriter, r *http.Request) {
	next, _ := loginkit.SafeNext(r.PostFormValue("next"))
	u, ok := a.tf.PendingUser(r)
	if !ok {
		a.render(w, r, http.StatusUnauthorized, "login", view{Title: "Log in", Error: "Your sign-in expired. Please log in again.", Next: next})
		return
	}
	var err error
	if code := r.PostFormValue("recovery"); code != "" {
		err = a.tf.UseRecoveryCode(w, r, code)
	} else {
		err = a.tf.VerifyTOTP(w, r, r.PostFormValue("code"))
	}
	if err != nil {
		msg, status := "That code is not valid. Try the next one from your app.", http.StatusUnauthorized
		switch {
		case errors.Is(err, loginkit.ErrLocked):
			msg, status = "Too many wrong codes. Try again later.", http.StatusTooManyRequests
		case errors.Is(err, loginkit.ErrUnauthorized):
			a.render(w, r, http.StatusUnauthorized, "login", view{Title: "Log in", Error: "Your sign-in expired. Please log in again.", Next: next})
			return
		case !errors.Is(err, loginkit.ErrInvalidCode):
			a.fail(w, r, err)
			return
		}
		a.render(w, r, status, "login_2fa", view{Title: "Two-factor authentication", Message: displayName(u), Error: msg, Next: next, PasskeyFactor: a.userHasPasskeys(r, u)})
		return
	}
	if next == "" {
		next = "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func displayName(u *User) string {
	if u.Username != "" {
		return u.Username
	}
	return u.Email
}

// enableForm starts enrolling an authenticator app: the QR code and the
// key as text.
func (a *App) enableForm(w http.ResponseWriter, r *http.Request) {
	a.renderEnable(w, r, http.StatusOK, "")
}

func (a *App) renderEnable(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	e, err := a.tf.BeginTOTP(w, r)
	if errors.Is(err, loginkit.ErrDuplicate) {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.render(w, r, status, "account_2fa", view{Title: "Turn on two-factor authentication", Message: groupKey(e.Secret), Error: errMsg})
}

// groupKey splits a base32 key into groups of four, easier to type.
func groupKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k[i:min(i+4, len(k))])
	}
	return b.String()
}

// qrCode serves the QR code of the enrolment in progress (an image
// route of its own: the Content-Security-Policy allows no data: URLs).
func (a *App) qrCode(w http.ResponseWriter, r *http.Request) {
	e, err := a.tf.BeginTOTP(w, r)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(e.QRCode)
}

// enable confirms the app with a code and shows the recovery codes once.
func (a *App) enable(w http.ResponseWriter, r *http.Request) {
	codes, err := a.tf.ConfirmTOTP(w, r, r.PostFormValue("code"))
	switch {
	case errors.Is(err, loginkit.ErrInvalidCode):
		a.renderEnable(w, r, http.StatusUnprocessableEntity, "That code is not valid. Check the time on your phone and try the next one.")
		return
	case errors.Is(err, loginkit.ErrLocked):
		a.renderEnable(w, r, http.StatusTooManyRequests, "Too many wrong codes. Try again later.")
		return
	case errors.Is(err, loginkit.ErrNotFound), errors.Is(err, loginkit.ErrDuplicate):
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "recovery_codes", view{Title: "Recovery codes", Codes: codes, Flash: "Two-factor authentication is on."})
}

// regenerate replaces the recovery codes (fresh login required).
func (a *App) regenerate(w http.ResponseWriter, r *http.Request) {
	codes, err := a.tf.RegenerateRecoveryCodes(w, r)
	if errors.Is(err, loginkit.ErrNotFound) {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "recovery_codes", view{Title: "Recovery codes", Codes: codes, Flash: "New recovery codes: the old ones no longer work."})
}

// disable turns two-factor authentication off (fresh login required).
func (a *App) disable(w http.ResponseWriter, r *http.Request) {
	if err := a.tf.Disable(w, r); err != nil {
		a.fail(w, r, err)
		return
	}
	a.flash(w, r, "Two-factor authentication is off.")
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}
