package loginkit

import (
	"net/http"
	"time"

	"github.com/loginkit/loginkit/internal/hotpath"
)

// cookieConfig holds the resolved cookie settings.
type cookieConfig struct {
	session, remember string
	domain, path      string
	secure            bool
	sameSite          http.SameSite
}

func newCookieConfig(o CookieOptions) cookieConfig {
	c := cookieConfig{
		domain:   o.Domain,
		path:     o.Path,
		secure:   !o.Insecure,
		sameSite: o.SameSite,
	}
	if c.path == "" {
		c.path = "/"
	}
	if c.sameSite == 0 || c.sameSite == http.SameSiteDefaultMode {
		c.sameSite = http.SameSiteLaxMode
	}
	// The __Host- prefix pins a cookie to this exact host, over HTTPS, for
	// the whole site; browsers accept it only with exactly these attributes.
	prefix := ""
	if c.secure && c.domain == "" && c.path == "/" {
		prefix = "__Host-"
	}
	c.session = o.SessionName
	if c.session == "" {
		c.session = prefix + defaultSessionCookie
	}
	c.remember = o.RememberName
	if c.remember == "" {
		c.remember = prefix + defaultRememberCookie
	}
	return c
}

func (c *cookieConfig) make(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     c.path,
		Domain:   c.domain,
		MaxAge:   maxAge,
		Secure:   c.secure,
		HttpOnly: true,
		SameSite: c.sameSite,
	}
}

// setSession sets the session cookie: a browser-session cookie (no expiry),
// so closing the browser ends it and only the remember cookie survives.
func (c *cookieConfig) setSession(w http.ResponseWriter, value string) {
	http.SetCookie(w, c.make(c.session, value, 0))
}

func (c *cookieConfig) setRemember(w http.ResponseWriter, value string, d time.Duration) {
	// Round up: a Max-Age of 0 would make it a browser-session cookie.
	http.SetCookie(w, c.make(c.remember, value, int((d+time.Second-1)/time.Second)))
}

// clear deletes a cookie. It repeats the attributes the cookie was set
// with (Secure, SameSite, Domain, Path): browsers ignore a deletion whose
// attributes do not match.
func (c *cookieConfig) clear(w http.ResponseWriter, name string) {
	ck := c.make(name, "", -1)
	ck.Expires = time.Unix(0, 0)
	http.SetCookie(w, ck)
}

// cookieValue returns the value of the named cookie, or "" when the request
// has none; bad reports a value to clear (see hotpath.CookieValue, which
// replaces http.Request.Cookie on the hot path).
func cookieValue(r *http.Request, name string) (value string, bad bool) {
	return hotpath.CookieValue(r.Header, name, MaxCookieBytes)
}
