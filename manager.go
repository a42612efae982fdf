package loginkit

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Manager is the login manager: net/http middleware that loads the current
// user, route guards, and the login, logout and password operations. Build
// one with New(...).Build(); it is safe for concurrent use.
type Manager[U User] struct {
	settings[U] // as the builder collected them, with defaults filled in

	sealer   SessionSealer
	getAt    sessionGetterAt // sessions, when it is memstore's
	openAt   sessionOpenerAt // sealer, when it is cookiestore's
	cookie   cookieConfig
	idle     time.Duration
	absolute time.Duration
	touch    time.Duration
	now      func() time.Time

	dummyOnce sync.Once
	dummyHash string
	// failures pads failed logins to the slowest scheme's time (see
	// timing.go).
	failures failureTiming
}

// settings is the configuration a Builder collects and its Manager keeps;
// what Build derives (cookie names, timeouts, the clock) is kept apart.
type settings[U User] struct {
	users         UserStore[U]
	loader        UserLoader[U]
	sessions      SessionStore
	tokens        TokenStore
	hasher        Hasher
	policies      []Policy
	loginURL      string
	refreshURL    string
	nextParam     string
	allowedHosts  []string
	remember      *RememberOptions
	freshMaxAge   time.Duration
	protection    Protection
	trusted       []netip.Prefix
	requestLoader RequestLoaderFunc[U]
	hooks         Hooks[U]
	logger        *slog.Logger
	unauthorized  http.Handler
	needsRefresh  http.Handler
	forbidden     http.Handler
	unavailable   http.Handler
	factors       *factorConfig
	passkeys      *passkeyConfig
}

// CookieNames returns the names of the session and remember-me cookies
// this manager sets (see CookieOptions for how they are chosen).
func (m *Manager[U]) CookieNames() (session, remember string) {
	return m.cookie.session, m.cookie.remember
}
