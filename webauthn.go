package loginkit

// Passkeys (WebAuthn), through github.com/go-webauthn/webauthn. The
// library checks the ceremonies (origin, RP ID, challenge, flags,
// signature); this file keeps the challenges and applies the rules of
// this package:
//
//   - A challenge is a token in the TokenStore whose selector is the
//     challenge itself: single-use (Consume), short-lived (ExpiresAt), and
//     bound to the browser that asked by a random secret in an HttpOnly
//     cookie, whose hash the token keeps. A response whose challenge is
//     unknown, used, expired, of another purpose or user, or asked for by
//     another browser is refused before the library sees it.
//   - A signature counter that does not rise is refused (and reported)
//     unless the authenticator reports 0; the new count is stored with a
//     compare-and-set, so two sign-ins racing with one counter value
//     cannot both pass.
//   - A passkey is a second factor of its own kind (FactorPasskey), which
//     hasSecondFactor knows, verified through factorStep.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// DefaultPasskeyChallengeFor is how long a passkey challenge can be
// answered.
const DefaultPasskeyChallengeFor = 2 * time.Minute

const (
	purposePasskeyRegister = "passkey-register"
	purposePasskeyLogin    = "passkey-login"
	purposePasskeyFactor   = "passkey-factor"
	purposePasskeyLock     = "passkey-delete-lock"
	passkeyLockFor         = 10 * time.Second
	passkeyLockWait        = 2 * time.Second
	passkeySelectorPrefix  = "webauthn:"
	passkeyCookieSuffix    = "_webauthn"
	maxPasskeyBody         = 64 << 10
)

// PasskeyOptions configures passkeys (Builder.Passkeys).
type PasskeyOptions struct {
	// RPID is the relying party ID: the site's registrable domain or a
	// suffix of its host, such as "example.com". Passkeys are bound to
	// it. Required.
	RPID string
	// RPDisplayName names the site in the browser's passkey dialogs.
	// Required.
	RPDisplayName string
	// Origins are the origins the pages asking for passkeys are served
	// from, such as "https://example.com". Required.
	Origins []string
	// ChallengeFor is how long a challenge can be answered; default
	// DefaultPasskeyChallengeFor (2 minutes).
	ChallengeFor time.Duration
}

// passkeyConfig is the manager's passkey configuration.
type passkeyConfig struct {
	store        PasskeyStore
	wa           *webauthn.WebAuthn
	rpID         string
	challengeFor time.Duration
}

// Passkeys enables passkeys (WebAuthn), kept in store; package passkey
// runs the ceremonies on the built Manager: registration, passwordless
// sign-in with a discoverable credential, a passkey as the second factor
// after a password (this needs SecondFactor too), and managing a user's
// passkeys. It needs a token store (Tokens), which keeps the
// challenges. Registration asks for a discoverable credential with user
// verification and no attestation.
func (b *Builder[U]) Passkeys(store PasskeyStore, o PasskeyOptions) *Builder[U] {
	bad := func(format string, args ...any) {
		b.errs = append(b.errs, fmt.Errorf("%w: passkeys: "+format, append([]any{ErrConfig}, args...)...))
	}
	if store == nil {
		bad("a PasskeyStore is required")
	}
	if o.RPID == "" || o.RPDisplayName == "" || len(o.Origins) == 0 {
		bad("RPID, RPDisplayName and Origins are required")
	}
	if o.ChallengeFor < 0 {
		bad("ChallengeFor must not be negative")
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          o.RPID,
		RPDisplayName: o.RPDisplayName,
		RPOrigins:     slices.Clone(o.Origins),
	})
	if err != nil && store != nil && o.RPID != "" {
		bad("%v", err)
	}
	b.passkeys = &passkeyConfig{store: store, wa: wa, rpID: o.RPID, challengeFor: orDefault(o.ChallengeFor, DefaultPasskeyChallengeFor)}
	return b
}

// waUser is a user as the WebAuthn library sees it: the user handle is
// the user ID.
type waUser struct {
	id, name string
	creds    []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.name }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func credentialOf(p *Passkey) webauthn.Credential {
	c := webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey,
		Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: true, BackupEligible: p.BackupEligible, BackupState: p.BackedUp},
		Authenticator: webauthn.Authenticator{SignCount: p.SignCount},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

func (m *Manager[U]) webauthnUser(u U, list []*Passkey) *waUser {
	w := &waUser{id: u.UserID(), name: accountLabel(u)}
	for _, p := range list {
		w.creds = append(w.creds, credentialOf(p))
	}
	return w
}

func (m *Manager[U]) passkeysOn() error {
	if m.passkeys == nil {
		return fmt.Errorf("%w: passkeys are not configured (Builder.Passkeys)", ErrConfig)
	}
	return nil
}

// hasPasskey reports whether the user has a passkey.
func (m *Manager[U]) hasPasskey(ctx context.Context, userID string) (bool, error) {
	list, err := m.passkeys.store.ListPasskeys(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("loginkit: passkeys: %w", err)
	}
	return len(list) > 0, nil
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrPasskeyRefused}, args...)...)
}

func (m *Manager[U]) passkeyCookie() string { return m.cookie.session + passkeyCookieSuffix }

func bindingHash(secret string) string {
	h := sha256.Sum256([]byte("loginkit passkey challenge\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// issueChallenge keeps challenge for purpose and userID, bound to this
// browser by a fresh secret in a cookie.
func (m *Manager[U]) issueChallenge(w http.ResponseWriter, r *http.Request, purpose, userID, challenge string) error {
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	now := m.now().UTC()
	if userID == "" {
		userID = "anonymous-" + NewID() // one short-lived index entry per challenge
	}
	t := &Token{Selector: passkeySelectorPrefix + challenge, ValidatorHash: bindingHash(secret), UserID: userID, Purpose: purpose,
		CreatedAt: now, ExpiresAt: now.Add(m.passkeys.challengeFor)}
	if err := m.tokens.Create(r.Context(), t); err != nil {
		return fmt.Errorf("loginkit: passkey challenge: %w", err)
	}
	http.SetCookie(w, m.cookie.make(m.passkeyCookie(), secret, int(m.passkeys.challengeFor/time.Second)+1))
	return nil
}

// consumeChallenge checks that challenge was issued to this browser for
// purpose (and userID, unless empty), then uses it up. Anything else is
// ErrPasskeyRefused.
func (m *Manager[U]) consumeChallenge(w http.ResponseWriter, r *http.Request, purpose, userID, challenge string) error {
	ctx := r.Context()
	ck, err := r.Cookie(m.passkeyCookie())
	if err != nil || ck.Value == "" {
		return refused("no challenge was asked for by this browser")
	}
	sel := passkeySelectorPrefix + challenge
	t, err := m.tokens.Get(ctx, sel)
	switch {
	case errors.Is(err, ErrNotFound):
		return refused("unknown, used or expired challenge")
	case err != nil:
		return fmt.Errorf("loginkit: passkey challenge: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(bindingHash(ck.Value)), []byte(t.ValidatorHash)) != 1 {
		return refused("the challenge was asked for by another browser")
	}
	if t.Purpose != purpose || (userID != "" && t.UserID != userID) || !m.now().Before(t.ExpiresAt) {
		return refused("the challenge was asked for another purpose or user, or has expired")
	}
	if _, err := m.tokens.Consume(ctx, sel); errors.Is(err, ErrNotFound) {
		return refused("challenge already used")
	} else if err != nil {
		return fmt.Errorf("loginkit: passkey challenge: %w", err)
	}
	m.cookie.clear(w, m.passkeyCookie())
	return nil
}

// freshUser returns the logged-in user of a request whose session is
// fresh.
func (m *Manager[U]) freshUser(r *http.Request) (U, error) {
	var zero U
	st := m.state(r)
	if st == nil || !st.authed || st.session == nil {
		return zero, ErrUnauthorized
	}
	if !m.isFresh(st.session, m.now()) {
		return zero, ErrNeedsRefresh
	}
	return st.user, nil
}

// passkeyUser checks that passkeys are on and returns the user that who
// (freshUser or factorUser) finds for r.
func (m *Manager[U]) passkeyUser(r *http.Request, who func(*http.Request) (U, error)) (U, error) {
	if err := m.passkeysOn(); err != nil {
		var zero U
		return zero, err
	}
	return who(r)
}

// userPasskeys is passkeyUser, and that user's passkeys.
func (m *Manager[U]) userPasskeys(r *http.Request, who func(*http.Request) (U, error)) (U, []*Passkey, error) {
	u, err := m.passkeyUser(r, who)
	if err != nil {
		return u, nil, err
	}
	list, err := m.passkeys.store.ListPasskeys(r.Context(), u.UserID())
	if err != nil {
		return u, nil, fmt.Errorf("loginkit: passkeys: %w", err)
	}
	return u, list, nil
}

func (m *Manager[U]) registrationOptions(list []*Passkey) []webauthn.RegistrationOption {
	exclude := make([]protocol.CredentialDescriptor, 0, len(list))
	for _, p := range list {
		exclude = append(exclude, protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: p.CredentialID})
	}
	rk := true
	return []webauthn.RegistrationOption{
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: &rk,
			UserVerification: protocol.VerificationRequired,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithExclusions(exclude),
	}
}

// beginPasskeyRegistration implements passkey.Service.BeginRegistration, which documents its contract.
func (m *Manager[U]) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	u, list, err := m.userPasskeys(r, m.freshUser)
	if err != nil {
		return nil, err
	}
	creation, sd, err := m.passkeys.wa.BeginRegistration(m.webauthnUser(u, list), m.registrationOptions(list)...)
	if err != nil {
		return nil, fmt.Errorf("loginkit: passkey registration: %w", err)
	}
	if err := m.issueChallenge(w, r, purposePasskeyRegister, u.UserID(), sd.Challenge); err != nil {
		return nil, err
	}
	return json.Marshal(creation)
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxPasskeyBody+1))
	if err != nil {
		return nil, refused("reading the response: %v", err)
	}
	if len(b) > maxPasskeyBody {
		return nil, refused("response too large")
	}
	return b, nil
}

// finishPasskeyRegistration implements passkey.Service.FinishRegistration, which documents its contract.
func (m *Manager[U]) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request, name string) (*Passkey, error) {
	u, err := m.passkeyUser(r, m.freshUser)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, refused("%v", err)
	}
	if err := m.consumeChallenge(w, r, purposePasskeyRegister, u.UserID(), parsed.Response.CollectedClientData.Challenge); err != nil {
		return nil, err
	}
	ctx := r.Context()
	list, err := m.passkeys.store.ListPasskeys(ctx, u.UserID())
	if err != nil {
		return nil, fmt.Errorf("loginkit: passkeys: %w", err)
	}
	wu := m.webauthnUser(u, list)
	_, sd, err := m.passkeys.wa.BeginRegistration(wu, m.registrationOptions(list)...)
	if err != nil {
		return nil, fmt.Errorf("loginkit: passkey registration: %w", err)
	}
	sd.Challenge, sd.Expires = parsed.Response.CollectedClientData.Challenge, time.Time{}
	cred, err := m.passkeys.wa.CreateCredential(wu, *sd, parsed)
	if err != nil {
		return nil, refused("%v", err)
	}
	p := &Passkey{
		CredentialID: cred.ID, UserID: u.UserID(), PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState, Name: name, CreatedAt: m.now().UTC(),
	}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	// The first passkey of a user without an authenticator app turns the
	// second factor on (with SecondFactor configured).
	turnsOn := false
	if m.factors != nil && len(list) == 0 {
		on, err := m.hasTOTP(ctx, u.UserID())
		if err != nil {
			return nil, err
		}
		turnsOn = !on
	}
	switch err := m.passkeys.store.CreatePasskey(ctx, p); {
	case errors.Is(err, ErrDuplicate):
		return nil, refused("this credential is registered already")
	case err != nil:
		return nil, fmt.Errorf("loginkit: passkeys: %w", err)
	}
	if turnsOn {
		// The user's other logins passed only the password: end them,
		// and keep this one (rotated, and no longer remembered).
		if err := m.endLoginsWithoutFactor(w, r, m.state(r)); err != nil {
			return nil, fmt.Errorf("loginkit: passkey registration: end the logins made without it: %w", err)
		}
		if m.hooks.SecondFactorEnrolled != nil {
			m.hooks.SecondFactorEnrolled(r, u, FactorPasskey)
		}
	}
	return p, nil
}

// beginPasskeyLogin implements passkey.Service.BeginLogin, which documents its contract.
func (m *Manager[U]) beginPasskeyLogin(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	if err := m.passkeysOn(); err != nil {
		return nil, err
	}
	assertion, sd, err := m.passkeys.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("loginkit: passkey login: %w", err)
	}
	if err := m.issueChallenge(w, r, purposePasskeyLogin, "", sd.Challenge); err != nil {
		return nil, err
	}
	return json.Marshal(assertion)
}

// verifyAssertion checks an assertion whose challenge has been consumed:
// the credential must be registered (to wantUser, unless empty), its
// user must exist, the library must accept the signature with user
// verification, and the counter must rise (or be 0); the new counter is
// stored with a compare-and-set.
func (m *Manager[U]) verifyAssertion(r *http.Request, parsed *protocol.ParsedCredentialAssertionData, wantUser string) (U, error) {
	var zero U
	ctx := r.Context()
	p, err := m.passkeys.store.GetPasskey(ctx, parsed.RawID)
	switch {
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid):
		return zero, refused("unknown credential")
	case err != nil:
		return zero, fmt.Errorf("loginkit: passkeys: %w", err)
	}
	if wantUser != "" && p.UserID != wantUser {
		return zero, refused("the credential is another user's")
	}
	if h := parsed.Response.UserHandle; len(h) > 0 && !bytes.Equal(h, []byte(p.UserID)) {
		return zero, refused("the user handle does not match the credential")
	}
	u, err := m.loader.LoadUser(ctx, p.UserID)
	if err == nil && isNil(u) {
		err = ErrNotFound
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return zero, refused("the credential's user is gone")
	case err != nil:
		return zero, fmt.Errorf("loginkit: passkeys: load user: %w", err)
	}
	sd := webauthn.SessionData{
		Challenge: parsed.Response.CollectedClientData.Challenge, RelyingPartyID: m.passkeys.rpID,
		UserID: []byte(p.UserID), UserVerification: protocol.VerificationRequired,
	}
	cred, err := m.passkeys.wa.ValidateLogin(m.webauthnUser(u, []*Passkey{p}), sd, parsed)
	if err != nil {
		return zero, refused("%v", err)
	}
	got := parsed.Response.AuthenticatorData.Counter
	if got != 0 && got <= p.SignCount {
		if m.hooks.PasskeySignCountRegressed != nil {
			m.hooks.PasskeySignCountRegressed(r, p.Clone(), got)
		}
		return zero, refused("signature counter went from %d to %d (cloned authenticator?)", p.SignCount, got)
	}
	switch err := m.passkeys.store.UpdateSignCount(ctx, p.CredentialID, p.SignCount, got, cred.Flags.BackupState, m.now().UTC()); {
	case errors.Is(err, ErrReplayed), errors.Is(err, ErrNotFound):
		return zero, refused("the passkey was used or removed concurrently")
	case err != nil:
		return zero, fmt.Errorf("loginkit: passkeys: %w", err)
	}
	return u, nil
}

// finishPasskeyLogin implements passkey.Service.FinishLogin, which documents its contract.
func (m *Manager[U]) finishPasskeyLogin(w http.ResponseWriter, r *http.Request, opts LoginOptions) (U, error) {
	var zero U
	if err := m.passkeysOn(); err != nil {
		return zero, err
	}
	body, err := readBody(r)
	if err != nil {
		return zero, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return zero, refused("%v", err)
	}
	if err := m.consumeChallenge(w, r, purposePasskeyLogin, "", parsed.Response.CollectedClientData.Challenge); err != nil {
		return zero, err
	}
	u, err := m.verifyAssertion(r, parsed, "")
	if err != nil {
		return zero, err
	}
	opts.NotFresh, opts.SkipSecondFactor = false, true
	if err := m.Login(w, r, u, opts); err != nil {
		return zero, err
	}
	return u, nil
}

// beginPasskeySecondFactor implements passkey.Service.BeginSecondFactor, which documents its contract.
func (m *Manager[U]) beginPasskeySecondFactor(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	u, list, err := m.userPasskeys(r, m.factorUser)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("loginkit: passkeys: the user has none: %w", ErrNotFound)
	}
	assertion, sd, err := m.passkeys.wa.BeginLogin(m.webauthnUser(u, list), webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("loginkit: passkey second factor: %w", err)
	}
	if err := m.issueChallenge(w, r, purposePasskeyFactor, u.UserID(), sd.Challenge); err != nil {
		return nil, err
	}
	return json.Marshal(assertion)
}

// factorUser returns the pending user, or the logged-in one.
func (m *Manager[U]) factorUser(r *http.Request) (U, error) {
	var zero U
	st := m.state(r)
	switch {
	case st != nil && st.pendingLogin() != nil:
		u, _, err := m.pendingUser(r)
		return u, err
	case st != nil && st.authed && st.session != nil:
		return st.user, nil
	}
	return zero, ErrUnauthorized
}

// verifyPasskey implements passkey.Service.VerifySecondFactor, which documents its contract.
func (m *Manager[U]) verifyPasskey(w http.ResponseWriter, r *http.Request) error {
	if err := m.passkeysOn(); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return m.factorStep(w, r, FactorPasskey, func(ctx context.Context, u U) error {
		parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidCode, refused("%v", err))
		}
		if err := m.consumeChallenge(w, r, purposePasskeyFactor, u.UserID(), parsed.Response.CollectedClientData.Challenge); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidCode, err)
		}
		if _, err := m.verifyAssertion(r, parsed, u.UserID()); err != nil {
			if errors.Is(err, ErrPasskeyRefused) {
				return fmt.Errorf("%w: %w", ErrInvalidCode, err)
			}
			return err
		}
		return nil
	})
}

// lockPasskeyDeletes takes the user's passkey-delete lock: a token with a
// fixed selector, which TokenStore.Create stores only once, expiring after
// passkeyLockFor in case its holder dies. It waits for a holder up to
// passkeyLockWait, then answers ErrLocked.
func (m *Manager[U]) lockPasskeyDeletes(ctx context.Context, userID string) (unlock func(), err error) {
	sel := "passkey-delete-lock:" + userID
	deadline := time.Now().Add(passkeyLockWait)
	for {
		now := m.now().UTC()
		t := &Token{Selector: sel, ValidatorHash: "-", UserID: userID, Purpose: purposePasskeyLock, CreatedAt: now, ExpiresAt: now.Add(passkeyLockFor)}
		err := m.tokens.Create(ctx, t)
		if err == nil {
			return func() { _ = m.tokens.Delete(context.WithoutCancel(ctx), sel) }, nil
		}
		if !errors.Is(err, ErrDuplicate) {
			return nil, fmt.Errorf("loginkit: passkeys: lock: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: another change to the user's passkeys is under way", ErrLocked)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// listPasskeys implements passkey.Service.List, which documents its contract.
func (m *Manager[U]) listPasskeys(r *http.Request) ([]*Passkey, error) {
	_, list, err := m.userPasskeys(r, m.freshUser)
	if err != nil {
		return nil, err
	}
	return list, nil
}

// renamePasskey implements passkey.Service.Rename, which documents its contract.
func (m *Manager[U]) renamePasskey(w http.ResponseWriter, r *http.Request, credentialID []byte, name string) error {
	u, err := m.passkeyUser(r, m.freshUser)
	if err != nil {
		return err
	}
	if err := m.passkeys.store.RenamePasskey(r.Context(), u.UserID(), credentialID, name); err != nil {
		return fmt.Errorf("loginkit: passkeys: %w", err)
	}
	return nil
}

// deletePasskey implements passkey.Service.Delete, which documents its contract.
func (m *Manager[U]) deletePasskey(w http.ResponseWriter, r *http.Request, credentialID []byte) error {
	u, err := m.passkeyUser(r, m.freshUser)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if a := accountOf(u); a == nil || a.PasswordHash == "" {
		// Concurrent deletes of the user's last passkeys must not both
		// pass the check: take the user's delete lock (a token whose
		// creation is unique) around the check and the delete.
		unlock, err := m.lockPasskeyDeletes(ctx, u.UserID())
		if err != nil {
			return err
		}
		defer unlock()
		list, err := m.passkeys.store.ListPasskeys(ctx, u.UserID())
		if err != nil {
			return fmt.Errorf("loginkit: passkeys: %w", err)
		}
		others := slices.DeleteFunc(list, func(p *Passkey) bool { return bytes.Equal(p.CredentialID, credentialID) })
		if len(others) == 0 {
			return ErrLastCredential
		}
	}
	if err := m.passkeys.store.DeletePasskey(ctx, u.UserID(), credentialID); err != nil {
		return fmt.Errorf("loginkit: passkeys: %w", err)
	}
	return nil
}
