package redisstore

import (
	"errors"
	"strings"

	"github.com/loginkit/loginkit/internal/storekit"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix stores use unless WithPrefix says
// otherwise.
const DefaultPrefix = "loginkit:"

// Option configures a store made by NewSessions, NewTokens or NewUsers.
type Option func(*config)

type config struct {
	storekit.Config
	near *NearCacheConfig // WithNearCache; sessions only
}

// errs makes the package's errors.
const errs = storekit.Errs("redisstore")

// WithPrefix sets the prefix every key of the store begins with (default
// DefaultPrefix), so that several applications, or several independent
// sets of stores, can share one Redis. Give the Sessions, Tokens and Users
// of one application the same prefix. An empty prefix is allowed.
//
// The prefix must not contain '{' or '}', which would upset the hash tags
// that keep related keys in one Cluster slot. A store given such a prefix
// reports an error matching loginkit.ErrConfig from CheckConfig (which
// loginkit's Build calls) and from every method.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.SetPrefix(prefix, checkPrefix(prefix)) }
}

// checkPrefix returns the error for a prefix WithPrefix refuses.
func checkPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return errs.Config("key prefix %q must not contain '{' or '}'", prefix)
	}
	return nil
}

func newConfig(opts []Option) config {
	return storekit.Apply(config{Config: storekit.Config{Prefix: DefaultPrefix}}, opts)
}

// base is what every store of the package holds.
type base struct {
	rdb    redis.UniversalClient
	prefix string
	err    error // a bad option, answered by every method
}

func newBase(rdb redis.UniversalClient, c config) base {
	return base{rdb: rdb, prefix: c.Prefix, err: c.Err}
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
		return errs.NotFound(op)
	}
	return errs.Wrap(op, err)
}
