package loginkit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/loginkit/loginkit/internal/seam"
)

// The feature packages (loginkit/recovery) are built on a Manager's
// stores, clock and revocation. Those are reached through package
// internal/seam, so that they stay out of this package's API.
func init() {
	seam.Internals = func(m any) any {
		if in, ok := m.(interface{ internals() any }); ok {
			return in.internals()
		}
		return nil
	}
}

func (m *Manager[U]) internals() any {
	if m == nil {
		return nil
	}
	return internals[U]{m}
}

// internals are what the feature packages use of a Manager. Each method
// keeps the contract of the unexported method it calls.
type internals[U User] struct{ m *Manager[U] }

// NeedsAccounts reports, matching ErrConfig, what the manager lacks for
// password operations on accounts: a user store, a token store, a
// hasher and a user type embedding Account.
func (in internals[U]) NeedsAccounts() error {
	m := in.m
	if m.users == nil || m.tokens == nil || m.hasher == nil {
		return fmt.Errorf("%w: the manager needs a user store, a token store and a hasher", ErrConfig)
	}
	var zero U
	if _, ok := any(zero).(AccountUser); !ok {
		return fmt.Errorf("%w: the user type %T does not embed loginkit.Account", ErrConfig, zero)
	}
	return nil
}

func (in internals[U]) Now() time.Time                  { return in.m.now() }
func (in internals[U]) ClientIP(r *http.Request) string { return in.m.clientIP(r) }
func (in internals[U]) Logger() *slog.Logger            { return in.m.logger }
func (in internals[U]) Users() UserStore[U]             { return in.m.users }
func (in internals[U]) Tokens() TokenStore              { return in.m.tokens }
func (in internals[U]) IsNil(u U) bool                  { return isNil(u) }
func (in internals[U]) RevokeUser(ctx context.Context, id string) error {
	return in.m.revokeUser(ctx, id, "")
}

// Account is u's Account, nil for a nil user or one without Account.
func (in internals[U]) Account(u U) *Account {
	if isNil(u) {
		return nil
	}
	return accountOf(u)
}

// HashPassword checks and hashes a new password with the manager's
// hasher.
func (in internals[U]) HashPassword(ctx context.Context, password string) (string, error) {
	return in.m.hashNew(ctx, password)
}

// UpdateAccount applies change to the stored account of user id (see
// updateUser).
func (in internals[U]) UpdateAccount(ctx context.Context, id string, change func(a *Account) error) (U, error) {
	return in.m.updateUser(ctx, id, change)
}

// BumpAccount is UpdateAccount that also increments the session version
// (see bumpVersionID).
func (in internals[U]) BumpAccount(ctx context.Context, id string, change func(a *Account) error) (U, error) {
	return in.m.bumpVersionID(ctx, id, change)
}

// ForgetRequest ends the request's login without store reads: it clears
// the session and remember cookies (deleting the records they name) and
// treats the rest of the request as anonymous.
func (in internals[U]) ForgetRequest(w http.ResponseWriter, r *http.Request) {
	m := in.m
	_ = m.revokeRequestSession(w, r)
	m.revokeRememberCookie(w, r, true)
	if c := m.reqOf(r); c != nil {
		c.mu.Lock()
		c.varyOnCookie()
		c.st = state[U]{}
		c.loaded.Store(true)
		c.mu.Unlock()
	}
}

// NeedsSecondFactors reports, matching ErrConfig, a manager built
// without Builder.SecondFactor.
func (in internals[U]) NeedsSecondFactors() error { return in.m.factorsOn() }

// The second-factor operations of package twofactor; each keeps the
// contract documented there.

func (in internals[U]) BeginTOTP(w http.ResponseWriter, r *http.Request) (secret, url string, qr []byte, err error) {
	e, err := in.m.beginTOTP(w, r)
	if err != nil {
		return "", "", nil, err
	}
	return e.Secret, e.URL, e.QRCode, nil
}

func (in internals[U]) ConfirmTOTP(w http.ResponseWriter, r *http.Request, code string) ([]string, error) {
	return in.m.confirmTOTP(w, r, code)
}

func (in internals[U]) VerifyTOTP(w http.ResponseWriter, r *http.Request, code string) error {
	return in.m.verifyTOTP(w, r, code)
}

func (in internals[U]) UseRecoveryCode(w http.ResponseWriter, r *http.Request, code string) error {
	return in.m.useRecoveryCode(w, r, code)
}

func (in internals[U]) RegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) ([]string, error) {
	return in.m.regenerateRecoveryCodes(w, r)
}

func (in internals[U]) DisableSecondFactor(w http.ResponseWriter, r *http.Request) error {
	return in.m.disableSecondFactor(w, r)
}

func (in internals[U]) SecondFactorStatus(ctx context.Context, u U) (totp bool, enabledAt time.Time, codesLeft int, err error) {
	st, err := in.m.secondFactorStatus(ctx, u)
	return st.TOTP, st.TOTPEnabledAt, st.RecoveryCodesLeft, err
}

// NeedsPasskeys reports, matching ErrConfig, a manager built without
// Builder.Passkeys.
func (in internals[U]) NeedsPasskeys() error { return in.m.passkeysOn() }

// The passkey operations of package passkey; each keeps the contract
// documented there.

func (in internals[U]) BeginPasskeyRegistration(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	return in.m.beginPasskeyRegistration(w, r)
}

func (in internals[U]) FinishPasskeyRegistration(w http.ResponseWriter, r *http.Request, name string) (*Passkey, error) {
	return in.m.finishPasskeyRegistration(w, r, name)
}

func (in internals[U]) BeginPasskeyLogin(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	return in.m.beginPasskeyLogin(w, r)
}

func (in internals[U]) FinishPasskeyLogin(w http.ResponseWriter, r *http.Request, opts LoginOptions) (U, error) {
	return in.m.finishPasskeyLogin(w, r, opts)
}

func (in internals[U]) BeginPasskeySecondFactor(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	return in.m.beginPasskeySecondFactor(w, r)
}

func (in internals[U]) VerifyPasskey(w http.ResponseWriter, r *http.Request) error {
	return in.m.verifyPasskey(w, r)
}

func (in internals[U]) ListPasskeys(r *http.Request) ([]*Passkey, error) {
	return in.m.listPasskeys(r)
}

func (in internals[U]) RenamePasskey(w http.ResponseWriter, r *http.Request, credentialID []byte, name string) error {
	return in.m.renamePasskey(w, r, credentialID, name)
}

func (in internals[U]) DeletePasskey(w http.ResponseWriter, r *http.Request, credentialID []byte) error {
	return in.m.deletePasskey(w, r, credentialID)
}

func (in internals[U]) PendingUser(r *http.Request) (U, bool) { return in.m.pendingUserOK(r) }

func (in internals[U]) CompleteSecondFactor(w http.ResponseWriter, r *http.Request, kind FactorKind) error {
	return in.m.completeSecondFactor(w, r, kind)
}
