package loginkit

import (
	"net/http"
	"strings"
	"time"
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
		c.session = prefix + DefaultSessionCookie
	}
	c.remember = o.RememberName
	if c.remember == "" {
		c.remember = prefix + DefaultRememberCookie
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
	http.SetCookie(w, c.make(c.remember, value, int(d/time.Second)))
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
// has none. A value longer than MaxCookieBytes, or one net/http cannot
// parse (bytes no cookie may hold), is reported as bad, so the caller
// clears it instead of leaving it in the browser.
func cookieValue(r *http.Request, name string) (value string, bad bool) {
	ck, err := r.Cookie(name)
	if err != nil {
		return "", unparsedCookie(r, name)
	}
	if len(ck.Value) > MaxCookieBytes {
		return "", true
	}
	return ck.Value, false
}

// unparsedCookie reports whether the request's Cookie headers carry name
// with a value net/http refused to parse. It runs only when the cookie was
// not found, so the authenticated path never pays for it.
func unparsedCookie(r *http.Request, name string) bool {
	for _, h := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(h, ";") {
			k, _, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return true
			}
		}
	}
	return false
}
