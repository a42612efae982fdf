package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/loginkit/loginkit"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix stores use unless WithPrefix says
// otherwise.
const DefaultPrefix = "loginkit:"

// Option configures a store made by NewSessions, NewTokens or NewUsers.
type Option func(*config)

type config struct {
	prefix string
	near   *NearCacheConfig // WithNearCache; sessions only
}

// WithPrefix sets the prefix every key of the store begins with (default
// DefaultPrefix), so that several applications, or several independent
// sets of stores, can share one Redis. Give the Sessions, Tokens and Users
// of one application the same prefix. An empty prefix is allowed.
//
// The prefix must not contain '{' or '}', which would upset the hash tags
// that keep related keys in one Cluster slot: WithPrefix panics if it
// does, since that is a programming error caught at start-up.
func WithPrefix(prefix string) Option {
	if strings.ContainsAny(prefix, "{}") {
		panic(fmt.Sprintf("redisstore: key prefix %q must not contain '{' or '}'", prefix))
	}
	return func(c *config) { c.prefix = prefix }
}

func newConfig(opts []Option) config {
	c := config{prefix: DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Key names. See the package documentation for the layout and the slots
// each key lands in.

func sessionKey(prefix, key string) string { return prefix + "s:" + key }

func tokenKey(prefix, selector string) string { return prefix + "t:" + selector }

func sessionIndexKey(prefix, userID string) string {
	return prefix + "{u:" + userID + "}:sessions"
}

func tokenIndexKey(prefix, userID string) string {
	return prefix + "{u:" + userID + "}:tokens"
}

func userKey(prefix, id string) string { return prefix + "{users}:id:" + id }

func loginsKey(prefix string) string { return prefix + "{users}:logins" }

func orderKey(prefix string) string { return prefix + "{users}:order" }

// wrap turns a go-redis error into a store error: redis.Nil becomes
// loginkit.ErrNotFound, anything else is wrapped with the operation's name.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: %s: %w", op, loginkit.ErrNotFound)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// ctxErr reports a context that is already done, so that no command is
// sent for a request that has been abandoned.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return nil
}

// invalid is the error for a value a store refuses.
func invalid(op, why string) error {
	return fmt.Errorf("redisstore: %s: %s: %w", op, why, loginkit.ErrInvalid)
}

// duplicate is the error for a write that would break a uniqueness rule.
func duplicate(op, what string) error {
	return fmt.Errorf("redisstore: %s: %s already taken: %w", op, what, loginkit.ErrDuplicate)
}
