package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFirstTimeUserMessages checks the messages a first-time user meets:
// a confirmation after registering and after logging out (one-time
// messages kept in the session), the password rule shown before any
// failure, the "remember me" tick kept after a failed login, a password
// confirmation that does not talk about usernames, a sessions table that
// stops saying "remembered" once the remember cookie is gone, and the
// app's own 404 page.
func TestFirstTimeUserMessages(t *testing.T) {
	ta := newTestApp(t)
	c := ta.client()

	// The password rule is on the form before any attempt.
	wantBody(t, "register form", c.get("/register"), `<p class="note" id="rule">At least 8 characters.</p>`)
	res := c.post("/register", url.Values{"username": {"ann"}, "email": {"ann@example.com"}, "password": {"correct horse"}, "confirm": {"correct horse"}})
	wantRedirect(t, "register", res, "/account")
	wantBody(t, "account after registering", c.get("/account"), `<p class="flash">Welcome, ann! Your account is ready.</p>`)
	if strings.Contains(c.get("/account").Body, "Welcome, ann!") {
		t.Fatal("the welcome message was shown twice")
	}

	wantRedirect(t, "logout", c.post("/logout", nil), "/")
	wantBody(t, "home after logout", c.get("/"), `<p class="flash">You have been logged out.</p>`)

	// A failed login keeps the "remember me" tick and the login name.
	res = c.login("ann", "wrong horse", true)
	wantStatus(t, "failed login", res, http.StatusUnauthorized)
	wantBody(t, "failed login", res, `name="remember" value="1" checked`, `value="ann"`)
	res = c.login("ann", "wrong horse", false)
	if strings.Contains(res.Body, `value="1" checked`) {
		t.Fatal("an unticked remember me came back ticked")
	}

	// Remembered login, browser restart: the session is remembered ...
	c.mustLogin("ann", "correct horse", true)
	c.restart()
	wantBody(t, "account after restart", c.get("/account"), "<strong>this device</strong> remembered</td>")
	// ... a wrong password on /reauth speaks of the password only ...
	res = c.post("/reauth", url.Values{"password": {"wrong horse"}, "next": {"/account/password"}})
	wantStatus(t, "wrong reauth", res, http.StatusUnauthorized)
	wantBody(t, "wrong reauth", res, `<p class="error" id="reauth-error">That is not your password.</p>`)
	if strings.Contains(res.Body, "username") {
		t.Fatal("the reauthentication page mentions a username")
	}
	wantRedirect(t, "reauth", c.post("/reauth", url.Values{"password": {"correct horse"}, "next": {"/account/password"}}), "/account/password")
	// ... and after the password change (which deletes the remember
	// cookie) the sessions table no longer says so.
	res = c.post("/account/password", url.Values{"current": {"correct horse"}, "password": {"new password 1"}, "confirm": {"new password 1"}})
	wantRedirect(t, "change password", res, "/account")
	if c.cookie("remember") != "" {
		t.Fatal("the remember cookie survived the password change")
	}
	res = c.get("/account")
	wantBody(t, "account after the change", res, "Password changed.")
	if rows := sessionRowRE.FindAllStringSubmatch(res.Body, -1); len(rows) != 1 || strings.Contains(res.Body, "remembered</td>") {
		t.Fatalf("sessions table after the change (%d rows) still says remembered:\n%s", len(rows), res.Body)
	}

	// Missing pages get the app's page, not Go's plain text.
	res = c.get("/no/such/page")
	wantStatus(t, "404", res, http.StatusNotFound)
	wantBody(t, "404", res, "<h1>Page not found</h1>", `<link rel="stylesheet" href="/static/style.css">`)
}

// TestReauthLockedSaysWait: a logged-in user locked out by wrong
// passwords on /reauth is told to wait (naming the lockout reveals
// nothing to someone already logged in).
func TestReauthLockedSaysWait(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	c.mustLogin("ann", "correct horse", false)
	var res response
	for range lockoutAfter + 1 {
		res = c.post("/reauth", url.Values{"password": {"wrong horse"}})
	}
	wantStatus(t, "locked reauth", res, http.StatusTooManyRequests)
	wantBody(t, "locked reauth", res, "Try again later.")
}
