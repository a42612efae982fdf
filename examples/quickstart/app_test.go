package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestHomeGreetsByName(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()

	res := c.get("/")
	wantStatus(t, "anonymous home", res, http.StatusOK)
	wantBody(t, "anonymous home", res, `href="/login"`, `href="/register"`)

	c.mustLogin("ann", "correct horse", false)
	res = c.get("/")
	wantStatus(t, "home", res, http.StatusOK)
	wantBody(t, "home", res, "Hello, ann!")
	if strings.Contains(res.Body, `href="/register"`) {
		t.Fatal("the logged-in home page still offers to register")
	}
	if res := c.get("/static/style.css"); res.Status != http.StatusOK || !strings.Contains(res.Body, "body") {
		t.Fatalf("style sheet: %d", res.Status)
	}
	if res := c.get("/no-such-page"); res.Status != http.StatusNotFound {
		t.Fatalf("unknown page: %d", res.Status)
	}
}

func TestRegisterRefusesBadInputAndCreatesNothing(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("Ann", "Ann@Example.com", "correct horse", false)
	valid := url.Values{"username": {"bob"}, "email": {"bob@example.com"}, "password": {"battery staple"}, "confirm": {"battery staple"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range valid {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"duplicate username", with("username", "ANN"), "username", "That username is taken."},
		{"duplicate email", with("email", "ann@EXAMPLE.com"), "email", "An account with that email already exists."},
		{"invalid email", with("email", "bob@"), "email", "Enter a valid email address."},
		{"email with a display name", with("email", "Bob <bob@example.com>"), "email", "Enter a valid email address."},
		{"passwords differ", with("confirm", "battery stapler"), "confirm", "The passwords do not match."},
		{"short password", func() url.Values { f := with("password", "1234567"); f.Set("confirm", "1234567"); return f }(), "password", "Use at least 8 characters."},
		{"username with @", with("username", "bob@home"), "username", "A username cannot contain '@' or spaces."},
		// The stores refuse these with ErrInvalid: '＠' and '﹫' become '@'
		// once normalised.
		{"username with a full-width @", with("username", "bob＠home"), "username", `A username cannot contain '@' or a character that stands for it (here "＠").`},
		{"username with a small @", with("username", "bob﹫home"), "username", `A username cannot contain '@' or a character that stands for it (here "﹫").`},
		{"email with a full-width @", with("email", "bob＠example.com"), "email", "Enter a valid email address."},
		{"empty username", with("username", " "), "username", "Choose a username."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ta.client()
			res := c.post("/register", tc.form)
			wantStatus(t, "register", res, http.StatusUnprocessableEntity)
			// The message sits next to its field.
			wantBody(t, "register", res, fmt.Sprintf(`<p class="error" id="err-%s">%s</p>`, tc.field, htmlEscape(tc.msg)))
			if got := ta.userCount(); got != 1 {
				t.Fatalf("%d users after a refused registration, want 1", got)
			}
			if c.cookie("session") != "" {
				t.Fatal("a refused registration set a session cookie")
			}
			// The form keeps what was typed, except the passwords.
			if !strings.Contains(res.Body, `value="`+htmlEscape(strings.TrimSpace(tc.form.Get("email")))+`"`) {
				t.Fatalf("the form lost the email: %s", res.Body)
			}
			if strings.Contains(res.Body, tc.form.Get("password")) {
				t.Fatal("the page echoes the password")
			}
		})
	}
}

func TestRegisterLogsInAndRedirectsToAccount(t *testing.T) {
	ta := newTestApp(t)
	c := ta.client()
	wantStatus(t, "register form", c.get("/register"), http.StatusOK)
	res := c.post("/register", url.Values{"username": {"Bob"}, "email": {"bob@example.com"}, "password": {"battery staple"}, "confirm": {"battery staple"}})
	wantRedirect(t, "register", res, "/account")
	res = c.get("/account")
	wantStatus(t, "account", res, http.StatusOK)
	wantBody(t, "account", res, `<dd id="username">Bob</dd>`, `<dd id="email">bob@example.com</dd>`)
	if u := ta.user("bob"); u.IsAdmin || u.Disabled || u.PasswordHash == "" || strings.Contains(u.PasswordHash, "battery") {
		t.Fatalf("stored user: %+v", u)
	}
}

func TestLoginFailureIs401WithOneMessage(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	wrongPassword := c.login("ann", "wrong horse", false)
	unknownUser := c.login("nobody", "correct horse", false)
	for _, res := range []response{wrongPassword, unknownUser} {
		wantStatus(t, "failed login", res, http.StatusUnauthorized)
		wantBody(t, "failed login", res, `<p class="error" id="login-error">Invalid username or password.</p>`, `name="login"`,
			`<p class="note" id="login-note">After 5 wrong passwords in a row, an account stops accepting logins for 15 minutes`)
	}
	if strings.ReplaceAll(wrongPassword.Body, "ann", "nobody") != unknownUser.Body {
		t.Fatal("the page for a wrong password differs from the page for an unknown user")
	}
	if c.cookie("session") != "" {
		t.Fatal("a failed login set a session cookie")
	}
	// Email, in any case, works as the login name.
	c.mustLogin("ANN@example.com", "correct horse", false)
}

func TestLoginFollowsOnlySafeNext(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)

	// An anonymous visit to a protected page is sent to the login page
	// with the page in next, and the form carries it.
	c := ta.client()
	res := c.get("/account/password?x=1")
	wantRedirect(t, "anonymous protected page", res, "/login?next=%2Faccount%2Fpassword%3Fx%3D1")
	res = c.get(res.Location)
	wantStatus(t, "login form", res, http.StatusOK)
	wantBody(t, "login form", res, `<input type="hidden" name="next" value="/account/password?x=1">`)
	res = c.post("/login", url.Values{"login": {"ann"}, "password": {"correct horse"}, "next": {"/account/password?x=1"}})
	wantRedirect(t, "login with next", res, "/account/password?x=1")

	for _, hostile := range []string{
		"https://evil.example/", "//evil.example/", `/\evil.example`, "/%2F%2Fevil.example",
		"javascript:alert(1)", " /account", "http:/evil.example", "/%5Cevil.example",
	} {
		c := ta.client()
		if res := c.get("/login?next=" + url.QueryEscape(hostile)); strings.Contains(res.Body, "evil") || strings.Contains(res.Body, "javascript") {
			t.Errorf("the login form carries the hostile next %q", hostile)
		}
		res := c.post("/login", url.Values{"login": {"ann"}, "password": {"correct horse"}, "next": {hostile}})
		if res.Status != http.StatusSeeOther || res.Location != "/account" {
			t.Errorf("next=%q: %d to %q, want 303 to /account", hostile, res.Status, res.Location)
		}
	}
}

func TestLoggedInLoginPageRedirectsToAccount(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	c.mustLogin("ann", "correct horse", false)
	wantRedirect(t, "GET /login when logged in", c.get("/login"), "/account")
	wantRedirect(t, "GET /login?next=... when logged in", c.get("/login?next=%2F"), "/account")
}

func TestLogout(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	c.mustLogin("ann", "correct horse", true)
	if c.cookie("session") == "" || c.cookie("remember") == "" {
		t.Fatal("login with remember me did not set both cookies")
	}
	loggedIn := c.cookie("session")
	wantRedirect(t, "logout", c.post("/logout", nil), "/")
	if c.cookie("session") == loggedIn || c.cookie("remember") != "" {
		t.Fatal("logout left the login's cookies behind")
	}
	// The session cookie now names an anonymous session holding the
	// one-time message, shown once.
	wantBody(t, "home after logout", c.get("/"), `<p class="flash">You have been logged out.</p>`)
	if body := c.get("/").Body; strings.Contains(body, "logged out") {
		t.Fatal("the logout message was shown twice")
	}
	wantRedirect(t, "account after logout", c.get("/account"), "/login?next=%2Faccount")
	sessions, err := ta.stores.Sessions.ListByUser(t.Context(), ta.user("ann").ID)
	if err != nil || len(sessions) != 0 {
		t.Fatalf("sessions after logout: %d, %v", len(sessions), err)
	}
	// A cross-site form post is refused (CSRF protection).
	c.mustLogin("ann", "correct horse", false)
	req, _ := http.NewRequest("POST", c.url("/logout"), nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-site logout", c.do(req), http.StatusForbidden)
	if c.loggedInAs() != "ann" {
		t.Fatal("a cross-site post logged the user out")
	}
}

var sessionRowRE = regexp.MustCompile(`(?s)<tr( class="current")?>\s*<td>([^<]*)</td><td>([^<]*)</td>`)

func TestAccountListsSessionsAndRevokesOthers(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	laptop, phone := ta.client(), ta.client()
	phone.ua = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36"
	laptop.mustLogin("ann", "correct horse", false)
	phone.mustLogin("ann", "correct horse", true)

	res := laptop.get("/account")
	wantStatus(t, "account", res, http.StatusOK)
	rows := sessionRowRE.FindAllStringSubmatch(res.Body, -1)
	if len(rows) != 2 {
		t.Fatalf("%d session rows, want 2:\n%s", len(rows), res.Body)
	}
	current := 0
	devices := map[string]bool{}
	for _, r := range rows {
		if r[1] != "" {
			current++
		}
		devices[r[2]] = true
		if r[3] != "127.0.0.1" {
			t.Errorf("session IP %q, want 127.0.0.1", r[3])
		}
	}
	if current != 1 || !devices["Chrome on Android"] {
		t.Fatalf("rows %q: want one current and a Chrome on Android device", rows)
	}
	wantBody(t, "account", res, `<strong>this device</strong>`, `action="/account/sessions/revoke"`)

	// A login restored from a remember cookie (which may be a stolen
	// copy) cannot log the other devices out: it confirms the password
	// first.
	phone.restart()
	res = phone.post("/account/sessions/revoke", nil)
	wantRedirect(t, "revoke others from a remembered login", res, "/reauth?next=%2Faccount%2Fsessions%2Frevoke")
	if who := laptop.loggedInAs(); who != "ann" {
		t.Fatalf("a remembered login logged the laptop out (laptop: %q)", who)
	}

	wantRedirect(t, "revoke others", laptop.post("/account/sessions/revoke", nil), "/account")
	if who := phone.loggedInAs(); who != "" {
		t.Fatalf("the other session is still logged in as %q", who)
	}
	phone.restart() // its remember cookie was revoked too
	if who := phone.loggedInAs(); who != "" {
		t.Fatalf("the other browser's remember cookie still logs in as %q", who)
	}
	res = laptop.get("/account")
	wantStatus(t, "account after revoke", res, http.StatusOK)
	wantBody(t, "account after revoke", res, "Your other sessions were logged out.")
	if rows := sessionRowRE.FindAllStringSubmatch(res.Body, -1); len(rows) != 1 || rows[0][1] == "" {
		t.Fatalf("after revoking: rows %q", rows)
	}
}

func TestPasswordChangeNeedsFreshLogin(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c, other := ta.client(), ta.client()
	other.mustLogin("ann", "correct horse", true)
	c.mustLogin("ann", "correct horse", true)

	// After a browser restart the login is remembered, not fresh.
	c.restart()
	if who := c.loggedInAs(); who != "ann" {
		t.Fatalf("after a restart: logged in as %q, want ann", who)
	}
	res := c.get("/account/password")
	wantRedirect(t, "password page, remembered", res, "/reauth?next=%2Faccount%2Fpassword")
	res = c.get(res.Location)
	wantStatus(t, "reauth form", res, http.StatusOK)
	wantBody(t, "reauth form", res, `<input type="hidden" name="next" value="/account/password">`)
	res = c.post("/reauth", url.Values{"password": {"wrong"}, "next": {"/account/password"}})
	wantStatus(t, "reauth with a wrong password", res, http.StatusUnauthorized)
	wantRedirect(t, "password page, still stale", c.get("/account/password"), "/reauth?next=%2Faccount%2Fpassword")
	res = c.post("/reauth", url.Values{"password": {"correct horse"}, "next": {"/account/password"}})
	wantRedirect(t, "reauth", res, "/account/password")
	wantStatus(t, "password form", c.get("/account/password"), http.StatusOK)

	for _, tc := range []struct {
		name, current, next, confirm, field string
	}{
		{"wrong current password", "nope", "new password 1", "new password 1", "current"},
		{"confirmation differs", "correct horse", "new password 1", "new password 2", "confirm"},
		{"too short", "correct horse", "short", "short", "password"},
	} {
		res := c.post("/account/password", url.Values{"current": {tc.current}, "password": {tc.next}, "confirm": {tc.confirm}})
		wantStatus(t, tc.name, res, http.StatusUnprocessableEntity)
		wantBody(t, tc.name, res, `id="err-`+tc.field+`"`)
	}
	res = c.post("/account/password", url.Values{"current": {"correct horse"}, "password": {"new password 1"}, "confirm": {"new password 1"}})
	wantRedirect(t, "change password", res, "/account")
	wantBody(t, "account after the change", c.get("/account"), `<p class="flash">Password changed. Your other sessions were logged out.</p>`)

	if who := c.loggedInAs(); who != "ann" {
		t.Fatalf("the changing session was logged out (%q)", who)
	}
	if who := other.loggedInAs(); who != "" {
		t.Fatalf("another session survived the password change as %q", who)
	}
	other.restart()
	if who := other.loggedInAs(); who != "" {
		t.Fatalf("another browser's remember cookie survived the password change as %q", who)
	}
	wantStatus(t, "old password", ta.client().login("ann", "correct horse", false), http.StatusUnauthorized)
	ta.client().mustLogin("ann", "new password 1", false)
}

// adminRowRE matches a user's row in the administration list.
var adminRowRE = regexp.MustCompile(`<td><a href="/admin/users/([0-9a-f]+)">([^<]*)</a></td><td>([^<]*)</td>\s*<td>(active|inactive)</td>`)

func TestAdminIsForbiddenToOthers(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	victim := ta.createUser("bob", "bob@example.com", "battery staple", false)
	c := ta.client()
	wantRedirect(t, "anonymous admin", c.get("/admin/users"), "/login?next=%2Fadmin%2Fusers")
	c.mustLogin("ann", "correct horse", false)
	for _, res := range []response{
		c.get("/admin/users"),
		c.get("/admin/users/" + victim.ID),
		c.post("/admin/users", url.Values{"username": {"eve"}, "email": {"eve@example.com"}, "password": {"eve password"}, "admin": {"1"}}),
		c.post("/admin/users/"+victim.ID, url.Values{"username": {"bob"}, "email": {"bob@example.com"}, "admin": {"1"}}),
		c.post("/admin/users/"+victim.ID+"/active", url.Values{"active": {"0"}}),
		c.post("/admin/users/"+victim.ID+"/delete", nil),
	} {
		wantStatus(t, "non-admin on /admin", res, http.StatusForbidden)
		wantBody(t, "non-admin on /admin", res, "You are not allowed to see this page.")
	}
	if u := ta.user("bob"); u.IsAdmin || u.Disabled || ta.userCount() != 2 {
		t.Fatalf("a non-admin changed users: %+v, %d users", u, ta.userCount())
	}
	if strings.Contains(c.get("/").Body, `href="/admin/users"`) {
		t.Fatal("the menu links a non-admin to the administration")
	}
}

func TestAdminManagesUsers(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("root", "root@example.com", "admin password", true)
	admin := ta.client()
	admin.mustLogin("root", "admin password", false)
	wantBody(t, "menu", admin.get("/"), `href="/admin/users"`)

	// Create 24 users through the form: 25 in all, two pages.
	for i := 1; i <= 24; i++ {
		res := admin.post("/admin/users", url.Values{
			"username": {fmt.Sprintf("user%02d", i)}, "email": {fmt.Sprintf("user%02d@example.com", i)},
			"password": {"initial password"},
		})
		wantRedirect(t, "create", res, "/admin/users")
	}
	wantBody(t, "created", admin.get("/admin/users"), `<p class="flash">User user24 created.</p>`)
	res := admin.post("/admin/users", url.Values{"username": {"USER01"}, "email": {"other@example.com"}, "password": {"initial password"}})
	wantStatus(t, "create a duplicate", res, http.StatusUnprocessableEntity)
	wantBody(t, "create a duplicate", res, "That username is taken.")

	res = admin.get("/admin/users")
	wantBody(t, "page 1", res, "Page 1 of 2 (25 users)", `href="/admin/users?page=2"`)
	page1 := adminRowRE.FindAllStringSubmatch(res.Body, -1)
	res = admin.get("/admin/users?page=2")
	wantBody(t, "page 2", res, "Page 2 of 2 (25 users)", `href="/admin/users?page=1"`)
	page2 := adminRowRE.FindAllStringSubmatch(res.Body, -1)
	if len(page1) != 20 || len(page2) != 5 {
		t.Fatalf("pages of %d and %d users, want 20 and 5", len(page1), len(page2))
	}
	if page1[0][2] != "root" || page1[1][2] != "user01" || page2[4][2] != "user24" {
		t.Fatalf("users out of creation order: %s, %s, ..., %s", page1[0][2], page1[1][2], page2[4][2])
	}

	// The created user can log in; edit them.
	u := ta.user("user07")
	bob := ta.client()
	bob.mustLogin("user07", "initial password", false)
	wantStatus(t, "edit form", admin.get("/admin/users/"+u.ID), http.StatusOK)
	res = admin.post("/admin/users/"+u.ID, url.Values{"username": {"bob"}, "email": {"user08@example.com"}})
	wantStatus(t, "edit to a taken email", res, http.StatusUnprocessableEntity)
	wantBody(t, "edit to a taken email", res, "That username or email belongs to another user.")
	res = admin.post("/admin/users/"+u.ID, url.Values{"username": {"bob"}, "email": {"bob@example.com"}, "admin": {"1"}})
	wantRedirect(t, "edit", res, "/admin/users")
	if got := ta.user("bob@example.com"); got.ID != u.ID || got.Username != "bob" || !got.IsAdmin {
		t.Fatalf("after the edit: %+v", got)
	}
	if who := bob.loggedInAs(); who != "bob" {
		t.Fatalf("an edit without a new password ended the user's session (%q)", who)
	}
	// A new password set by the administrator ends the user's logins.
	res = admin.post("/admin/users/"+u.ID, url.Values{"username": {"bob"}, "email": {"bob@example.com"}, "password": {"reset password"}})
	wantRedirect(t, "reset password", res, "/admin/users")
	if who := bob.loggedInAs(); who != "" {
		t.Fatalf("a password reset left the user logged in as %q", who)
	}
	bob.mustLogin("bob", "reset password", false)

	// Deactivate: the session ends and logins are refused; activate again.
	wantRedirect(t, "deactivate", admin.post("/admin/users/"+u.ID+"/active", url.Values{"active": {"0"}}), "/admin/users")
	if who := bob.loggedInAs(); who != "" {
		t.Fatalf("a deactivated user is still logged in as %q", who)
	}
	wantStatus(t, "deactivated login", bob.login("bob", "reset password", false), http.StatusUnauthorized)
	wantBody(t, "list", admin.get("/admin/users"), `<td>bob@example.com</td>
      <td>inactive</td>`)
	wantRedirect(t, "activate", admin.post("/admin/users/"+u.ID+"/active", url.Values{"active": {"1"}}), "/admin/users")
	bob.mustLogin("bob", "reset password", false)

	// Administrators cannot lock themselves out.
	root := ta.user("root")
	wantStatus(t, "self-deactivate", admin.post("/admin/users/"+root.ID+"/active", url.Values{"active": {"0"}}), http.StatusBadRequest)
	wantStatus(t, "self-delete", admin.post("/admin/users/"+root.ID+"/delete", nil), http.StatusBadRequest)

	// The own row offers no actions; others' Delete asks first.
	list := admin.get("/admin/users").Body
	if strings.Contains(list, `action="/admin/users/`+root.ID+`/active"`) || strings.Contains(list, `href="/admin/users/`+root.ID+`/delete"`) {
		t.Fatal("the administrator's own row offers deactivate or delete")
	}
	wantBody(t, "list", admin.get("/admin/users"), `<a class="button danger" href="/admin/users/`+u.ID+`/delete">Delete…</a>`)
	wantStatus(t, "self-delete form", admin.get("/admin/users/"+root.ID+"/delete"), http.StatusBadRequest)
	confirm := admin.get("/admin/users/" + u.ID + "/delete")
	wantStatus(t, "delete confirmation", confirm, http.StatusOK)
	wantBody(t, "delete confirmation", confirm, "<h1>Delete bob?</h1>", `<form method="post" action="/admin/users/`+u.ID+`/delete">`)
	if ta.user("bob") == nil {
		t.Fatal("asking for the confirmation deleted the user")
	}

	// Delete.
	wantRedirect(t, "delete", admin.post("/admin/users/"+u.ID+"/delete", nil), "/admin/users")
	wantBody(t, "deleted", admin.get("/admin/users"), `<p class="flash">User bob deleted.</p>`)
	if who := bob.loggedInAs(); who != "" {
		t.Fatalf("a deleted user is still logged in as %q", who)
	}
	wantStatus(t, "deleted user's page", admin.get("/admin/users/"+u.ID), http.StatusNotFound)
	wantStatus(t, "deleted user's login", bob.login("bob", "reset password", false), http.StatusUnauthorized)
	if n := ta.userCount(); n != 24 {
		t.Fatalf("%d users after a delete, want 24", n)
	}
}

func TestJSONAPI(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", true)
	c := ta.client()

	res, out := c.json("GET", "/api/me", nil)
	if res.Status != http.StatusUnauthorized || out["error"] != "unauthorized" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("anonymous /api/me: %d %v", res.Status, res.Body)
	}
	// Even a client that says it accepts HTML gets JSON, not a redirect.
	req, _ := http.NewRequest("GET", c.url("/api/me"), nil)
	req.Header.Set("Accept", "text/html,*/*")
	if res := c.do(req); res.Status != http.StatusUnauthorized || res.Location != "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("anonymous /api/me with Accept: text/html: %d %q %q", res.Status, res.Location, res.Header.Get("Content-Type"))
	}

	res, out = c.json("POST", "/api/login", map[string]any{"login": "ann", "password": "wrong"})
	if res.Status != http.StatusUnauthorized || out["message"] != "Invalid username or password" {
		t.Fatalf("bad /api/login: %d %s", res.Status, res.Body)
	}
	res, _ = c.json("POST", "/api/login", nil)
	if res.Status != http.StatusBadRequest {
		t.Fatalf("/api/login without a body: %d %s", res.Status, res.Body)
	}
	res, out = c.json("POST", "/api/login", map[string]any{"login": "ann@example.com", "password": "correct horse"})
	if res.Status != http.StatusOK || out["username"] != "ann" || out["is_admin"] != true || out["id"] != ta.user("ann").ID {
		t.Fatalf("/api/login: %d %s", res.Status, res.Body)
	}
	res, out = c.json("GET", "/api/me", nil)
	if res.Status != http.StatusOK || out["email"] != "ann@example.com" {
		t.Fatalf("/api/me: %d %s", res.Status, res.Body)
	}
	if _, ok := out["password_hash"]; ok {
		t.Fatal("/api/me exposes the password hash")
	}
	res, _ = c.json("POST", "/api/logout", nil)
	if res.Status != http.StatusNoContent || c.loggedInAs() != "" {
		t.Fatalf("/api/logout: %d, then logged in as %q", res.Status, c.loggedInAs())
	}
}

func TestRepeatedFailuresLockTheAccount(t *testing.T) {
	ta := newTestApp(t)
	ta.createUser("ann", "ann@example.com", "correct horse", false)
	c := ta.client()
	for i := range lockoutAfter {
		wantStatus(t, fmt.Sprintf("failure %d", i+1), c.login("ann", "wrong", false), http.StatusUnauthorized)
	}
	// Even the right password is refused now, with the same message.
	res := c.login("ann", "correct horse", false)
	wantStatus(t, "login while locked", res, http.StatusUnauthorized)
	wantBody(t, "login while locked", res, "Invalid username or password")
	if u := ta.user("ann"); u.LockedUntil.IsZero() {
		t.Fatal("the account was not locked")
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}
