// Package loginkittest logs users in for tests, in the spirit of
// Flask-Login's FlaskLoginClient: one call gives a request, or an HTTP
// client with a cookie jar, that is logged in as a given user on a given
// loginkit.Manager, whatever its stores and session protection mode.
//
//	r := loginkittest.Request(t, m, ann, "GET", "/account", nil)
//	handler.ServeHTTP(rec, r) // handler = m.Middleware(mux)
//
//	srv := httptest.NewTLSServer(m.Middleware(mux))
//	c := loginkittest.Client(t, m, ann, srv, loginkittest.NotFresh())
//	res, err := c.Get(srv.URL + "/account")
//
// The login is a real one, made with Manager.Login (and, for Remembered,
// a real restore from the remember cookie): the session is stored in the
// manager's session store, with the fingerprint of the client the
// returned request or client presents, so ProtectionBasic and
// ProtectionStrong accept it.
package loginkittest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/loginkit/loginkit"
)

// Defaults for the client the login is made for.
const (
	// RemoteAddr is the address Request's requests come from (the
	// address httptest.NewRequest uses).
	RemoteAddr = "192.0.2.1:1234"
	// UserAgent is the User-Agent of Request's requests and of Client's.
	UserAgent = "loginkittest/1"
)

type options struct {
	notFresh, remember, remembered, rememberOnly, force bool
	addr, ua                                            string
}

// Option adjusts the login.
type Option func(*options)

// NotFresh makes a session that is not fresh: FreshRequired routes ask
// for the password again.
func NotFresh() Option { return func(o *options) { o.notFresh = true } }

// Remember also issues a remember-me cookie (the manager needs a token
// store).
func Remember() Option { return func(o *options) { o.remember = true } }

// Remembered gives a session restored from a remember-me cookie, as after
// a browser restart: not fresh, Identity.Remembered set, with the rotated
// remember cookie beside it.
func Remembered() Option { return func(o *options) { o.remembered = true } }

// RememberOnly gives only the remember-me cookie, as a browser holds
// after a restart: the first request restores the login.
func RememberOnly() Option { return func(o *options) { o.rememberOnly = true } }

// Force logs in an inactive user (loginkit.LoginOptions.Force).
func Force() Option { return func(o *options) { o.force = true } }

// From sets the client's address ("host:port") and User-Agent that the
// session's fingerprint records. Request's requests carry them; for Client
// the address must be the one the server sees (127.0.0.1 for httptest
// servers).
func From(remoteAddr, userAgent string) Option {
	return func(o *options) { o.addr, o.ua = remoteAddr, userAgent }
}

func newOptions(opts []Option, addr string) options {
	o := options{addr: addr, ua: UserAgent}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Cookies logs u in on m and returns the cookies a browser would then
// hold, for requests from RemoteAddr with UserAgent (or From's). It fails
// tb when the login fails.
func Cookies[U loginkit.User](tb testing.TB, m *loginkit.Manager[U], u U, opts ...Option) []*http.Cookie {
	tb.Helper()
	o := newOptions(opts, RemoteAddr)
	return login(tb, m, u, o)
}

func login[U loginkit.User](tb testing.TB, m *loginkit.Manager[U], u U, o options) []*http.Cookie {
	tb.Helper()
	jar := map[string]*http.Cookie{}
	keep := func(res *http.Response) {
		for _, c := range res.Cookies() {
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c
			}
		}
	}
	req := func(h http.HandlerFunc) {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = o.addr
		r.Header.Set("User-Agent", o.ua)
		for _, c := range jar {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		rec := httptest.NewRecorder()
		m.Middleware(h).ServeHTTP(rec, r)
		keep(rec.Result())
	}
	var err error
	req(func(w http.ResponseWriter, r *http.Request) {
		err = m.Login(w, r, u, loginkit.LoginOptions{
			Remember: o.remember || o.remembered || o.rememberOnly,
			NotFresh: o.notFresh,
			Force:    o.force,
		})
	})
	if err != nil {
		tb.Fatalf("loginkittest: Login(%s): %v", u.UserID(), err)
	}
	sessionName, _ := m.CookieNames()
	if o.remembered || o.rememberOnly {
		delete(jar, sessionName) // the browser restarts
	}
	if o.remembered {
		var ok bool
		req(func(w http.ResponseWriter, r *http.Request) { _, ok = m.CurrentUser(r) })
		if !ok {
			tb.Fatalf("loginkittest: the remember cookie did not restore %s's login", u.UserID())
		}
	}
	out := make([]*http.Cookie, 0, len(jar))
	for _, c := range jar {
		out = append(out, c)
	}
	return out
}

// Request returns a new request (as httptest.NewRequest makes it) logged
// in as u on m: it carries the cookies of a login made for its client
// address and User-Agent. Serve it through m.Middleware (or a guard).
func Request[U loginkit.User](tb testing.TB, m *loginkit.Manager[U], u U, method, target string, body io.Reader, opts ...Option) *http.Request {
	tb.Helper()
	o := newOptions(opts, RemoteAddr)
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = o.addr
	r.Header.Set("User-Agent", o.ua)
	for _, c := range login(tb, m, u, o) {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// Client returns an HTTP client for srv, with a cookie jar holding a login
// of u on m; the jar keeps the cookies later responses set, as a browser
// does. The client sends UserAgent (or From's) unless a request sets its
// own. Secure cookies (the default) travel only over HTTPS: use
// httptest.NewTLSServer, or a manager built with insecure cookies for
// httptest.NewServer.
func Client[U loginkit.User](tb testing.TB, m *loginkit.Manager[U], u U, srv *httptest.Server, opts ...Option) *http.Client {
	tb.Helper()
	o := newOptions(opts, "127.0.0.1:1")
	base, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatalf("loginkittest: server URL: %v", err)
	}
	cookies := login(tb, m, u, o)
	for _, c := range cookies {
		if c.Secure && base.Scheme != "https" {
			tb.Fatalf("loginkittest: cookie %s is Secure but the server %s is not HTTPS: use httptest.NewTLSServer", c.Name, srv.URL)
		}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	jar.SetCookies(base, cookies)
	c := *srv.Client()
	c.Jar = jar
	c.Transport = userAgent{next: c.Transport, ua: o.ua}
	return &c
}

// userAgent sets the User-Agent of requests that have none.
type userAgent struct {
	next http.RoundTripper
	ua   string
}

func (t userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", t.ua)
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
