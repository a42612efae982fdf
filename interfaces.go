package loginkit

import (
	"context"
	"net/http"
	"time"
)

// User is the contract an application's user model satisfies: Flask-Login's
// UserMixin in Go. The middleware needs nothing more than this.
type User interface {
	// UserID returns the user's stable, non-empty identifier. It is stored
	// in sessions and tokens and passed back to UserLoader.LoadUser.
	UserID() string
	// IsActive reports whether the account may log in. An inactive user is
	// refused at login (unless forced) and its existing sessions stop
	// working on their next request.
	IsActive() bool
}

// AccountUser is a User that embeds an Account, giving the library the
// fields it needs for password logins, lockout and session versions.
// Every type that embeds Account (by value) satisfies it through a pointer:
//
//	type Staff struct {
//		loginkit.Account
//		IsAdmin bool
//	}
//	var _ loginkit.AccountUser = (*Staff)(nil)
type AccountUser interface {
	User
	// LoginAccount returns a pointer to the embedded Account, never nil.
	LoginAccount() *Account
}

// UserLoader loads a user by ID: all the middleware needs, and the Go
// counterpart of Flask-Login's user_loader. LoadUser returns an error
// matching ErrNotFound when there is no such user.
type UserLoader[U User] interface {
	LoadUser(ctx context.Context, id string) (U, error)
}

// LoaderFunc adapts a plain function to UserLoader, so an application can
// plug in with one function.
type LoaderFunc[U User] func(ctx context.Context, id string) (U, error)

// LoadUser calls f.
func (f LoaderFunc[U]) LoadUser(ctx context.Context, id string) (U, error) { return f(ctx, id) }

// ListOptions selects a page of users. Users are ordered by CreatedAt, then
// by ID, both ascending.
type ListOptions struct {
	// Offset is the number of users to skip.
	Offset int
	// Limit is the maximum number of users to return; 0 means a default
	// of 50, and stores may cap it at 1000.
	Limit int
}

// UserStore stores users of the application's own type U (typically a
// pointer to a struct embedding Account). The whole struct is persisted,
// the application's own fields included.
//
// Email and Username are unique when non-empty, compared after
// NormalizeLogin: "Ann@Example.com " and "ann@example.com" are the same.
// Create or Update that would break this returns an error matching
// ErrDuplicate and changes nothing. A username that is not ValidUsername
// (one containing '@' once normalised) or an email that is not ValidEmail
// (a non-empty one without '@') is ErrInvalid and changes nothing.
// A missing user is ErrNotFound.
// Returned values are never shared with the store: a caller may modify
// them freely.
type UserStore[U User] interface {
	UserLoader[U]
	// FindByLogin returns the user whose normalised email or username
	// equals NormalizeLogin(login); email matches are preferred.
	FindByLogin(ctx context.Context, login string) (U, error)
	// Create stores a new user. An empty ID is replaced by NewID() and
	// written back into u. A user with the same ID already stored is
	// ErrDuplicate.
	Create(ctx context.Context, u U) error
	// Update replaces every field of the stored user with u's.
	Update(ctx context.Context, u U) error
	// Delete removes the user. Deleting a missing user is not an error.
	Delete(ctx context.Context, id string) error
	// List returns one page of users and the total number of users.
	List(ctx context.Context, opts ListOptions) (users []U, total int, err error)
}

// UserUpdater is implemented by user stores that can change one stored
// user atomically. The manager uses it for every write it makes on its own
// (recording a login, upgrading a password hash, bumping the session
// version on a password change or "log out everywhere"), so that a login
// in flight cannot write back a stale copy over a concurrent password
// change, account disable or revocation, and so that a lockout policy
// bounds password checks however many logins race: each check is reserved
// in the stored account, atomically, before it is made. Every store in this module
// implements it. With a store that does not, the manager reloads the user
// just before writing, which narrows the race but cannot close it.
type UserUpdater[U User] interface {
	// UpdateUser loads the user with the given ID, calls change on that
	// copy and stores the result, with no other write to the user in
	// between (a transaction, a lock, or compare-and-swap with retry:
	// change may be called more than once and must depend only on its
	// argument). When change returns an error, nothing is stored and
	// UpdateUser returns that error. A missing user is ErrNotFound; the
	// stored result obeys Update's rules (ErrDuplicate, ErrInvalid). A
	// change that alters the user's ID is ErrInvalid: the user cannot be
	// moved to another ID, nor reset to its own, and nothing is written.
	// Whenever UpdateUser returns an error, nothing is stored, on any
	// field. It returns a copy of the user as stored.
	UpdateUser(ctx context.Context, id string, change func(u U) error) (U, error)
}

// ConfigChecker is implemented by stores whose constructor takes options
// that can be wrong (a key prefix the storage cannot use). CheckConfig
// returns nil, or an error matching ErrConfig that names the bad option;
// a store whose check fails answers every other call with that error too.
// Builder.Build calls it on each store it is given and reports its error,
// so a bad option stops the application at start-up. The adapters in this
// module implement it.
type ConfigChecker interface {
	CheckConfig() error
}

// Session is a server-side login session. Stores persist every field and
// key it by Key, a lookup key derived from the session token; the token
// itself is never stored. All times are UTC; stores keep at least
// millisecond precision.
type Session struct {
	// Key identifies the session in its store (a hash of the cookie token).
	Key string
	// UserID is the logged-in user's ID, or empty for an anonymous
	// session that only carries Values (see Manager.SetValue); stores keep
	// both alike (conformance case AnonymousSession).
	UserID string
	// CreatedAt is when the session was created.
	CreatedAt time.Time
	// AuthenticatedAt is when the user last proved who they are (password
	// login or re-authentication); freshness is measured from it.
	AuthenticatedAt time.Time
	// LastSeenAt is when the session was last used, updated at most once
	// per throttle interval.
	LastSeenAt time.Time
	// ExpiresAt is the instant from which the store must treat the session
	// as gone. The manager slides it with the idle timeout, never past
	// AbsoluteExpiresAt.
	ExpiresAt time.Time
	// AbsoluteExpiresAt is the session's hard end, fixed when it is created.
	AbsoluteExpiresAt time.Time
	// Fresh reports a session created by a password login or confirmed by
	// re-authentication, as opposed to one restored from a remember cookie.
	Fresh bool
	// Remembered reports a session restored from a remember-me cookie.
	Remembered bool
	// Version is the user's session version when the session was created.
	Version int64
	// Fingerprint identifies the client (a hash of IP and User-Agent) for
	// session protection.
	Fingerprint string
	// IP and UserAgent describe the client, for an "active sessions" page.
	IP        string
	UserAgent string
	// Values holds a small number of application values.
	Values map[string]string
}

// Clone returns a deep copy of s.
func (s *Session) Clone() *Session {
	if s == nil {
		return nil
	}
	c := *s
	if s.Values != nil {
		c.Values = make(map[string]string, len(s.Values))
		for k, v := range s.Values {
			c.Values[k] = v
		}
	}
	return &c
}

// SessionStore keeps server-side sessions. Every method honours ctx.
// Returned sessions are copies the caller may modify.
type SessionStore interface {
	// Save creates the session stored under s.Key or replaces every field
	// of it. An empty Key is ErrInvalid.
	Save(ctx context.Context, s *Session) error
	// Get returns the session stored under key; a missing session, or one
	// whose ExpiresAt is not after now, is ErrNotFound.
	Get(ctx context.Context, key string) (*Session, error)
	// Delete removes one session. Deleting a missing session is not an
	// error.
	Delete(ctx context.Context, key string) error
	// ListByUser returns the user's unexpired sessions, newest CreatedAt
	// first.
	ListByUser(ctx context.Context, userID string) ([]*Session, error)
	// DeleteByUser removes all of the user's sessions except the one whose
	// key is exceptKey (none when exceptKey is empty) and reports how many
	// it removed. Other users' sessions are untouched.
	DeleteByUser(ctx context.Context, userID, exceptKey string) (int, error)
	// DeleteExpired removes expired sessions and reports how many. Stores
	// with native expiry may do nothing and return 0.
	DeleteExpired(ctx context.Context) (int, error)
}

// SessionToucher is implemented by session stores that can update a
// session only if it still exists. The manager uses it for its throttled
// "last seen" refresh, so that a request still in flight when a Logout
// (or a revocation) deletes the session cannot write the session back:
// with Save alone, which creates or replaces, it could. Every adapter in
// this module implements it; a store without it gets Save.
type SessionToucher interface {
	// Touch replaces the stored session s.Key with s if, and only if, a
	// session with that key exists and has not expired; otherwise it
	// stores nothing and returns ErrNotFound.
	Touch(ctx context.Context, s *Session) error
}

// ClockSetter is implemented by stores that decide expiry with a clock
// the application may replace (memstore, cookiestore), so that a test
// clock set with Builder.Clock reaches them: Build calls SetClock on every
// store given to the builder that implements it. Stores whose server
// decides expiry (Redis, SQL, MongoDB) keep real time.
type ClockSetter interface {
	// SetClock makes the store read the time from now. It is called
	// before the store is in use; it need not be safe to call
	// concurrently with the store's other methods.
	SetClock(now func() time.Time)
}

// SessionSealer is implemented by stateless session stores, whose sessions
// travel in the cookie itself instead of being stored on the server (see
// sessionstores/cookiestore). When the manager's session store implements
// it, the manager seals the session into the cookie value and opens it
// again on the next request; the SessionStore methods are then not used
// for the current session.
type SessionSealer interface {
	// Seal encodes, encrypts and authenticates s into a cookie-safe string.
	Seal(s *Session) (string, error)
	// Open reverses Seal. A value that is malformed, tampered with, sealed
	// under an unknown key or expired is ErrNotFound.
	Open(value string) (*Session, error)
}

// PurposeRemember is the purpose of remember-me tokens (Token.Purpose).
// Applications may store tokens of their own purposes beside them.
const PurposeRemember = "remember"

// purposeRememberRotated marks the record left behind when a remember
// token is rotated, used to tell a parallel request from a stolen cookie.
const purposeRememberRotated = "remember-rotated"

// Token is a single-use or rotating credential: a remember-me cookie, a
// password-reset link, an API key. Its selector is public (it travels in
// the cookie or link); only a hash of the secret validator is stored.
type Token struct {
	// Selector is the token's public, unique identifier.
	Selector string
	// ValidatorHash is a hash of the secret part; never the secret itself.
	ValidatorHash string
	// UserID is the user the token belongs to.
	UserID string
	// Purpose tells tokens of different uses apart (PurposeRemember, ...).
	Purpose string
	// Version is the user's session version when the token was issued.
	Version int64
	// CreatedAt is when the token was issued.
	CreatedAt time.Time
	// ExpiresAt is the instant from which the store must treat the token
	// as gone.
	ExpiresAt time.Time
}

// TokenStore keeps tokens by selector. Every method honours ctx; returned
// tokens are copies.
type TokenStore interface {
	// Create stores a new token. A token with the same selector already
	// stored (and not expired) is ErrDuplicate. An empty selector is
	// ErrInvalid.
	Create(ctx context.Context, t *Token) error
	// Get returns the token without consuming it; missing or expired is
	// ErrNotFound.
	Get(ctx context.Context, selector string) (*Token, error)
	// Consume atomically returns and deletes the token: among any number
	// of concurrent callers at most one gets it, the others get
	// ErrNotFound. An expired token is ErrNotFound.
	Consume(ctx context.Context, selector string) (*Token, error)
	// Delete removes one token. Deleting a missing token is not an error.
	Delete(ctx context.Context, selector string) error
	// ListByUser returns the user's unexpired tokens of the given purpose
	// (all purposes when purpose is empty), newest CreatedAt first.
	ListByUser(ctx context.Context, userID, purpose string) ([]*Token, error)
	// DeleteByUser removes the user's tokens of the given purpose (all
	// purposes when purpose is empty) and reports how many.
	DeleteByUser(ctx context.Context, userID, purpose string) (int, error)
	// DeleteExpired removes expired tokens and reports how many. Stores
	// with native expiry may do nothing and return 0.
	DeleteExpired(ctx context.Context) (int, error)
}

// Hasher hashes and verifies passwords. Implementations bound the number
// of concurrent hash computations and wait for a slot while ctx allows.
type Hasher interface {
	// Hash returns a self-describing encoded hash of password.
	Hash(ctx context.Context, password string) (string, error)
	// Verify checks password against encoded. It returns nil when they
	// match, an error matching ErrMismatch when they do not, and another
	// error (ErrUnknownHashFormat, ErrUnsafeHashParams, a context error)
	// when it cannot tell. rehash reports a match whose hash is not in
	// the hasher's preferred scheme and cost, and should be replaced by
	// Hash(password).
	Verify(ctx context.Context, password, encoded string) (rehash bool, err error)
}

// Stage tells a Policy when it is consulted.
type Stage int

const (
	// StageLogin: before a login completes (Authenticate or Login).
	StageLogin Stage = iota + 1
	// StageRequest: on every request that a guard carrying the policy
	// protects.
	StageRequest
)

// String returns "login" or "request".
func (s Stage) String() string {
	switch s {
	case StageLogin:
		return "login"
	case StageRequest:
		return "request"
	}
	return "unknown"
}

// Check is what a Policy inspects.
type Check struct {
	// Stage says when the policy is consulted.
	Stage Stage
	// User is the user logging in or making the request; never nil.
	User User
	// Account is the user's embedded Account, or nil when the user type
	// embeds none.
	Account *Account
	// Session is the current session; nil at StageLogin and for users
	// authenticated by a request loader.
	Session *Session
	// Request is the HTTP request; nil when the check runs outside one
	// (Manager.Authenticate called with a bare context).
	Request *http.Request
	// Now is the manager's clock reading for this check.
	Now time.Time
}

// Policy decides whether a login or a request may go on. It returns nil to
// allow, or an error matching one of ErrInactive, ErrLocked,
// ErrUnauthorized (refused as if anonymous), ErrNeedsRefresh (re-login
// needed) or ErrForbidden (403). Any other error is treated as
// ErrForbidden: policies fail closed.
type Policy interface {
	Check(ctx context.Context, c *Check) error
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(ctx context.Context, c *Check) error

// Check calls f.
func (f PolicyFunc) Check(ctx context.Context, c *Check) error { return f(ctx, c) }

// LoginRecorder is implemented by policies that keep state about login
// attempts in the Account (see policies.Lockout). After each password
// check, the manager calls RecordLogin on every such policy and saves the
// account if it changed.
type LoginRecorder interface {
	// RecordLogin updates a after a login attempt; ok reports whether the
	// password matched. It reports whether it changed a.
	RecordLogin(a *Account, ok bool, now time.Time) (changed bool)
}
