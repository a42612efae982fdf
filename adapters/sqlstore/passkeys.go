package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/uptrace/bun"
)

// passkeyRow is a row of the <prefix>passkeys table: one WebAuthn
// credential, keyed by its credential ID (bytes, compared byte for byte).
// Times are Unix milliseconds, 0 for the zero time; transports are a JSON
// array.
type passkeyRow struct {
	bun.BaseModel `bun:"table:passkeys,alias:p"`

	CredentialID   []byte `bun:"credential_id,pk"`
	UserID         string `bun:"user_id,notnull"`
	PublicKey      []byte `bun:"public_key,notnull"`
	SignCount      int64  `bun:"sign_count,notnull"`
	Transports     string `bun:"transports,notnull"`
	BackupEligible bool   `bun:"backup_eligible,notnull"`
	BackedUp       bool   `bun:"backed_up,notnull"`
	Name           string `bun:"name,notnull"`
	CreatedAt      int64  `bun:"created_at,notnull"`
	LastUsedAt     int64  `bun:"last_used_at,notnull"`
}

func (r *passkeyRow) passkey() *loginkit.Passkey {
	p := &loginkit.Passkey{
		CredentialID: r.CredentialID, UserID: r.UserID, PublicKey: r.PublicKey, SignCount: uint32(r.SignCount),
		BackupEligible: r.BackupEligible, BackedUp: r.BackedUp, Name: r.Name,
		CreatedAt: storekit.TimeOrZero(r.CreatedAt), LastUsedAt: storekit.TimeOrZero(r.LastUsedAt),
	}
	if r.Transports != "" {
		_ = json.Unmarshal([]byte(r.Transports), &p.Transports)
	}
	return p
}

// Passkeys is a loginkit.PasskeyStore in the <prefix>passkeys table, which
// Migrate creates: one row per credential, the credential ID its primary
// key (so lookup by ID is unique and indexed, and a duplicate INSERT fails
// on the key), with an index on (user_id, created_at) for listing.
// UpdateSignCount is one UPDATE ... WHERE sign_count = old, so the
// database's row lock decides between concurrent callers. A Passkeys is
// safe for concurrent use.
type Passkeys struct {
	base
}

var _ loginkit.PasskeyStore = (*Passkeys)(nil)

// NewPasskeys returns a passkey store in db's <prefix>passkeys table (see
// WithPrefix). It sends no query until first used.
func NewPasskeys(db *bun.DB, opts ...Option) *Passkeys {
	return &Passkeys{newBase(db, opts, config.passkeysTable, "p")}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *Passkeys) CheckConfig() error { return s.err }

// CreatePasskey implements loginkit.PasskeyStore with one INSERT; a
// credential ID already stored fails on the primary key
// (loginkit.ErrDuplicate).
func (s *Passkeys) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	const op = "create passkey"
	if err := errs.CheckPasskey(ctx, op, s.err, p); err != nil {
		return err
	}
	var tr []byte
	if p.Transports != nil {
		tr, _ = json.Marshal(p.Transports) // a []string always encodes
	}
	r := passkeyRow{
		CredentialID: slices.Clone(p.CredentialID), UserID: p.UserID, PublicKey: slices.Clone(p.PublicKey),
		SignCount: int64(p.SignCount), Transports: string(tr), BackupEligible: p.BackupEligible, BackedUp: p.BackedUp,
		Name: p.Name, CreatedAt: storekit.MillisOrZero(p.CreatedAt), LastUsedAt: storekit.MillisOrZero(p.LastUsedAt),
	}
	_, err := s.db.NewInsert().Model(&r).ModelTableExpr("?", bun.Ident(s.table)).Exec(ctx)
	return wrap(ctx, op, err)
}

// GetPasskey implements loginkit.PasskeyStore with one SELECT by primary
// key.
func (s *Passkeys) GetPasskey(ctx context.Context, credentialID []byte) (*loginkit.Passkey, error) {
	const op = "get passkey"
	if err := errs.ReadyCredential(ctx, op, s.err, credentialID); err != nil {
		return nil, err
	}
	var r passkeyRow
	err := s.db.NewSelect().Model(&r).ModelTableExpr(s.tableExpr()).
		Where("p.credential_id = ?", credentialID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return r.passkey(), nil
}

// ListPasskeys implements loginkit.PasskeyStore with one SELECT on the
// (user_id, created_at) index.
func (s *Passkeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	const op = "list passkeys"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return nil, err
	}
	var rows []passkeyRow
	err := s.db.NewSelect().Model(&rows).ModelTableExpr(s.tableExpr()).
		Where("p.user_id = ?", userID).Order("p.created_at", "p.credential_id").Scan(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	out := make([]*loginkit.Passkey, len(rows))
	for i := range rows {
		out[i] = rows[i].passkey()
	}
	return out, nil
}

// RenamePasskey implements loginkit.PasskeyStore with one UPDATE of the
// row with this credential ID and user ID.
func (s *Passkeys) RenamePasskey(ctx context.Context, userID string, credentialID []byte, name string) error {
	const op = "rename passkey"
	if err := errs.ReadyOwnCredential(ctx, op, s.err, userID, credentialID); err != nil {
		return err
	}
	res, err := s.db.NewUpdate().TableExpr("?", bun.Ident(s.table)).Set("name = ?", name).
		Where("credential_id = ? AND user_id = ?", credentialID, userID).Exec(ctx)
	return one(ctx, op, res, err)
}

// UpdateSignCount implements loginkit.PasskeyStore with one UPDATE ...
// WHERE sign_count = old; when it changes no row, a SELECT tells a moved
// counter (loginkit.ErrReplayed) from an unknown credential
// (loginkit.ErrNotFound).
func (s *Passkeys) UpdateSignCount(ctx context.Context, credentialID []byte, old, count uint32, backedUp bool, usedAt time.Time) error {
	const op = "update sign count"
	if err := errs.ReadyCredential(ctx, op, s.err, credentialID); err != nil {
		return err
	}
	res, err := s.db.NewUpdate().TableExpr("?", bun.Ident(s.table)).
		Set("sign_count = ?", int64(count)).Set("backed_up = ?", backedUp).Set("last_used_at = ?", storekit.MillisOrZero(usedAt)).
		Where("credential_id = ? AND sign_count = ?", credentialID, int64(old)).Exec(ctx)
	return replayedUnlessOne(ctx, op, res, err, s.db.NewSelect().TableExpr("?", bun.Ident(s.table)).Where("credential_id = ?", credentialID))
}

// DeletePasskey implements loginkit.PasskeyStore with one DELETE of the
// row with this credential ID and user ID.
func (s *Passkeys) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	const op = "delete passkey"
	if err := errs.ReadyOwnCredential(ctx, op, s.err, userID, credentialID); err != nil {
		return err
	}
	res, err := s.db.NewDelete().TableExpr("?", bun.Ident(s.table)).
		Where("credential_id = ? AND user_id = ?", credentialID, userID).Exec(ctx)
	return one(ctx, op, res, err)
}

// DeleteUserPasskeys implements loginkit.PasskeyStore with one DELETE of
// the user's rows.
func (s *Passkeys) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	const op = "delete user passkeys"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return 0, err
	}
	res, err := s.db.NewDelete().TableExpr("?", bun.Ident(s.table)).Where("user_id = ?", userID).Exec(ctx)
	return affected(ctx, op, res, err)
}
