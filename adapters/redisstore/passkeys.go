package redisstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/redis/go-redis/v9"
)

// Passkeys is a loginkit.PasskeyStore in Redis. Each passkey is a hash
// <prefix>pk:<hex credential ID> (hex, so that no credential ID can form
// a Cluster hash tag), and each user has a set <prefix>{u:<id>}:passkeys
// of their credential IDs. Neither expires. Every change to a passkey is
// one Lua script on its own key, so Redis runs it atomically: creation
// refuses an existing key (a credential ID is unique across users),
// rename and delete check the owner, and UpdateSignCount compares the
// stored count before setting it. The per-user set lives in another slot;
// it is written before a passkey is created and cleaned after one is
// deleted, so it may name passkeys that are gone or someone else's, which
// ListPasskeys and DeleteUserPasskeys check and skip, but never misses
// one. A Passkeys is safe for concurrent use.
type Passkeys struct {
	base
}

var _ loginkit.PasskeyStore = (*Passkeys)(nil)

// NewPasskeys returns a passkey store that keeps its keys in rdb. It
// sends no command until first used.
func NewPasskeys(rdb redis.UniversalClient, opts ...Option) *Passkeys {
	return &Passkeys{newBase(rdb, newConfig(opts))}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *Passkeys) CheckConfig() error { return s.err }

func (s *Passkeys) key(id []byte) string       { return s.prefix + "pk:" + hex.EncodeToString(id) }
func (s *Passkeys) index(userID string) string { return s.prefix + "{u:" + userID + "}:passkeys" }

// Fields of a passkey hash.
const (
	pkUser       = "u"
	pkPublicKey  = "k"
	pkCount      = "c"
	pkTransports = "t"
	pkEligible   = "be"
	pkBackedUp   = "bs"
	pkName       = "n"
	pkCreated    = "ca"
	pkUsed       = "lu"
)

// createPasskeyScript creates the hash unless it exists.
// KEYS[1] passkey hash; ARGV field, value pairs.
var createPasskeyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 'ok'
`)

// ownedScript renames (ARGV[2] 'rename', ARGV[3] the name) or deletes
// (ARGV[2] 'delete') the passkey if it belongs to ARGV[1].
// KEYS[1] passkey hash.
var ownedScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'u') ~= ARGV[1] then return 'not-found' end
if ARGV[2] == 'rename' then
  redis.call('HSET', KEYS[1], 'n', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 'ok'
`)

// signCountScript sets the count, backed-up flag and last use if the
// stored count is ARGV[1] (compared as decimal strings).
// KEYS[1] passkey hash; ARGV old, new, backed up, used at.
var signCountScript = redis.NewScript(`
local c = redis.call('HGET', KEYS[1], 'c')
if not c then return 'not-found' end
if c ~= ARGV[1] then return 'replayed' end
redis.call('HSET', KEYS[1], 'c', ARGV[2], 'bs', ARGV[3], 'lu', ARGV[4])
return 'ok'
`)

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func fromMillisOrZero(v string) (time.Time, error) {
	ms, err := strconv.ParseInt(v, 10, 64)
	return storekit.TimeOrZero(ms), err
}

// scriptResult maps a script's answer to the contract's errors.
func scriptResult(op, res string, err error) error {
	switch {
	case err != nil:
		return wrap(op, err)
	case res == "ok":
		return nil
	case res == "not-found":
		return errs.NotFound(op)
	case res == "duplicate":
		return wrap(op, loginkit.ErrDuplicate)
	case res == "replayed":
		return wrap(op, loginkit.ErrReplayed)
	}
	return errs.Wrap(op, errors.New("unexpected script answer "+res))
}

// CreatePasskey implements loginkit.PasskeyStore: SADD to the user's set,
// then one script that creates the hash unless the credential ID exists.
func (s *Passkeys) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	const op = "create passkey"
	if err := errs.CheckPasskey(ctx, op, s.err, p); err != nil {
		return err
	}
	tr, _ := json.Marshal(p.Transports) // a []string always encodes
	member := hex.EncodeToString(p.CredentialID)
	if err := s.rdb.SAdd(ctx, s.index(p.UserID), member).Err(); err != nil {
		return wrap(op, err)
	}
	res, err := createPasskeyScript.Run(ctx, s.rdb, []string{s.key(p.CredentialID)},
		pkUser, p.UserID, pkPublicKey, string(p.PublicKey), pkCount, strconv.FormatUint(uint64(p.SignCount), 10),
		pkTransports, string(tr), pkEligible, flag(p.BackupEligible), pkBackedUp, flag(p.BackedUp), pkName, p.Name,
		pkCreated, storekit.MillisOrZero(p.CreatedAt), pkUsed, storekit.MillisOrZero(p.LastUsedAt)).Text()
	err = scriptResult(op, res, err)
	if errors.Is(err, loginkit.ErrDuplicate) {
		// Take the member back unless the existing passkey is this
		// user's own (whose member it is).
		if owner, gerr := s.rdb.HGet(ctx, s.key(p.CredentialID), pkUser).Result(); gerr == nil && owner != p.UserID {
			_ = s.rdb.SRem(context.WithoutCancel(ctx), s.index(p.UserID), member).Err()
		}
	}
	return err
}

// decode turns a passkey hash into a Passkey.
func decodePasskey(id []byte, h map[string]string) (*loginkit.Passkey, error) {
	p := &loginkit.Passkey{
		CredentialID: id, UserID: h[pkUser], PublicKey: []byte(h[pkPublicKey]), Name: h[pkName],
		BackupEligible: h[pkEligible] == "1", BackedUp: h[pkBackedUp] == "1",
	}
	c, err := strconv.ParseUint(h[pkCount], 10, 32)
	if err != nil {
		return nil, err
	}
	p.SignCount = uint32(c)
	if t := h[pkTransports]; t != "" && t != "null" {
		if err := json.Unmarshal([]byte(t), &p.Transports); err != nil {
			return nil, err
		}
	}
	if p.CreatedAt, err = fromMillisOrZero(h[pkCreated]); err != nil {
		return nil, err
	}
	if p.LastUsedAt, err = fromMillisOrZero(h[pkUsed]); err != nil {
		return nil, err
	}
	return p, nil
}

// GetPasskey implements loginkit.PasskeyStore with one HGETALL.
func (s *Passkeys) GetPasskey(ctx context.Context, credentialID []byte) (*loginkit.Passkey, error) {
	const op = "get passkey"
	if err := errs.ReadyCredential(ctx, op, s.err, credentialID); err != nil {
		return nil, err
	}
	h, err := s.rdb.HGetAll(ctx, s.key(credentialID)).Result()
	if err != nil {
		return nil, wrap(op, err)
	}
	if h[pkUser] == "" {
		return nil, errs.NotFound(op)
	}
	p, err := decodePasskey(slices.Clone(credentialID), h)
	if err != nil {
		return nil, wrap(op, err)
	}
	return p, nil
}

// owned reads the user's set and the passkeys it names (a pipeline),
// returning the user's passkeys and the members that name none of theirs.
func (s *Passkeys) owned(ctx context.Context, userID string) (list []*loginkit.Passkey, stale []string, err error) {
	members, err := s.rdb.SMembers(ctx, s.index(userID)).Result()
	if err != nil || len(members) == 0 {
		return nil, nil, err
	}
	pipe := s.rdb.Pipeline()
	gets := make([]*redis.MapStringStringCmd, len(members))
	for i, m := range members {
		gets[i] = pipe.HGetAll(ctx, s.prefix+"pk:"+m)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, err
	}
	for i, m := range members {
		h := gets[i].Val()
		id, derr := hex.DecodeString(m)
		if derr != nil || h[pkUser] != userID {
			stale = append(stale, m)
			continue
		}
		p, err := decodePasskey(id, h)
		if err != nil {
			return nil, nil, err
		}
		list = append(list, p)
	}
	return list, stale, nil
}

// ListPasskeys implements loginkit.PasskeyStore: SMEMBERS of the user's
// set, then HGETALL of each passkey in one pipeline, keeping the user's.
func (s *Passkeys) ListPasskeys(ctx context.Context, userID string) ([]*loginkit.Passkey, error) {
	const op = "list passkeys"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return nil, err
	}
	list, stale, err := s.owned(ctx, userID)
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(stale) > 0 {
		_ = s.rdb.SRem(context.WithoutCancel(ctx), s.index(userID), stale).Err()
	}
	storekit.SortPasskeys(list)
	if list == nil {
		list = []*loginkit.Passkey{}
	}
	return list, nil
}

// RenamePasskey implements loginkit.PasskeyStore with one script that
// checks the owner.
func (s *Passkeys) RenamePasskey(ctx context.Context, userID string, credentialID []byte, name string) error {
	const op = "rename passkey"
	if err := errs.ReadyOwnCredential(ctx, op, s.err, userID, credentialID); err != nil {
		return err
	}
	res, err := ownedScript.Run(ctx, s.rdb, []string{s.key(credentialID)}, userID, "rename", name).Text()
	return scriptResult(op, res, err)
}

// UpdateSignCount implements loginkit.PasskeyStore with one script
// (compare and set).
func (s *Passkeys) UpdateSignCount(ctx context.Context, credentialID []byte, old, count uint32, backedUp bool, usedAt time.Time) error {
	const op = "update sign count"
	if err := errs.ReadyCredential(ctx, op, s.err, credentialID); err != nil {
		return err
	}
	res, err := signCountScript.Run(ctx, s.rdb, []string{s.key(credentialID)},
		strconv.FormatUint(uint64(old), 10), strconv.FormatUint(uint64(count), 10), flag(backedUp), storekit.MillisOrZero(usedAt)).Text()
	return scriptResult(op, res, err)
}

// DeletePasskey implements loginkit.PasskeyStore: one script that checks
// the owner and deletes the hash, then SREM from the user's set.
func (s *Passkeys) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	const op = "delete passkey"
	if err := errs.ReadyOwnCredential(ctx, op, s.err, userID, credentialID); err != nil {
		return err
	}
	res, err := ownedScript.Run(ctx, s.rdb, []string{s.key(credentialID)}, userID, "delete").Text()
	if err := scriptResult(op, res, err); err != nil {
		return err
	}
	_ = s.rdb.SRem(context.WithoutCancel(ctx), s.index(userID), hex.EncodeToString(credentialID)).Err()
	return nil
}

// DeleteUserPasskeys implements loginkit.PasskeyStore: the owner-checking
// delete script for every passkey the user's set names, then DEL of the
// set. A passkey created while it runs may survive.
func (s *Passkeys) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	const op = "delete user passkeys"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return 0, err
	}
	members, err := s.rdb.SMembers(ctx, s.index(userID)).Result()
	if err != nil {
		return 0, wrap(op, err)
	}
	n := 0
	for _, m := range members {
		res, err := ownedScript.Run(ctx, s.rdb, []string{s.prefix + "pk:" + m}, userID, "delete").Text()
		if err := scriptResult(op, res, err); err == nil {
			n++
		} else if !errors.Is(err, loginkit.ErrNotFound) {
			return n, err
		}
	}
	if err := s.rdb.SRem(ctx, s.index(userID), toAny(members)...).Err(); len(members) > 0 && err != nil {
		return n, wrap(op, err)
	}
	return n, nil
}
