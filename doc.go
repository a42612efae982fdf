// Package loginkit is session-based login management for net/http: it keeps
// track of who is logged in, logs users in and out, protects handlers
// (Required, FreshRequired), remembers users across browser restarts,
// protects sessions from theft, and redirects to the login page with a
// safe "next" parameter — Flask-Login's job, plus what Flask-Login leaves
// to each application: storing users, hashing and checking passwords,
// server-side sessions that can be revoked, and redirect validation.
//
// The core types are interfaces: User and AccountUser (your user model,
// usually a struct embedding Account), UserStore, SessionStore, TokenStore,
// Hasher and Policy. Adapters in sub-packages implement the stores for
// memory, SQL (bun: PostgreSQL and SQLite), MongoDB, Redis and stateless
// cookies; package conformance checks any implementation, including your
// own. This package imports no database driver.
//
// The features beyond the password are packages of their own, built on a
// Manager: twofactor (TOTP apps and recovery codes; Builder.SecondFactor
// turns the second-factor step of Login on), passkey (WebAuthn; turned
// on by Builder.Passkeys), and recovery (password reset and email
// confirmation, sent through package mail, rate-limited with package
// ratelimit).
package loginkit
