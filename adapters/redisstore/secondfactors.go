package redisstore

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/redis/go-redis/v9"
)

// SecondFactors is a loginkit.SecondFactorStore in Redis. Each user has
// up to two keys sharing the user's hash tag, so that they live in one
// Cluster slot: a hash <prefix>{u:<id>}:totp (the sealed secret, the last
// accepted step and the enabled time) and a set <prefix>{u:<id>}:codes of
// unused recovery code hashes. Neither expires. AcceptTOTPStep is a Lua
// script (compare and set in one step) and UseRecoveryCode a single SREM,
// so Redis runs each atomically. A SecondFactors is safe for concurrent
// use.
type SecondFactors struct {
	base
}

var _ loginkit.SecondFactorStore = (*SecondFactors)(nil)

// NewSecondFactors returns a second-factor store that keeps its keys in
// rdb. It sends no command until first used.
func NewSecondFactors(rdb redis.UniversalClient, opts ...Option) *SecondFactors {
	return &SecondFactors{newBase(rdb, newConfig(opts))}
}

// CheckConfig reports a bad option given to the constructor, as an error
// matching loginkit.ErrConfig (see loginkit.ConfigChecker).
func (s *SecondFactors) CheckConfig() error { return s.err }

func totpKey(prefix, userID string) string  { return prefix + "{u:" + userID + "}:totp" }
func codesKey(prefix, userID string) string { return prefix + "{u:" + userID + "}:codes" }

// Fields of the TOTP hash.
const (
	totpSecret  = "s"
	totpStep    = "n"
	totpEnabled = "e"
)

// acceptStepScript sets the last accepted step if the new one is greater.
// Steps are compared as Lua numbers, exact below 2^53 (TOTP steps are
// about 2^26).
//
// KEYS[1] TOTP hash; ARGV[1] step.
var acceptStepScript = redis.NewScript(`
local last = redis.call('HGET', KEYS[1], 'n')
if not last then return 'not-found' end
if tonumber(ARGV[1]) <= tonumber(last) then return 'replayed' end
redis.call('HSET', KEYS[1], 'n', ARGV[1])
return 'ok'
`)

// GetSecondFactor implements loginkit.SecondFactorStore: HGETALL and
// SMEMBERS in one MULTI.
func (s *SecondFactors) GetSecondFactor(ctx context.Context, userID string) (*loginkit.SecondFactor, error) {
	const op = "get second factor"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return nil, err
	}
	var totp *redis.MapStringStringCmd
	var codes *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		totp = p.HGetAll(ctx, totpKey(s.prefix, userID))
		codes = p.SMembers(ctx, codesKey(s.prefix, userID))
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	f := &loginkit.SecondFactor{UserID: userID, RecoveryCodes: codes.Val()}
	if h := totp.Val(); h[totpSecret] != "" {
		f.TOTPSecret = []byte(h[totpSecret])
		if f.TOTPLastStep, err = strconv.ParseInt(h[totpStep], 10, 64); err != nil {
			return nil, wrap(op, err)
		}
		if f.TOTPEnabledAt, err = fromMillisOrZero(h[totpEnabled]); err != nil {
			return nil, wrap(op, err)
		}
	}
	if storekit.NoSecondFactor(f) {
		return nil, wrap(op, redis.Nil)
	}
	if len(f.RecoveryCodes) == 0 {
		f.RecoveryCodes = nil
	}
	return f, nil
}

// SetTOTP implements loginkit.SecondFactorStore with one HSET.
func (s *SecondFactors) SetTOTP(ctx context.Context, userID string, secret []byte, lastStep int64, enabledAt time.Time) error {
	const op = "set TOTP"
	if err := errs.CheckTOTP(ctx, op, s.err, userID, secret); err != nil {
		return err
	}
	err := s.rdb.HSet(ctx, totpKey(s.prefix, userID), totpSecret, slices.Clone(secret), totpStep, lastStep,
		totpEnabled, storekit.MillisOrZero(enabledAt)).Err()
	return wrap(op, err)
}

// AcceptTOTPStep implements loginkit.SecondFactorStore with one script.
func (s *SecondFactors) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	const op = "accept TOTP step"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	res, err := acceptStepScript.Run(ctx, s.rdb, []string{totpKey(s.prefix, userID)}, step).Text()
	if err != nil {
		return wrap(op, err)
	}
	switch res {
	case "ok":
		return nil
	case "replayed":
		return wrap(op, loginkit.ErrReplayed)
	}
	return wrap(op, redis.Nil)
}

// SetRecoveryCodes implements loginkit.SecondFactorStore: DEL and SADD in
// one MULTI.
func (s *SecondFactors) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	const op = "set recovery codes"
	if err := errs.CheckRecoveryCodes(ctx, op, s.err, userID, hashes); err != nil {
		return err
	}
	k := codesKey(s.prefix, userID)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		if len(hashes) > 0 {
			p.SAdd(ctx, k, toAny(hashes)...)
		}
		return nil
	})
	return wrap(op, err)
}

// UseRecoveryCode implements loginkit.SecondFactorStore with one SREM.
func (s *SecondFactors) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	const op = "use recovery code"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	n, err := s.rdb.SRem(ctx, codesKey(s.prefix, userID), hash).Result()
	if err != nil {
		return wrap(op, err)
	}
	if n != 1 {
		return wrap(op, redis.Nil)
	}
	return nil
}

// DeleteSecondFactor implements loginkit.SecondFactorStore with one DEL
// of both keys.
func (s *SecondFactors) DeleteSecondFactor(ctx context.Context, userID string) error {
	const op = "delete second factor"
	if err := errs.ReadyUser(ctx, op, s.err, userID); err != nil {
		return err
	}
	return wrap(op, s.rdb.Del(ctx, totpKey(s.prefix, userID), codesKey(s.prefix, userID)).Err())
}
