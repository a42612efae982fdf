// Package passkey is WebAuthn passkeys for a loginkit login:
// passwordless sign-in with a discoverable credential, a passkey as the
// second factor after a password, and the management of a user's
// passkeys.
//
// Builder.Passkeys turns passkeys on for a Manager, with the store that
// keeps them (loginkit.PasskeyStore) and the relying party's identity
// (loginkit.PasskeyOptions). A Service, made by New from that Manager,
// runs the ceremonies. Each has two steps: a Begin method returns the
// JSON options for navigator.credentials.create or .get and sets a
// short-lived challenge cookie; the matching Finish or Verify method
// checks the browser's answer (the request body, as
// PublicKeyCredential.toJSON() gives it) in the same browser.
//
// The errors are loginkit's: ErrPasskeyRefused for an answer that fails
// a check, ErrNeedsRefresh where a fresh login is needed, ErrUnauthorized
// without a login, ErrLastCredential for the last way to sign in.
package passkey

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/seam"
)

// internals are the passkey operations of a Manager (see package
// internal/seam).
type internals[U loginkit.User] interface {
	NeedsPasskeys() error
	BeginPasskeyRegistration(w http.ResponseWriter, r *http.Request) (json.RawMessage, error)
	FinishPasskeyRegistration(w http.ResponseWriter, r *http.Request, name string) (*loginkit.Passkey, error)
	BeginPasskeyLogin(w http.ResponseWriter, r *http.Request) (json.RawMessage, error)
	FinishPasskeyLogin(w http.ResponseWriter, r *http.Request, opts loginkit.LoginOptions) (U, error)
	BeginPasskeySecondFactor(w http.ResponseWriter, r *http.Request) (json.RawMessage, error)
	VerifyPasskey(w http.ResponseWriter, r *http.Request) error
	ListPasskeys(r *http.Request) ([]*loginkit.Passkey, error)
	RenamePasskey(w http.ResponseWriter, r *http.Request, credentialID []byte, name string) error
	DeletePasskey(w http.ResponseWriter, r *http.Request, credentialID []byte) error
}

// Service registers passkeys, signs users in with them and manages them,
// for one Manager. It is safe for concurrent use.
type Service[U loginkit.User] struct {
	in internals[U]
}

// New returns the passkey service of m, which must have been built with
// Builder.Passkeys; otherwise (or for a nil m) the error matches
// loginkit.ErrConfig.
func New[U loginkit.User](m *loginkit.Manager[U]) (*Service[U], error) {
	in, ok := seam.Internals(m).(internals[U])
	if !ok {
		return nil, fmt.Errorf("%w: passkey: nil manager", loginkit.ErrConfig)
	}
	if err := in.NeedsPasskeys(); err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Service[U]{in: in}, nil
}

// BeginRegistration starts registering a passkey for the current user,
// whose session must be fresh (ErrNeedsRefresh otherwise;
// ErrUnauthorized for an anonymous request). It returns the JSON options
// for navigator.credentials.create ({"publicKey": {...}}, binary fields
// in base64url), excluding the user's existing passkeys, and sets the
// challenge cookie. Send the browser's answer to FinishRegistration
// within PasskeyOptions.ChallengeFor.
func (s *Service[U]) BeginRegistration(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	return s.in.BeginPasskeyRegistration(w, r)
}

// FinishRegistration completes a registration started by
// BeginRegistration in the same browser: the request body is the
// credential the browser created (PublicKeyCredential.toJSON()). The
// user's session must still be fresh. It stores the passkey under name
// and returns it. A response that fails any check (challenge, origin,
// user verification, ...) is ErrPasskeyRefused. With Builder.SecondFactor
// configured, a user's first passkey (without an authenticator app)
// turns the second factor on: the user's other logins, remember tokens
// included, are ended as by Manager.LogoutOthers, this session is kept
// under a new token, and the SecondFactorEnrolled hook runs with
// FactorPasskey.
func (s *Service[U]) FinishRegistration(w http.ResponseWriter, r *http.Request, name string) (*loginkit.Passkey, error) {
	return s.in.FinishPasskeyRegistration(w, r, name)
}

// BeginLogin starts a passwordless sign-in: it returns the JSON options
// for navigator.credentials.get ({"publicKey": {...}}, with no allowed
// credentials, so that the browser offers the discoverable passkeys it
// has for the site) and sets the challenge cookie. No user is needed.
// Send the browser's answer to FinishLogin.
func (s *Service[U]) BeginLogin(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	return s.in.BeginPasskeyLogin(w, r)
}

// FinishLogin completes a passwordless sign-in started by BeginLogin in
// the same browser: the request body is the browser's assertion
// (PublicKeyCredential.toJSON()). On success the credential's user is
// logged in exactly as by Manager.Login, with a fresh session and no
// second-factor step (a passkey with user verification is two factors
// already); opts.Remember and opts.RememberFor apply, opts.NotFresh and
// opts.SkipSecondFactor are ignored. A refused assertion is
// ErrPasskeyRefused; an inactive user is ErrInactive, and the login
// policies apply as for Login.
func (s *Service[U]) FinishLogin(w http.ResponseWriter, r *http.Request, opts loginkit.LoginOptions) (U, error) {
	return s.in.FinishPasskeyLogin(w, r, opts)
}

// BeginSecondFactor starts a passkey second-factor step for the
// request's pending user (see twofactor.Service.PendingUser), or for the logged-in
// user re-confirming their second factor: it returns the JSON options
// for navigator.credentials.get listing the user's passkeys, and sets
// the challenge cookie. It returns ErrUnauthorized without such a user
// and ErrNotFound when the user has no passkey.
func (s *Service[U]) BeginSecondFactor(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	return s.in.BeginPasskeySecondFactor(w, r)
}

// VerifySecondFactor completes the second-factor step begun by
// BeginSecondFactor with the browser's assertion (the request body):
// like twofactor.Service.VerifyTOTP, it completes the pending login (a
// fresh session under a new token, remember-me if asked for at Login)
// or, for a logged-in user, records the factor as verified now, with
// FactorPasskey as the kind. A refused assertion matches both
// ErrPasskeyRefused and ErrInvalidCode and counts as a wrong code
// (lockout, SecondFactorFailed hook). It needs Builder.SecondFactor.
func (s *Service[U]) VerifySecondFactor(w http.ResponseWriter, r *http.Request) error {
	return s.in.VerifyPasskey(w, r)
}

// List returns the current user's passkeys, oldest first. It needs a
// fresh session (ErrNeedsRefresh otherwise).
func (s *Service[U]) List(r *http.Request) ([]*loginkit.Passkey, error) {
	return s.in.ListPasskeys(r)
}

// Rename renames one of the current user's passkeys. It needs a fresh
// session (ErrNeedsRefresh otherwise); a credential ID that is not one of
// the user's passkeys is ErrNotFound.
func (s *Service[U]) Rename(w http.ResponseWriter, r *http.Request, credentialID []byte, name string) error {
	return s.in.RenamePasskey(w, r, credentialID, name)
}

// Delete removes one of the current user's passkeys. It needs a fresh
// session (ErrNeedsRefresh otherwise); a credential ID that is not one of
// the user's passkeys is ErrNotFound. It refuses, with ErrLastCredential,
// to remove the only passkey of a user without a password: that would
// leave no way to sign in. For such a user the check and the delete run
// under a per-user lock kept in the token store, so that concurrent
// deletes cannot together remove every passkey; a delete that cannot
// take the lock within 2 seconds is ErrLocked.
func (s *Service[U]) Delete(w http.ResponseWriter, r *http.Request, credentialID []byte) error {
	return s.in.DeletePasskey(w, r, credentialID)
}
