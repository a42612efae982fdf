package loginkit

import "errors"

// Sentinel errors. Stores, hashers and policies return these (possibly
// wrapped); callers match them with errors.Is.
var (
	// ErrNotFound reports that a user, session or token does not exist or
	// has expired. Stores never distinguish "expired" from "missing".
	ErrNotFound = errors.New("loginkit: not found")

	// ErrDuplicate reports that a create or update would give two users the
	// same normalised email or username, or two tokens the same selector.
	ErrDuplicate = errors.New("loginkit: duplicate")

	// ErrInvalidCredentials is the single error Authenticate returns for an
	// unknown login name and for a wrong password, so that callers cannot
	// tell the two apart.
	ErrInvalidCredentials = errors.New("loginkit: invalid username or password")

	// ErrInactive reports that the user's account is not active: it cannot
	// log in and its sessions stop working.
	ErrInactive = errors.New("loginkit: account is not active")

	// ErrLocked reports that logins to the account are refused for now,
	// typically after repeated failed attempts (see policies.Lockout).
	// Only an existing account can be locked, so a login page that says
	// "locked" tells a stranger that the name is registered. To keep
	// account names private, answer ErrLocked exactly like
	// ErrInvalidCredentials and explain the lockout on every failed login
	// ("after 5 wrong passwords an account waits 15 minutes"), as the
	// quickstart does; once the user is logged in (Reauthenticate,
	// ChangePassword) naming the lockout reveals nothing.
	ErrLocked = errors.New("loginkit: account is temporarily locked")

	// ErrUnauthorized reports that a request needs a logged-in user. Guards
	// answer it with the unauthorized handler (a redirect to the login page
	// or a 401).
	ErrUnauthorized = errors.New("loginkit: login required")

	// ErrNeedsRefresh reports that the session is logged in but not fresh
	// enough; guards answer it with the needs-refresh handler.
	ErrNeedsRefresh = errors.New("loginkit: fresh login required")

	// ErrForbidden reports that the user is logged in but a policy refuses
	// the request; guards answer it with 403.
	ErrForbidden = errors.New("loginkit: forbidden")

	// ErrMismatch is returned by Hasher.Verify when the password does not
	// match the hash.
	ErrMismatch = errors.New("loginkit: password does not match")

	// ErrUnknownHashFormat is returned by Hasher.Verify for a hash string
	// the hasher cannot read (unknown prefix, truncated or malformed).
	ErrUnknownHashFormat = errors.New("loginkit: unknown or malformed password hash")

	// ErrUnsafeHashParams is returned by Hasher.Verify for a well-formed
	// hash whose parameters (memory, iterations, cost) are outside the safe
	// range; no hashing work is done for it.
	ErrUnsafeHashParams = errors.New("loginkit: password hash parameters out of the safe range")

	// ErrPasswordTooLong is returned by Hasher.Hash for a password the
	// scheme would otherwise silently truncate or that exceeds the
	// configured maximum length.
	ErrPasswordTooLong = errors.New("loginkit: password too long")

	// ErrInvalid reports a value a store or helper refuses outright, such as
	// an empty session key or a username containing '@'.
	ErrInvalid = errors.New("loginkit: invalid value")

	// ErrValueTooLarge reports session values (see Manager.SetValue) past
	// MaxValueBytes, or past what a cookie session can hold.
	ErrValueTooLarge = errors.New("loginkit: session values too large")

	// ErrInvalidToken reports a password-reset or email-confirmation link
	// that cannot be used: malformed, unknown, expired, already used,
	// superseded, or voided by a change to the account. The cases are not
	// told apart.
	ErrInvalidToken = errors.New("loginkit: invalid or expired link")

	// ErrConfig is matched (errors.Is) by every error Build returns.
	ErrConfig = errors.New("loginkit: invalid configuration")

	// ErrSecondFactorRequired is returned by Login for a user with a second
	// factor: the password was right, and the session is now waiting for
	// the second factor (see twofactor.Service.PendingUser). The user is not logged
	// in yet.
	ErrSecondFactorRequired = errors.New("loginkit: second factor required")

	// ErrInvalidCode reports a wrong, expired or already used second-factor
	// code (TOTP or recovery code).
	ErrInvalidCode = errors.New("loginkit: invalid code")

	// ErrReplayed is returned by SecondFactorStore.AcceptTOTPStep for a
	// TOTP time step that is not newer than the last one accepted: the
	// code was used already. The manager reports it wrapped together with
	// ErrInvalidCode.
	ErrReplayed = errors.New("loginkit: code already used")

	// ErrPasskeyRefused reports a passkey ceremony that was refused: an
	// unknown, expired, replayed or foreign challenge, a credential not
	// registered (or another user's), a bad signature, a sign-count
	// regression, or a response that does not parse.
	ErrPasskeyRefused = errors.New("loginkit: passkey refused")
	// ErrLastCredential reports an attempt to delete a user's last way to
	// sign in (their only passkey, with no password set).
	ErrLastCredential = errors.New("loginkit: cannot remove the last way to sign in")
)
