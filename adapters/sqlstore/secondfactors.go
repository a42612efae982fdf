package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/uptrace/bun"
)

// secondFactorRow is a row of the <prefix>second_factors table: a user's
// sealed TOTP secret. Times are Unix milliseconds, 0 for the zero time.
type secondFactorRow struct {
	bun.BaseModel `bun:"table:second_factors,alias:f"`

	UserID    string `bun:"user_id,pk"`
	Secret    []byte `bun:"totp_secret,notnull"`
	LastStep  int64  `bun:"totp_last_step,notnull"`
	EnabledAt int64  `bun:"totp_enabled_at,notnull"`
}

// recoveryCodeRow is a row of the <prefix>recovery_codes table: one
// unused recovery code hash of a user.
type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:c"`

	UserID string `bun:"user_id,pk"`
	Hash   string `bun:"hash,pk"`
}

// SecondFactors is a loginkit.SecondFactorStore in two tables, which
// Migrate creates: <prefix>second_factors (one row per user with a TOTP
// secret, keyed by user ID) and <prefix>recovery_codes (one row per unused
// code, keyed by user ID and hash). The single-use rules are single
// statements: AcceptTOTPStep is an UPDATE ... WHERE totp_last_step < step,
// UseRecoveryCode a DELETE of one row, so the database's row locks decide
// between concurrent callers. A SecondFactors is safe for concurrent use.
type SecondFactors struct {
	db            *bun.DB
	factors, code string
	err           error // a bad option, answered by every method
}

var _ loginkit.SecondFactorStore = (*SecondFactors)(nil)

// NewSecondFactors returns a second-factor store in db's
// <prefix>second_factors and <prefix>recovery_codes tables (see
// WithPrefix). It sends no query until first used.
func NewSecondFactors(db *bun.DB, opts ...Option) *SecondFactors {
	c := newConfig(opts)
	return &SecondFactors{db: db, factors: c.secondFactorsTable(), code: c.recoveryCodesTable(), err: c.Err}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *SecondFactors) CheckConfig() error { return s.err }

// GetSecondFactor implements loginkit.SecondFactorStore with two SELECTs
// by primary key, in one read-only transaction.
func (s *SecondFactors) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	const op = "get second factor"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return nil, err
	}
	f := &loginkit.SecondFactor{UserID: userID}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var rows []secondFactorRow
		if err := tx.NewSelect().Model(&rows).ModelTableExpr("? AS f", bun.Ident(s.factors)).
			Where("f.user_id = ?", userID).Scan(ctx); err != nil {
			return err
		}
		if len(rows) == 1 {
			f.TOTPSecret, f.TOTPLastStep, f.TOTPEnabledAt = rows[0].Secret, rows[0].LastStep, storekit.TimeOrZero(rows[0].EnabledAt)
		}
		return tx.NewSelect().TableExpr("? AS c", bun.Ident(s.code)).Column("c.hash").
			Where("c.user_id = ?", userID).Scan(ctx, &f.RecoveryCodes)
	})
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	if storekit.NoSecondFactor(f) {
		return nil, errs.NotFound(op)
	}
	return f, nil
}

// SetTOTP implements loginkit.SecondFactorStore with one INSERT ... ON
// CONFLICT (user_id) DO UPDATE.
func (s *SecondFactors) SetTOTP(ctx context.Context, userID string, secret []byte, lastStep int64, enabledAt time.Time) error {
	const op = "set TOTP"
	if err := errs.CheckTOTP(ctx, op, s.err, userID, secret); err != nil {
		return err
	}
	r := secondFactorRow{UserID: userID, Secret: slices.Clone(secret), LastStep: lastStep, EnabledAt: storekit.MillisOrZero(enabledAt)}
	_, err := s.db.NewInsert().Model(&r).ModelTableExpr("?", bun.Ident(s.factors)).
		On("CONFLICT (user_id) DO UPDATE").
		Set("totp_secret = EXCLUDED.totp_secret").
		Set("totp_last_step = EXCLUDED.totp_last_step").
		Set("totp_enabled_at = EXCLUDED.totp_enabled_at").
		Exec(ctx)
	return wrap(ctx, op, err)
}

// AcceptTOTPStep implements loginkit.SecondFactorStore with one UPDATE
// ... WHERE totp_last_step < step; when it changes no row, a SELECT tells
// a replay (loginkit.ErrReplayed) from a user without TOTP
// (loginkit.ErrNotFound).
func (s *SecondFactors) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	const op = "accept TOTP step"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	res, err := s.db.NewUpdate().TableExpr("?", bun.Ident(s.factors)).
		Set("totp_last_step = ?", step).
		Where("user_id = ? AND totp_last_step < ?", userID, step).
		Exec(ctx)
	return replayedUnlessOne(ctx, op, res, err, s.db.NewSelect().TableExpr("?", bun.Ident(s.factors)).Where("user_id = ?", userID))
}

// SetRecoveryCodes implements loginkit.SecondFactorStore: a DELETE of the
// user's codes and one INSERT of the new ones, in one transaction.
func (s *SecondFactors) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	const op = "set recovery codes"
	if err := errs.CheckRecoveryCodes(ctx, op, s.err, userID, hashes); err != nil {
		return err
	}
	rows := make([]recoveryCodeRow, 0, len(hashes))
	for _, h := range hashes {
		rows = append(rows, recoveryCodeRow{UserID: userID, Hash: h})
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().TableExpr("?", bun.Ident(s.code)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		_, err := tx.NewInsert().Model(&rows).ModelTableExpr("?", bun.Ident(s.code)).Exec(ctx)
		return err
	})
	return wrap(ctx, op, err)
}

// UseRecoveryCode implements loginkit.SecondFactorStore with one DELETE
// of the code's row: of concurrent callers, only the one whose DELETE
// removed the row succeeds.
func (s *SecondFactors) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	const op = "use recovery code"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	if strings.IndexByte(hash, 0) >= 0 {
		// No stored hash holds a NUL byte (a text column cannot), and the
		// query builder refuses to write one into SQL: a hash with one is
		// simply not in the set.
		return errs.NotFound(op)
	}
	res, err := s.db.NewDelete().TableExpr("?", bun.Ident(s.code)).
		Where("user_id = ? AND hash = ?", userID, hash).Exec(ctx)
	return one(ctx, op, res, err)
}

// DeleteSecondFactor implements loginkit.SecondFactorStore: it deletes
// the user's rows from both tables in one transaction.
func (s *SecondFactors) DeleteSecondFactor(ctx context.Context, userID string) error {
	const op = "delete second factor"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, t := range []string{s.factors, s.code} {
			if _, err := tx.NewDelete().TableExpr("?", bun.Ident(t)).Where("user_id = ?", userID).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(ctx, op, err)
}
