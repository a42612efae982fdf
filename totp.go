package loginkit

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238 defaults that every authenticator app reads.
const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1 // steps either way
	qrSize     = 256
)

// updateSession stores a changed copy of the current session, only if it
// still exists where the store can tell (SessionToucher), so that a
// request racing a logout cannot bring the session back.
func (m *Manager[U]) updateSession(ctx context.Context, w http.ResponseWriter, s *Session) error {
	if t, ok := m.sessions.(SessionToucher); ok && m.sealer == nil {
		return t.Touch(ctx, s)
	}
	_, err := m.saveSession(ctx, w, s)
	return err
}

// TOTPEnrolment is a TOTP secret offered to the user, not yet enabled:
// show the QR code (or the key as text) and ask for a code from the app
// to confirm it with ConfirmTOTP.
type TOTPEnrolment struct {
	// Secret is the key in base32, for typing into an app by hand.
	Secret string
	// URL is the otpauth:// URI the QR code encodes.
	URL string
	// QRCode is a PNG image of URL.
	QRCode []byte
}

// totpStep returns the TOTP time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode returns the code of step for a raw secret.
func totpCode(secret []byte, step int64) (string, error) {
	return hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), uint64(step), hotp.ValidateOpts{
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
}

// matchTOTP returns the step, within one step of now either way, whose
// code equals code, or ErrInvalidCode. It compares every candidate in
// constant time.
func matchTOTP(secret []byte, code string, now time.Time) (int64, error) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != totpDigits {
		return 0, ErrInvalidCode
	}
	cur := totpStep(now)
	found := int64(-1)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totpCode(secret, cur+d)
		if err != nil {
			return 0, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = cur + d
		}
	}
	if found < 0 {
		return 0, ErrInvalidCode
	}
	return found, nil
}

// accountLabel names u in authenticator apps: its email, username or ID.
func accountLabel(u User) string {
	if a := accountOf(u); a != nil {
		if a.Email != "" {
			return a.Email
		}
		if a.Username != "" {
			return a.Username
		}
	}
	if id := u.UserID(); id != "" {
		return id
	}
	return defaultTOTPAccountLabel
}

// BeginTOTP starts enrolling an authenticator app for the current user:
// it makes a random 160-bit secret, keeps it (encrypted) in the session
// until ConfirmTOTP, and returns it with its otpauth:// URI and QR code.
// Calling it again in the same session returns the same secret, so that
// reloading the page does not invalidate a QR code already scanned. It
// needs a fresh session (a password entered recently, see FreshRequired),
// as ConfirmTOTP does: ErrNeedsRefresh otherwise, so that a stolen stale
// session (a remember cookie) cannot enrol the thief's app. It returns
// ErrUnauthorized for an anonymous request and ErrDuplicate when the user
// already has TOTP enabled (disable it first).
func (m *Manager[U]) BeginTOTP(w http.ResponseWriter, r *http.Request) (*TOTPEnrolment, error) {
	// Enrolling needs a fresh session, like disabling: otherwise a thief
	// holding a stale session (a remember cookie) could put the second
	// factor in their own app and keep the owner out.
	u, st, err := m.freshFactorUser(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	if on, err := m.hasTOTP(ctx, u.UserID()); err != nil {
		return nil, err
	} else if on {
		return nil, fmt.Errorf("%w: TOTP is already enabled", ErrDuplicate)
	}
	var secret []byte
	if v := st.session.Values[enrolValue]; v != "" {
		secret, _ = m.factors.openString(sealPurposeEnrolment, u.UserID(), v)
	}
	opts := totp.GenerateOpts{Issuer: m.factors.issuer, AccountName: accountLabel(u), Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: secret}
	key, err := totp.Generate(opts)
	if err != nil {
		return nil, fmt.Errorf("loginkit: begin TOTP: %w", err)
	}
	if secret == nil {
		secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
		if err != nil {
			return nil, fmt.Errorf("loginkit: begin TOTP: %w", err)
		}
		s := st.session.Clone()
		if s.Values == nil {
			s.Values = map[string]string{}
		}
		s.Values[enrolValue] = m.factors.sealString(sealPurposeEnrolment, u.UserID(), secret)
		if err := m.updateSession(ctx, w, s); err != nil {
			return nil, fmt.Errorf("loginkit: begin TOTP: save session: %w", err)
		}
		st.session = s
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("loginkit: begin TOTP: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("loginkit: begin TOTP: QR code: %w", err)
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRCode: buf.Bytes()}, nil
}

// ConfirmTOTP enables the authenticator app offered by BeginTOTP once the
// user has typed a correct code from it (ErrInvalidCode otherwise), and
// returns a new set of recovery codes to show the user once: only their
// hashes are stored. The confirming code counts as used, and the session
// is recorded as having passed the second factor. Every other login of
// the user, remember tokens included, is ended (they passed only the
// password), as LogoutOthers does: this session is kept, under a new
// token, no longer remembered. Should that fail, the factor stays on and
// the error is returned; RegenerateRecoveryCodes gives the codes anew.
// Wrong codes count
// against the same limits as at login. It needs a fresh session
// (ErrNeedsRefresh otherwise, like BeginTOTP). It returns ErrUnauthorized
// for an anonymous request and ErrNotFound when no enrolment was begun in
// this session.
func (m *Manager[U]) ConfirmTOTP(w http.ResponseWriter, r *http.Request, code string) ([]string, error) {
	u, st, err := m.freshFactorUser(r)
	if err != nil {
		return nil, err
	}
	v := st.session.Values[enrolValue]
	if v == "" {
		return nil, fmt.Errorf("%w: no TOTP enrolment in progress (BeginTOTP)", ErrNotFound)
	}
	secret, err := m.factors.openString(sealPurposeEnrolment, u.UserID(), v)
	if err != nil {
		return nil, fmt.Errorf("%w: TOTP enrolment unreadable; begin again", ErrNotFound)
	}
	var codes []string
	err = m.factorStep(w, r, FactorTOTP, func(ctx context.Context, u U) error {
		now := m.now().UTC()
		step, err := matchTOTP(secret, code, now)
		if err != nil {
			return err
		}
		if on, err := m.hasTOTP(ctx, u.UserID()); err != nil {
			return err
		} else if on {
			return fmt.Errorf("%w: TOTP is already enabled", ErrDuplicate)
		}
		if err := m.factors.store.SetTOTP(ctx, u.UserID(), m.factors.seal(sealPurposeTOTP, u.UserID(), secret), step, now); err != nil {
			return fmt.Errorf("loginkit: confirm TOTP: %w", err)
		}
		codes, err = m.newRecoveryCodes(ctx, u.UserID())
		return err
	})
	if err != nil {
		return nil, err
	}
	// factorStep rotated the session; drop the enrolment from it.
	if st.session != nil && st.session.Values[enrolValue] != "" {
		s := st.session.Clone()
		delete(s.Values, enrolValue)
		if err := m.updateSession(r.Context(), w, s); err != nil {
			m.logger.WarnContext(r.Context(), "loginkit: could not clear TOTP enrolment from session", "error", err)
		} else {
			st.session = s
		}
	}
	// The user's other logins passed only the password: end them, and
	// keep this one (rotated, and no longer remembered).
	if err := m.endLoginsWithoutFactor(w, r, st); err != nil {
		return nil, fmt.Errorf("loginkit: confirm TOTP: end the logins made without it: %w", err)
	}
	if m.hooks.SecondFactorEnrolled != nil {
		m.hooks.SecondFactorEnrolled(r, u, FactorTOTP)
	}
	return codes, nil
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
func (m *Manager[U]) VerifyTOTP(w http.ResponseWriter, r *http.Request, code string) error {
	return m.factorStep(w, r, FactorTOTP, func(ctx context.Context, u U) error {
		f, err := m.factors.store.GetSecondFactor(ctx, u.UserID())
		if errors.Is(err, ErrNotFound) || (err == nil && len(f.TOTPSecret) == 0) {
			return fmt.Errorf("%w: no authenticator app enrolled", ErrInvalidCode)
		}
		if err != nil {
			return fmt.Errorf("loginkit: verify TOTP: %w", err)
		}
		secret, err := m.factors.open(sealPurposeTOTP, u.UserID(), f.TOTPSecret)
		if err != nil {
			m.logger.ErrorContext(ctx, "loginkit: cannot open TOTP secret", "user", u.UserID(), "error", err)
			return fmt.Errorf("loginkit: verify TOTP: %w", err)
		}
		step, err := matchTOTP(secret, code, m.now())
		if err != nil {
			return err
		}
		if step <= f.TOTPLastStep {
			return fmt.Errorf("%w: %w", ErrInvalidCode, ErrReplayed)
		}
		switch err := m.factors.store.AcceptTOTPStep(ctx, u.UserID(), step); {
		case errors.Is(err, ErrReplayed):
			return fmt.Errorf("%w: %w", ErrInvalidCode, ErrReplayed)
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("%w: authenticator app removed", ErrInvalidCode)
		case err != nil:
			return fmt.Errorf("loginkit: verify TOTP: %w", err)
		}
		return nil
	})
}
