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

// totpEnrolment is a TOTP secret offered to the user, not yet enabled:
// show the QR code (or the key as text) and ask for a code from the app
// to confirm it with ConfirmTOTP.
type totpEnrolment struct {
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

// beginTOTP implements twofactor.Service.BeginTOTP, which documents its contract.
func (m *Manager[U]) beginTOTP(w http.ResponseWriter, r *http.Request) (*totpEnrolment, error) {
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
	return &totpEnrolment{Secret: key.Secret(), URL: key.URL(), QRCode: buf.Bytes()}, nil
}

// confirmTOTP implements twofactor.Service.ConfirmTOTP, which documents its contract.
func (m *Manager[U]) confirmTOTP(w http.ResponseWriter, r *http.Request, code string) ([]string, error) {
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

// verifyTOTP implements twofactor.Service.VerifyTOTP, which documents its contract.
func (m *Manager[U]) verifyTOTP(w http.ResponseWriter, r *http.Request, code string) error {
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
