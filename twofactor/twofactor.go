// Package twofactor is the second factor of a loginkit login: TOTP
// authenticator apps (RFC 6238) and single-use recovery codes.
//
// Builder.SecondFactor turns the second-factor step on for a Manager:
// from then on Login leaves a user with a second factor enrolled in a
// short "second factor pending" state, which every guard treats as
// anonymous. A Service, made by New from that Manager, does the rest:
//   - PendingUser gives that user to the second-factor page, where
//     VerifyTOTP or UseRecoveryCode checks a code and completes the login
//     (Complete does it for a factor the application checks itself);
//   - BeginTOTP and ConfirmTOTP enrol an authenticator app,
//     RegenerateRecoveryCodes replaces the recovery codes, Status reports
//     what a user has enrolled and Disable turns the factor off.
//
// Pending and Passed read a session's second-factor state; the policies
// SecondFactor and RecentSecondFactor are built on Passed.
//
// The errors are loginkit's: ErrInvalidCode and ErrReplayed for a wrong
// or reused code, ErrLocked past the wrong-code limit, ErrNeedsRefresh
// where a fresh login is needed, ErrUnauthorized without a login.
package twofactor

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/seam"
)

// internals are the second-factor operations of a Manager (see package
// internal/seam).
type internals[U loginkit.User] interface {
	NeedsSecondFactors() error
	PendingUser(r *http.Request) (U, bool)
	CompleteSecondFactor(w http.ResponseWriter, r *http.Request, kind loginkit.FactorKind) error
	BeginTOTP(w http.ResponseWriter, r *http.Request) (secret, url string, qr []byte, err error)
	ConfirmTOTP(w http.ResponseWriter, r *http.Request, code string) ([]string, error)
	VerifyTOTP(w http.ResponseWriter, r *http.Request, code string) error
	UseRecoveryCode(w http.ResponseWriter, r *http.Request, code string) error
	RegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) ([]string, error)
	DisableSecondFactor(w http.ResponseWriter, r *http.Request) error
	SecondFactorStatus(ctx context.Context, u U) (totp bool, enabledAt time.Time, codesLeft int, err error)
}

// Service enrols and checks the second factors of a Manager's users. It
// is safe for concurrent use.
type Service[U loginkit.User] struct {
	in internals[U]
}

// New returns the second-factor service of m, which must have been built
// with Builder.SecondFactor; otherwise (or for a nil m) the error matches
// loginkit.ErrConfig.
func New[U loginkit.User](m *loginkit.Manager[U]) (*Service[U], error) {
	in, ok := seam.Internals(m).(internals[U])
	if !ok {
		return nil, fmt.Errorf("%w: twofactor: nil manager", loginkit.ErrConfig)
	}
	if err := in.NeedsSecondFactors(); err != nil {
		return nil, fmt.Errorf("twofactor: %w", err)
	}
	return &Service[U]{in: in}, nil
}

// PendingUser returns the user whose password was right and whose second
// factor is awaited, for the second-factor page; it reports false when
// the request has no unexpired pending state (or when the user is gone,
// disabled, or had their sessions revoked since). The request is
// anonymous for every other purpose: Manager.CurrentUser reports no user
// and every guard refuses it.
func (s *Service[U]) PendingUser(r *http.Request) (U, bool) {
	return s.in.PendingUser(r)
}

// Complete completes the request's pending login with a factor of the
// given kind that the caller has verified itself (a factor kind this
// package does not check, such as a code sent by other means), exactly
// as VerifyTOTP does after a correct code: the pending session is
// replaced by a fresh, logged-in one under a new token, and remember-me
// is granted if it was asked for at Login. For a logged-in session it
// records the factor as verified now. It returns ErrUnauthorized when
// the request has neither, and ErrInvalid for an empty kind.
func (s *Service[U]) Complete(w http.ResponseWriter, r *http.Request, kind loginkit.FactorKind) error {
	return s.in.CompleteSecondFactor(w, r, kind)
}

// Pending reports whether s is a "second factor pending" session: the
// password was right and the second factor has not been given yet. Such
// a session is no login (every guard refuses it), but it shows in the
// user's session list (SessionStore.ListByUser), where an application may
// flag it: someone who knows the password is trying to sign in.
func Pending(s *loginkit.Session) bool { return s != nil && s.Values[seam.PendingValue] != "" }

// Passed reports whether s is a login completed with a second factor,
// which kind, and when the factor was last verified. Policies use it
// (see policies.SecondFactor and policies.RecentSecondFactor).
func Passed(s *loginkit.Session) (kind loginkit.FactorKind, at time.Time, ok bool) {
	if s == nil || Pending(s) {
		return "", time.Time{}, false
	}
	k, v := s.Values[seam.FactorKindValue], s.Values[seam.FactorAtValue]
	if k == "" || v == "" {
		return "", time.Time{}, false
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return loginkit.FactorKind(k), time.UnixMilli(ms).UTC(), true
}

// Enrolment is a TOTP secret offered to the user, not yet enabled: show
// the QR code (or the key as text) and ask for a code from the app to
// confirm it with ConfirmTOTP.
type Enrolment struct {
	// Secret is the key in base32, for typing into an app by hand.
	Secret string
	// URL is the otpauth:// URI the QR code encodes.
	URL string
	// QRCode is a PNG image of URL.
	QRCode []byte
}

// BeginTOTP starts enrolling an authenticator app for the current user:
// it makes a random 160-bit secret, keeps it (encrypted) in the session
// until ConfirmTOTP, and returns it with its otpauth:// URI and QR code.
// Calling it again in the same session returns the same secret, so that
// reloading the page does not invalidate a QR code already scanned. It
// needs a fresh session (a password entered recently, see
// loginkit.Manager.FreshRequired), as ConfirmTOTP does: ErrNeedsRefresh
// otherwise, so that a stolen stale session (a remember cookie) cannot
// enrol the thief's app. It returns ErrUnauthorized for an anonymous
// request and ErrDuplicate when the user already has TOTP enabled
// (disable it first).
func (s *Service[U]) BeginTOTP(w http.ResponseWriter, r *http.Request) (*Enrolment, error) {
	secret, url, qr, err := s.in.BeginTOTP(w, r)
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: secret, URL: url, QRCode: qr}, nil
}

// ConfirmTOTP enables the authenticator app offered by BeginTOTP once the
// user has typed a correct code from it (ErrInvalidCode otherwise), and
// returns a new set of recovery codes to show the user once: only their
// hashes are stored. The confirming code counts as used, and the session
// is recorded as having passed the second factor. Every other login of
// the user, remember tokens included, is ended (they passed only the
// password), as Manager.LogoutOthers does: this session is kept, under a
// new token, no longer remembered. Should that fail, the factor stays on
// and the error is returned; RegenerateRecoveryCodes gives the codes
// anew. Wrong codes count against the same limits as at login. It needs
// a fresh session (ErrNeedsRefresh otherwise, like BeginTOTP). It returns
// ErrUnauthorized for an anonymous request and ErrNotFound when no
// enrolment was begun in this session.
func (s *Service[U]) ConfirmTOTP(w http.ResponseWriter, r *http.Request, code string) ([]string, error) {
	return s.in.ConfirmTOTP(w, r, code)
}

// VerifyTOTP checks a code from the user's authenticator app. In the
// "second factor pending" state (after Login returned
// ErrSecondFactorRequired) a correct code completes the login: the
// pending session is replaced by a fresh, logged-in one under a new
// token, and remember-me is granted if Login asked for it. For a
// logged-in user it records the factor as verified now (see
// policies.RecentSecondFactor), rotating the session token.
//
// Codes of the current 30-second step and of one step either way are
// accepted, each once: a code (or an earlier one) that was accepted
// before is refused, also when two requests send it at once. A wrong or
// reused code is an error matching ErrInvalidCode (and ErrReplayed for a
// reused one); it counts against the account's wrong-code limit
// (SecondFactorOptions.MaxAttempts) and as a failed login for
// LoginRecorder policies. A locked account, or one over the limit, gets
// ErrLocked without the code being checked. Without a pending state or a
// login it returns ErrUnauthorized.
func (s *Service[U]) VerifyTOTP(w http.ResponseWriter, r *http.Request, code string) error {
	return s.in.VerifyTOTP(w, r, code)
}

// UseRecoveryCode checks a recovery code in place of a TOTP code, exactly
// like VerifyTOTP (the same states, limits and errors): a correct code
// completes the pending login, or re-confirms the factor of a logged-in
// session, and is used up. Among any number of concurrent requests with
// one code, exactly one succeeds. The RecoveryCodeUsed hook reports the
// use and the number of codes left, so that the application can warn the
// user.
func (s *Service[U]) UseRecoveryCode(w http.ResponseWriter, r *http.Request, code string) error {
	return s.in.UseRecoveryCode(w, r, code)
}

// RegenerateRecoveryCodes replaces the current user's recovery codes with
// a new set and returns it, to be shown once; the old codes stop working.
// It needs a fresh session (ErrNeedsRefresh otherwise) and an enabled
// second factor (ErrNotFound otherwise).
func (s *Service[U]) RegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) ([]string, error) {
	return s.in.RegenerateRecoveryCodes(w, r)
}

// Disable removes the current user's second factors (the TOTP secret and
// every recovery code). It needs a fresh session (a password entered
// recently, see loginkit.Manager.FreshRequired): otherwise it returns
// ErrNeedsRefresh and changes nothing.
func (s *Service[U]) Disable(w http.ResponseWriter, r *http.Request) error {
	return s.in.DisableSecondFactor(w, r)
}

// Status describes a user's second factors, for an account page.
type Status struct {
	// TOTP reports an enabled authenticator app.
	TOTP bool
	// TOTPEnabledAt is when it was enabled.
	TOTPEnabledAt time.Time
	// RecoveryCodesLeft is the number of unused recovery codes.
	RecoveryCodesLeft int
}

// Status returns u's second-factor status. A user with none gets the
// zero status and no error.
func (s *Service[U]) Status(ctx context.Context, u U) (Status, error) {
	totp, at, left, err := s.in.SecondFactorStatus(ctx, u)
	if err != nil {
		return Status{}, err
	}
	return Status{TOTP: totp, TOTPEnabledAt: at, RecoveryCodesLeft: left}, nil
}
