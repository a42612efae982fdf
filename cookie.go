package loginkit

import (
	"net/http"
	"net/textproto"
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
// has none. A value longer than MaxCookieBytes, or one holding bytes no
// cookie value may hold, is reported as bad, so the caller clears it
// instead of leaving it in the browser. It reads the Cookie headers
// itself, without allocating: http.Request.Cookie parses every cookie of
// the request into a new slice on each call.
func cookieValue(r *http.Request, name string) (value string, bad bool) {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || textproto.TrimString(k) != name {
				continue
			}
			if len(v) > MaxCookieBytes {
				return "", true
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			for i := 0; i < len(v); i++ {
				if b := v[i]; b <= 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' || b == ',' {
					return "", true
				}
			}
			return v, false
		}
	}
	return "", false
}
