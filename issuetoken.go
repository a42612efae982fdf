package loginkit

import (
	"context"
	"fmt"
	"time"
)

// IssueToken creates a split token for userID in s and returns the string
// to hand to its holder: "selector.validator", 22 + 1 + 43 characters of
// base64url. Only a hash of the validator is stored. Use it for API keys,
// password-reset and email-confirmation links; version is typically the
// user's Account.SessionVersion, so that a password change can be made to
// void the token (check it against the user when the token is used).
func IssueToken(ctx context.Context, s TokenStore, userID, purpose string, version int64, ttl time.Duration) (string, *Token, error) {
	if userID == "" || purpose == "" || ttl <= 0 {
		return "", nil, fmt.Errorf("%w: IssueToken needs a user ID, a purpose and a positive lifetime", ErrInvalid)
	}
	sel, val, secret := newSplitToken()
	now := time.Now().UTC()
	t := &Token{
		Selector:      sel,
		ValidatorHash: hashToken(val),
		UserID:        userID,
		Purpose:       purpose,
		Version:       version,
		CreatedAt:     now,
		ExpiresAt:     now.Add(ttl),
	}
	if err := s.Create(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t.clone(), nil
}

// VerifyToken checks a token string made by IssueToken without consuming
// it: it returns the stored token when the string is well-formed, the
// token exists, has not expired, has the given purpose and its validator
// matches (compared in constant time). Every refusal is ErrNotFound, so a
// caller cannot tell a wrong secret from a missing token; store failures
// are returned wrapped.
func VerifyToken(ctx context.Context, s TokenStore, presented, purpose string) (*Token, error) {
	sel, val, err := parseSplitToken(presented)
	if err != nil {
		return nil, ErrNotFound
	}
	t, err := s.Get(ctx, sel)
	if err != nil {
		return nil, err
	}
	if t.Purpose != purpose || !splitValidatorMatches(val, t.ValidatorHash) {
		return nil, ErrNotFound
	}
	return t, nil
}

// ConsumeToken is VerifyToken for single-use tokens: after the checks it
// consumes the token atomically, so that of several concurrent uses at
// most one succeeds. A wrong secret does not consume the token.
func ConsumeToken(ctx context.Context, s TokenStore, presented, purpose string) (*Token, error) {
	t, err := VerifyToken(ctx, s, presented, purpose)
	if err != nil {
		return nil, err
	}
	return s.Consume(ctx, t.Selector)
}

func (t *Token) clone() *Token {
	c := *t
	return &c
}
