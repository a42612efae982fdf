// Package valuestest runs one HTTP scenario of session values
// (loginkit.Manager.SetValue, Value, PopValue) against a session store,
// so that every adapter's tests prove values work on it, through the
// manager, on a real server.
package valuestest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/conformance"
)

// Run checks, over HTTP, on a manager using sessions (and tokens, which
// may be nil to skip the remember-me part):
//
//   - an anonymous visitor's first SetValue starts an anonymous session
//     that keeps the value (UTF-8 included) across requests;
//   - values up to loginkit.MaxValueBytes are kept, one byte more is
//     ErrValueTooLarge and changes nothing;
//   - Login rotates the session and keeps the values; the anonymous
//     session's cookie no longer works;
//   - PopValue returns a value once;
//   - Logout drops the values, and a value set after it starts a new
//     anonymous session;
//   - a login restored from a remember cookie takes over the values of the
//     anonymous session the request carried.
func Run(t *testing.T, sessions loginkit.SessionStore, tokens loginkit.TokenStore) {
	t.Helper()
	users := memstore.NewUsers[conformance.Member]()
	b := loginkit.New[*conformance.Member]().Loader(users).Sessions(sessions)
	if tokens != nil {
		b.Tokens(tokens)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	ann := &conformance.Member{Account: loginkit.Account{Username: "ann"}}
	if err := users.Create(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		err := m.SetValue(w, r, r.FormValue("k"), r.FormValue("v"))
		switch {
		case errors.Is(err, loginkit.ErrValueTooLarge):
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /get", func(w http.ResponseWriter, r *http.Request) {
		v, ok := m.Value(r, r.FormValue("k"))
		if !ok {
			http.Error(w, "none", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(v))
	})
	mux.HandleFunc("POST /pop", func(w http.ResponseWriter, r *http.Request) {
		v, err := m.PopValue(w, r, r.FormValue("k"))
		switch {
		case errors.Is(err, loginkit.ErrNotFound):
			http.Error(w, "none", http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			_, _ = w.Write([]byte(v))
		}
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, ann, loginkit.LoginOptions{Remember: r.FormValue("remember") == "1"}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if err := m.SetValue(w, r, "flash", "You have been logged out."); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := m.CurrentUser(r); ok {
			_, _ = w.Write([]byte(u.Username))
			return
		}
		_, _ = w.Write([]byte("anonymous"))
	})
	c := &client{t: t, h: m.Middleware(mux), jar: map[string]*http.Cookie{}}

	// An anonymous visitor's values.
	c.want("POST", "/set", url.Values{"k": {"next"}, "v": {"/account?tab=1"}}, 200, "")
	anonCookie := c.session()
	if anonCookie == "" {
		t.Fatal("SetValue on an anonymous request set no session cookie")
	}
	c.want("POST", "/set", url.Values{"k": {"名前"}, "v": {"Müller ✓"}}, 200, "")
	c.want("GET", "/get", url.Values{"k": {"next"}}, 200, "/account?tab=1")
	c.want("GET", "/get", url.Values{"k": {"名前"}}, 200, "Müller ✓")
	c.want("GET", "/me", nil, 200, "anonymous")
	c.want("GET", "/get", url.Values{"k": {"loginkit.forced"}}, 404, "none\n")

	// The size limit counts every value of the session.
	used := len("next") + len("/account?tab=1") + len("名前") + len("Müller ✓")
	big := strings.Repeat("x", loginkit.MaxValueBytes-used-len("big"))
	c.want("POST", "/set", url.Values{"k": {"big"}, "v": {big}}, 200, "")
	c.want("GET", "/get", url.Values{"k": {"big"}}, 200, big)
	c.wantStatus("POST", "/set", url.Values{"k": {"one"}, "v": {"1"}}, http.StatusRequestEntityTooLarge)
	c.want("GET", "/get", url.Values{"k": {"one"}}, 404, "none\n")
	c.want("POST", "/pop", url.Values{"k": {"big"}}, 200, big)
	c.want("POST", "/pop", url.Values{"k": {"big"}}, 404, "none\n")

	// Login keeps the values and rotates the session.
	c.want("POST", "/login", nil, 200, "")
	c.wantNewSession(anonCookie, "login")
	c.want("GET", "/me", nil, 200, "ann")
	c.want("GET", "/get", url.Values{"k": {"next"}}, 200, "/account?tab=1")
	c.want("GET", "/get", url.Values{"k": {"名前"}}, 200, "Müller ✓")
	old := c.clone()
	old.jar[c.sessionName()] = &http.Cookie{Name: c.sessionName(), Value: anonCookie}
	if _, sealed := sessions.(loginkit.SessionSealer); !sealed {
		// A server-side store deleted the anonymous session at login.
		old.want("GET", "/get", url.Values{"k": {"next"}}, 404, "none\n")
	}

	// Pop, then logout drops the rest; a message set after Logout is
	// kept for the next page.
	c.want("POST", "/pop", url.Values{"k": {"next"}}, 200, "/account?tab=1")
	c.want("GET", "/get", url.Values{"k": {"next"}}, 404, "none\n")
	loggedIn := c.session()
	c.want("POST", "/logout", nil, 200, "")
	c.wantNewSession(loggedIn, "logout")
	c.want("GET", "/me", nil, 200, "anonymous")
	c.want("GET", "/get", url.Values{"k": {"名前"}}, 404, "none\n")
	c.want("POST", "/pop", url.Values{"k": {"flash"}}, 200, "You have been logged out.")
	c.want("POST", "/pop", url.Values{"k": {"flash"}}, 404, "none\n")

	if tokens == nil {
		return
	}
	// A remembered login restored on a request that carries an anonymous
	// session with values keeps them.
	c.want("POST", "/login", url.Values{"remember": {"1"}}, 200, "")
	c.forgetSession() // the browser restarts
	c.want("POST", "/set", url.Values{"k": {"note"}, "v": {"kept"}}, 200, "")
	c.want("GET", "/me", nil, 200, "ann")
	c.want("GET", "/get", url.Values{"k": {"note"}}, 200, "kept")
}

type client struct {
	t   *testing.T
	h   http.Handler
	jar map[string]*http.Cookie
}

func (c *client) clone() *client {
	d := &client{t: c.t, h: c.h, jar: map[string]*http.Cookie{}}
	for k, v := range c.jar {
		d.jar[k] = v
	}
	return d
}

func (c *client) sessionName() string {
	for k := range c.jar {
		if strings.HasSuffix(k, "session") {
			return k
		}
	}
	return "__Host-session"
}

func (c *client) session() string {
	if ck, ok := c.jar[c.sessionName()]; ok {
		return ck.Value
	}
	return ""
}

func (c *client) forgetSession() { delete(c.jar, c.sessionName()) }

// wantNewSession fails the test unless step (a login, a logout) replaced
// the session cookie before with a new one.
func (c *client) wantNewSession(before, step string) {
	c.t.Helper()
	if s := c.session(); s == "" || s == before {
		c.t.Fatalf("%s did not rotate the session cookie (%q)", step, s)
	}
}

func (c *client) do(method, path string, form url.Values) *http.Response {
	c.t.Helper()
	var r *http.Request
	if method == "GET" {
		r = httptest.NewRequest(method, path+"?"+form.Encode(), nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.jar {
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	res := rec.Result()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck
		}
	}
	return res
}

func (c *client) wantStatus(method, path string, form url.Values, status int) string {
	c.t.Helper()
	res := c.do(method, path, form)
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if res.StatusCode != status {
		c.t.Fatalf("%s %s %v: status %d (%q), want %d", method, path, form, res.StatusCode, sb.String(), status)
	}
	return sb.String()
}

func (c *client) want(method, path string, form url.Values, status int, body string) {
	c.t.Helper()
	if got := c.wantStatus(method, path, form, status); got != body {
		c.t.Fatalf("%s %s %v: body %q, want %q", method, path, form, got, body)
	}
}
