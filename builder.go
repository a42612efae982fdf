package loginkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/loginkit/loginkit/internal/hotpath"
)

// Defaults used by Build for settings left unset; the setters' doc
// comments state them.
const (
	defaultIdleTimeout      = 2 * time.Hour
	defaultAbsoluteTimeout  = 24 * time.Hour
	defaultRememberDuration = 30 * 24 * time.Hour
	defaultRememberGrace    = time.Minute
	defaultSessionCookie    = "session"
	defaultRememberCookie   = "remember"
)

const (
	// MaxCookieBytes is the longest cookie value the manager reads; longer
	// values are ignored (and cleared) without being decoded.
	MaxCookieBytes = 4096
)

// Protection is the session protection mode (Flask-Login's
// SESSION_PROTECTION). It compares a fingerprint of the client's IP address
// and User-Agent with the one recorded when the session was created.
type Protection int

const (
	// ProtectionOff does not compare fingerprints.
	ProtectionOff Protection = iota
	// ProtectionBasic marks a session whose fingerprint changed as not
	// fresh, so FreshRequired routes ask for the password again.
	ProtectionBasic
	// ProtectionStrong deletes a session whose fingerprint changed, and the
	// remember token presented with it, and treats the request as
	// anonymous.
	ProtectionStrong
)

// CookieOptions configures the session and remember-me cookies. Cookies are
// always HttpOnly.
//
// The names a configuration produces, when SessionName and RememberName
// are left empty:
//
//	Insecure  Domain  Path      session cookie    remember cookie
//	false     ""      "" or /   __Host-session    __Host-remember   (the default)
//	false     set     any       session           remember
//	false     any     not /     session           remember
//	true      any     any       session           remember
//
// Browsers accept a "__Host-" cookie only when it is Secure, has no Domain
// and has Path "/", which pins it to this exact host over HTTPS.
// Manager.CookieNames reports the names a built manager uses.
type CookieOptions struct {
	// SessionName is the session cookie's name. The default is
	// "__Host-session" when the cookie is Secure with no Domain and Path
	// "/", else "session" (see the table above).
	SessionName string
	// RememberName is the remember-me cookie's name, defaulting like
	// SessionName ("__Host-remember" or "remember"). Build refuses a
	// configuration whose two names are equal.
	RememberName string
	// Domain and Path scope both cookies. Path defaults to "/".
	Domain string
	Path   string
	// SameSite defaults to http.SameSiteLaxMode.
	SameSite http.SameSite
	// Insecure leaves the Secure attribute off, for plain-HTTP
	// development. Build refuses it unless Builder.Development is set.
	Insecure bool
}

// RememberOptions configures remember-me (Flask-Login's REMEMBER_COOKIE_*).
type RememberOptions struct {
	// Duration is how long a remember token lives; default 30 days.
	Duration time.Duration
	// RefreshEachRequest re-sets the remember cookie on every request of
	// a session that carries it, expiring when the login's remember-me
	// does (Duration or LoginOptions.RememberFor after the login): a
	// refresh restores a cookie the browser dropped early but never
	// extends remember-me.
	RefreshEachRequest bool
	// Grace is how long after a rotation the previous remember cookie is
	// still accepted (without being rotated again), so that parallel
	// requests sent with the old cookie do not log the user out; a
	// replay after it is treated as theft. Default one minute.
	Grace time.Duration
}

// Hooks are called on login events: the counterpart of Flask-Login's
// signals. Every field is optional. Hooks run synchronously on the request
// goroutine; keep them short. A hook may call CurrentUser and the other
// request accessors.
type Hooks[U User] struct {
	// LoggedIn runs after Login succeeds.
	LoggedIn func(r *http.Request, u U)
	// LoggedOut runs after Logout, with the user that was logged in (the
	// zero U when the request was anonymous).
	LoggedOut func(r *http.Request, u U)
	// LoginFailed runs when Authenticate refuses a login; err is the error
	// it returns. r is the request whose context Authenticate was given
	// (found through Middleware or a guard, so that an audit log can
	// record the client's address), or nil when Authenticate runs outside
	// one.
	LoginFailed func(ctx context.Context, r *http.Request, login string, err error)
	// Unauthorized runs before the unauthorized response is sent.
	Unauthorized func(r *http.Request)
	// NeedsRefresh runs before the needs-refresh response is sent.
	NeedsRefresh func(r *http.Request, u U)
	// RememberRestored runs when a remember cookie restores a login
	// (Flask-Login's user_loaded_from_cookie).
	RememberRestored func(r *http.Request, u U)
	// UserLoadedFromRequest runs when the request loader authenticates a
	// request (Flask-Login's user_loaded_from_request).
	UserLoadedFromRequest func(r *http.Request, u U)
	// LoginConfirmed runs after ConfirmLogin (or Reauthenticate) made the
	// session fresh again (Flask-Login's user_login_confirmed).
	LoginConfirmed func(r *http.Request, u U)
	// SessionProtected runs when session protection acts on a session
	// whose fingerprint changed.
	SessionProtected func(r *http.Request, userID string, mode Protection)
	// RememberTheft runs when a rotated remember cookie is replayed after
	// the grace window; all of the user's sessions and remember tokens
	// have been revoked.
	RememberTheft func(r *http.Request, userID string)
	// SecondFactorSucceeded runs after a correct second factor
	// (twofactor.Service.VerifyTOTP, UseRecoveryCode, ConfirmTOTP and
	// Complete, passkey.Service.VerifySecondFactor).
	SecondFactorSucceeded func(r *http.Request, u U, kind FactorKind)
	// SecondFactorFailed runs when a second-factor attempt is refused
	// (wrong or reused code, locked account); err is the error returned.
	SecondFactorFailed func(r *http.Request, userID string, kind FactorKind, err error)
	// SecondFactorEnrolled runs after a second factor is enabled.
	SecondFactorEnrolled func(r *http.Request, u U, kind FactorKind)
	// SecondFactorDisabled runs after twofactor.Service.Disable.
	SecondFactorDisabled func(r *http.Request, u U)
	// RecoveryCodeUsed runs after a recovery code was used, with the
	// number of codes left (-1 when unknown), so that the application can
	// warn the user.
	RecoveryCodeUsed func(r *http.Request, u U, left int)
	// PasskeySignCountRegressed runs when a passkey's assertion carries a
	// signature counter that is not above the stored one (and not 0):
	// the credential may have been cloned. The sign-in is refused.
	PasskeySignCountRegressed func(r *http.Request, p *Passkey, got uint32)
}

// RequestLoaderFunc authenticates a request without a session, from a
// header such as an API key, a bearer token or Basic auth (Flask-Login's
// request_loader). It returns an error matching ErrNotFound (or
// ErrUnauthorized) when the request carries no valid credentials; any
// other error is treated as a store failure. A user it returns is the
// current user for that request only: no session is created and no cookie
// is set.
type RequestLoaderFunc[U User] func(r *http.Request) (U, error)

// Builder collects a Manager's configuration. Each setter returns the
// builder; Build checks the whole configuration at once. A Builder is not
// safe for concurrent use.
type Builder[U User] struct {
	settings[U]
	cookies        CookieOptions
	idle, absolute time.Duration
	touch          time.Duration
	protectionSet  bool
	clock          func() time.Time
	development    bool
	errs           []error
}

// New starts configuring a Manager for the user type U, typically a
// pointer to the application's struct embedding Account:
//
//	m, err := loginkit.New[*User]().Users(users).Sessions(sessions).Build()
func New[U User]() *Builder[U] { return &Builder[U]{} }

// Users sets the user store, which also serves as the loader. Password
// logins (Authenticate, Register, ChangePassword) need it.
func (b *Builder[U]) Users(s UserStore[U]) *Builder[U] {
	b.users, b.loader = s, s
	return b
}

// Loader sets only a user loader, for applications that manage users
// themselves; use LoaderFunc to plug in a single function.
func (b *Builder[U]) Loader(l UserLoader[U]) *Builder[U] {
	b.loader = l
	return b
}

// Sessions sets the session store. It is required, except for an
// API-only manager: one with a RequestLoader and no session store, whose
// requests each authenticate themselves (a bearer token, an API key).
// Such a manager needs no Users or Loader, sets no cookies, and its Login
// returns ErrConfig.
func (b *Builder[U]) Sessions(s SessionStore) *Builder[U] { b.sessions = s; return b }

// Tokens sets the token store, which enables remember-me.
func (b *Builder[U]) Tokens(s TokenStore) *Builder[U] { b.tokens = s; return b }

// Hasher sets the password hasher (for example hashers.Default()).
// Required when Users is set.
func (b *Builder[U]) Hasher(h Hasher) *Builder[U] { b.hasher = h; return b }

// Policies adds policies checked at every login and by every guard.
func (b *Builder[U]) Policies(p ...Policy) *Builder[U] {
	b.policies = append(b.policies, p...)
	return b
}

// LoginURL sets where anonymous browser requests to protected routes are
// redirected, with the original path and query in the "next" parameter.
// Without it, such requests get 401.
func (b *Builder[U]) LoginURL(u string) *Builder[U] { b.loginURL = u; return b }

// NextParam sets the name of the query parameter that carries the page to
// return to after logging in (default DefaultNextParam, "next"), in the
// redirects to the login and refresh URLs and in Manager.NextOr.
func (b *Builder[U]) NextParam(name string) *Builder[U] { b.nextParam = name; return b }

// AllowedHosts names other hosts (such as "app.example" or
// "app.example:8443") that Manager.NextOr accepts in an absolute next URL:
// set it on the manager of a login app that serves other apps, whose
// LoginURL points at it. See SafeNext.
func (b *Builder[U]) AllowedHosts(hosts ...string) *Builder[U] {
	b.allowedHosts = append(b.allowedHosts, hosts...)
	return b
}

// RefreshURL sets where FreshRequired sends browser requests whose session
// is not fresh; it defaults to LoginURL.
func (b *Builder[U]) RefreshURL(u string) *Builder[U] { b.refreshURL = u; return b }

// Cookies sets cookie names and attributes.
func (b *Builder[U]) Cookies(c CookieOptions) *Builder[U] { b.cookies = c; return b }

// Remember configures remember-me; it needs a token store.
func (b *Builder[U]) Remember(o RememberOptions) *Builder[U] { b.remember = &o; return b }

// Timeouts sets the idle timeout (sliding: each request extends it) and
// the absolute lifetime of a session. Defaults: 2 hours and 24 hours.
func (b *Builder[U]) Timeouts(idle, absolute time.Duration) *Builder[U] {
	b.idle, b.absolute = idle, absolute
	return b
}

// TouchInterval sets how often a request may write the session's last-seen
// time (and slide its idle expiry): at most once per interval. Default:
// one tenth of the idle timeout, at most one minute. It must be shorter
// than the idle timeout; Build refuses it otherwise.
func (b *Builder[U]) TouchInterval(d time.Duration) *Builder[U] { b.touch = d; return b }

// FreshFor limits freshness: FreshRequired also refuses sessions whose
// AuthenticatedAt is older than d. Zero (the default) means no limit.
func (b *Builder[U]) FreshFor(d time.Duration) *Builder[U] { b.freshMaxAge = d; return b }

// SessionProtection sets the session protection mode; the default is
// ProtectionBasic, as in Flask-Login.
func (b *Builder[U]) SessionProtection(p Protection) *Builder[U] {
	b.protection, b.protectionSet = p, true
	return b
}

// TrustForwardedFor makes the client IP (for fingerprints and the sessions
// list) come from the X-Forwarded-For header when the direct peer is in one
// of the given proxy networks. By default the header is ignored and the
// host part of RemoteAddr is used.
func (b *Builder[U]) TrustForwardedFor(proxies ...netip.Prefix) *Builder[U] {
	b.trusted = append(b.trusted, proxies...)
	return b
}

// RequestLoader sets a loader for session-less clients, consulted when a
// request has no valid session or remember cookie. With a RequestLoader
// and no Sessions, the manager is API-only (see Sessions).
func (b *Builder[U]) RequestLoader(f RequestLoaderFunc[U]) *Builder[U] { b.requestLoader = f; return b }

// Hooks sets the event hooks.
func (b *Builder[U]) Hooks(h Hooks[U]) *Builder[U] { b.hooks = h; return b }

// Logger sets the logger for store failures and security events; default
// slog.Default().
func (b *Builder[U]) Logger(l *slog.Logger) *Builder[U] { b.logger = l; return b }

// Clock sets the manager's time source, for tests; the default reads the
// system clock as time.Now does.
// Build also gives it to every store passed to the builder that
// implements ClockSetter (memstore's stores and cookiestore), so that the
// manager and those stores agree on the time; stores whose server decides
// expiry (redisstore, sqlstore, mongostore) keep real time.
func (b *Builder[U]) Clock(now func() time.Time) *Builder[U] { b.clock = now; return b }

// UnauthorizedHandler replaces the response to anonymous requests on
// protected routes (Flask-Login's unauthorized_handler).
func (b *Builder[U]) UnauthorizedHandler(h http.Handler) *Builder[U] { b.unauthorized = h; return b }

// NeedsRefreshHandler replaces the response to requests whose session is
// not fresh enough (Flask-Login's needs_refresh_handler).
func (b *Builder[U]) NeedsRefreshHandler(h http.Handler) *Builder[U] { b.needsRefresh = h; return b }

// ForbiddenHandler replaces the 403 response sent when a policy refuses a
// logged-in user.
func (b *Builder[U]) ForbiddenHandler(h http.Handler) *Builder[U] { b.forbidden = h; return b }

// UnavailableHandler replaces the 503 response sent on protected routes
// when a store fails.
func (b *Builder[U]) UnavailableHandler(h http.Handler) *Builder[U] { b.unavailable = h; return b }

// Development allows settings that are only safe on a developer's
// machine, such as CookieOptions.Insecure.
func (b *Builder[U]) Development(on bool) *Builder[U] { b.development = on; return b }

// Build checks the configuration and returns the Manager. It reports every
// problem it finds, joined, each matching ErrConfig.
func (b *Builder[U]) Build() (*Manager[U], error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	// A manager with a request loader and no session store is API-only:
	// every request authenticates itself (a bearer token, an API key),
	// and there are no sessions, cookies or remember-me.
	apiOnly := b.sessions == nil && b.requestLoader != nil
	if b.loader == nil && !apiOnly {
		bad("a user store (Users) or loader (Loader) is required")
	}
	if b.sessions == nil && !apiOnly {
		bad("a session store (Sessions) is required, unless the manager authenticates only through a RequestLoader")
	}
	if apiOnly && b.remember != nil {
		bad("remember-me needs a session store (Sessions)")
	}
	if b.users != nil && b.hasher == nil {
		bad("a Hasher is required with a user store (password logins need it); use hashers.Default()")
	}
	if b.remember != nil && b.tokens == nil {
		bad("remember-me needs a token store (Tokens)")
	}
	stores := []any{b.loader, b.sessions, b.tokens}
	if b.factors != nil {
		stores = append(stores, b.factors.store)
	}
	for _, store := range stores {
		if cc, ok := store.(ConfigChecker); ok {
			if err := cc.CheckConfig(); err != nil {
				errs = append(errs, fmt.Errorf("%w: %w", ErrConfig, err))
			}
		}
	}
	if b.cookies.Insecure && !b.development {
		bad("cookies without the Secure attribute need Development(true); never turn Secure off in production")
	}
	if b.idle < 0 || b.absolute < 0 || b.touch < 0 || b.freshMaxAge < 0 {
		bad("durations must not be negative")
	}
	idle, absolute := orDefault(b.idle, defaultIdleTimeout), orDefault(b.absolute, defaultAbsoluteTimeout)
	if idle > absolute {
		bad("the idle timeout (%v) exceeds the absolute lifetime (%v)", idle, absolute)
	}
	if b.touch >= idle {
		bad("the touch interval (%v) must be shorter than the idle timeout (%v), or active sessions expire", b.touch, idle)
	}
	for _, u := range []string{b.loginURL, b.refreshURL} {
		if u != "" && !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			bad("login and refresh URLs must be absolute paths or http(s) URLs: %q", u)
		}
	}
	if b.nextParam != "" && (url.QueryEscape(b.nextParam) != b.nextParam || strings.ContainsAny(b.nextParam, "+%")) {
		bad("the next parameter name %q must be a plain query name (letters, digits, '-', '_', '.', '~')", b.nextParam)
	}
	for _, h := range b.allowedHosts {
		if h == "" || !hostChars(h) {
			bad("allowed host %q must be a host name or address with an optional port", h)
		}
	}
	if b.protection < ProtectionOff || b.protection > ProtectionStrong {
		bad("unknown session protection mode %d", b.protection)
	}
	if b.remember != nil && (b.remember.Duration < 0 || b.remember.Grace < 0) {
		bad("remember durations must not be negative")
	}
	if b.cookies.SameSite == http.SameSiteNoneMode && b.cookies.Insecure {
		bad("SameSite=None cookies must be Secure")
	}
	if b.passkeys != nil && b.tokens == nil {
		bad("passkeys need a token store (Tokens), which keeps their challenges")
	}
	if cc := newCookieConfig(b.cookies); cc.session == cc.remember {
		bad("the session and remember cookies need different names (both are %q): every request would read the session as a remember token", cc.session)
	}
	if b.factors != nil && b.tokens == nil {
		bad("second factors need a token store (Tokens), which counts wrong codes")
	}
	errs = append(errs, b.errs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	m := &Manager[U]{settings: b.settings, idle: idle, absolute: absolute, now: b.clock}
	// The manager owns its lists: a later setter call on the builder
	// (for another Build) must not change them.
	m.policies = slices.Clone(b.policies)
	m.allowedHosts = slices.Clone(b.allowedHosts)
	m.trusted = slices.Clone(b.trusted)
	if !b.protectionSet {
		m.protection = ProtectionBasic
	}
	if m.refreshURL == "" {
		m.refreshURL = m.loginURL
	}
	if m.nextParam == "" {
		m.nextParam = DefaultNextParam
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	if m.now == nil {
		m.now = hotpath.Now
	}
	m.touch = b.touch
	if m.touch == 0 {
		m.touch = min(idle/10, time.Minute)
	}
	m.sealer, _ = b.sessions.(SessionSealer)
	m.getAt = atNow[sessionGetterAt](b.sessions, "adapters/memstore", "Sessions")
	m.openAt = atNow[sessionOpenerAt](b.sessions, "sessionstores/cookiestore", "Store")
	if b.clock != nil {
		for _, s := range []any{b.users, b.loader, b.sessions, b.tokens} {
			if c, ok := s.(ClockSetter); ok {
				c.SetClock(b.clock)
			}
		}
	}
	if b.tokens != nil && b.sessions != nil {
		ro := RememberOptions{}
		if b.remember != nil {
			ro = *b.remember
		}
		ro.Duration = orDefault(ro.Duration, defaultRememberDuration)
		ro.Grace = orDefault(ro.Grace, defaultRememberGrace)
		m.remember = &ro
	}
	m.cookie = newCookieConfig(b.cookies)
	return m, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
