package recovery

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/seam"
	"github.com/loginkit/loginkit/mail"
	"github.com/loginkit/loginkit/ratelimit"
)

// loginkit.Token purposes of account recovery.
const (
	// PurposeReset marks a password-reset token.
	PurposeReset = "reset"
	// PurposeConfirmEmail marks an email-confirmation token.
	PurposeConfirmEmail = "confirm-email"
)

// Defaults used by New for options left unset.
const (
	DefaultResetTTL    = 30 * time.Minute
	DefaultConfirmTTL  = 48 * time.Hour
	DefaultResetPath   = "/reset"
	DefaultConfirmPath = "/confirm"
	// DefaultMaxDeliveries bounds the reset messages being sent at once
	// (Options.MaxDeliveries).
	DefaultMaxDeliveries = 64
	// deliveryTimeout bounds one background delivery.
	deliveryTimeout = time.Minute
	// maxLoginLen is the longest login name RequestReset looks up.
	maxLoginLen = 512 // the longest login name an Account accepts
)

// internals are the parts of a Manager recovery is built on (see
// package internal/seam); the Manager's methods of the same names keep
// their contracts.
type internals[U loginkit.User] interface {
	NeedsAccounts() error
	Now() time.Time
	ClientIP(r *http.Request) string
	Logger() *slog.Logger
	Users() loginkit.UserStore[U]
	Tokens() loginkit.TokenStore
	IsNil(u U) bool
	Account(u U) *loginkit.Account
	HashPassword(ctx context.Context, password string) (string, error)
	UpdateAccount(ctx context.Context, id string, change func(a *loginkit.Account) error) (U, error)
	BumpAccount(ctx context.Context, id string, change func(a *loginkit.Account) error) (U, error)
	RevokeUser(ctx context.Context, id string) error
	ForgetRequest(w http.ResponseWriter, r *http.Request)
}

// ErrRateLimited reports a request over one of the rate limits of
// Options (ResetPerAccount, ResetPerClient, ConfirmPerAccount): answer
// it with 429 Too Many Requests.
var ErrRateLimited = errors.New("recovery: too many requests, try again later")

// Default rate limits of New.
var (
	defaultResetPerAccount   = ratelimit.Rate{Count: 3, Per: time.Hour}
	defaultResetPerClient    = ratelimit.Rate{Count: 20, Per: time.Hour}
	defaultConfirmPerAccount = ratelimit.Rate{Count: 3, Per: time.Hour}
)

// Options configures password reset and email confirmation (see
// New).
type Options[U loginkit.User] struct {
	// Mailer delivers the messages. Required; use &mail.Log{} in
	// development.
	Mailer mail.Mailer
	// From is the sender of every message, such as
	// "Example <no-reply@example.com>". Required.
	From string
	// BaseURL is the absolute http(s) URL the links start with, such as
	// "https://app.example.com" (a path prefix is kept). Required. Links
	// are never built from the request's Host header, which a client
	// chooses (host-header poisoning).
	BaseURL string
	// ResetPath and ConfirmPath are the paths, under BaseURL, of the
	// pages the links open; the token is in the "token" query parameter.
	// Defaults DefaultResetPath and DefaultConfirmPath.
	ResetPath   string
	ConfirmPath string
	// ResetTTL and ConfirmTTL are the links' lifetimes; defaults
	// DefaultResetTTL (30 minutes) and DefaultConfirmTTL (48 hours).
	ResetTTL   time.Duration
	ConfirmTTL time.Duration
	// AppName is the application's name in the messages.
	AppName string
	// ResetTemplate and ConfirmTemplate replace the built-in messages.
	// They are executed with a MailData.
	ResetTemplate   *mail.Template
	ConfirmTemplate *mail.Template
	// ResetPerAccount limits reset requests for one account, counted
	// both per login name given (answered with ErrRateLimited, the same
	// for unknown names) and per account (silently: no message is sent).
	// Default 3 per hour.
	ResetPerAccount ratelimit.Rate
	// ResetPerClient limits reset requests from one client: one IPv4
	// address or one IPv6 /64 (see loginkit.Builder.TrustForwardedFor). Default
	// 20 per hour.
	ResetPerClient ratelimit.Rate
	// ConfirmPerAccount limits confirmation messages sent to one
	// account. Default 3 per hour.
	ConfirmPerAccount ratelimit.Rate
	// Limiter counts events for the rate limits; default a new
	// ratelimit.Memory, which counts in this process only.
	Limiter ratelimit.Limiter
	// LoginAfterReset logs the user in (a fresh session, no remember-me)
	// when CompleteReset succeeds.
	LoginAfterReset bool
	// MaxDeliveries bounds the reset messages being sent in the
	// background at once; requests beyond it are dropped (and reported
	// to Hooks.ResetRefused). Default DefaultMaxDeliveries.
	MaxDeliveries int
	// Hooks are called on recovery events.
	Hooks Hooks[U]
}

// Hooks are called on password-reset and confirmation events.
// Every field is optional; hooks run synchronously, keep them short.
type Hooks[U loginkit.User] struct {
	// ResetRequested runs after a reset link was sent to u. It runs on
	// the goroutine that sent it, not on the request's.
	ResetRequested func(ctx context.Context, u U)
	// ResetCompleted runs after CompleteReset set u's password.
	ResetCompleted func(ctx context.Context, u U)
	// ResetRefused runs when a reset request sends nothing (rate limit,
	// inactive account, no email address, delivery failure: err says
	// which; login is the name given) and when a completion is refused
	// (login is empty; err matches loginkit.ErrInvalidToken, loginkit.ErrInactive, ...).
	// An unknown login name is not reported here: it is not a refusal.
	ResetRefused func(ctx context.Context, login string, err error)
	// ConfirmationSent runs after a confirmation link was sent to u.
	ConfirmationSent func(ctx context.Context, u U)
	// EmailConfirmed runs after ConfirmEmail confirmed u's address.
	EmailConfirmed func(ctx context.Context, u U)
}

// MailData is what the reset and confirmation templates are executed
// with.
type MailData struct {
	// AppName is Options.AppName.
	AppName string
	// Email is the recipient's address.
	Email string
	// Username is the account's username, possibly empty.
	Username string
	// Link is the URL to open: BaseURL, the path and the token.
	Link string
	// ExpiresIn is the link's lifetime in words, such as "30 minutes".
	ExpiresIn string
	// User is the application's user value (a U).
	User any
}

// Service sends password-reset and email-confirmation links and acts on
// them, on top of a Manager's user store, token store and hasher. Create
// it with New; it is safe for concurrent use.
//
// Reset links are single use and short lived, and hold a split token
// whose secret is stored only as a hash (loginkit.IssueToken). A link is
// bound to a stamp of the account taken when it was issued — its session version, password
// hash and last password login — so a password change, a password login,
// a "log out everywhere" or a newer reset link voids it. Confirmation
// links are bound to the address they were sent to.
type Service[U loginkit.User] struct {
	m       *loginkit.Manager[U]
	in      internals[U]
	o       Options[U]
	base    *url.URL
	limiter ratelimit.Limiter
	sem     chan struct{}
	wg      sync.WaitGroup
}

var (
	defaultResetTemplate = mail.MustParseTemplate(
		`Reset your {{with .AppName}}{{.}} {{end}}password`,
		`Hello,

someone asked to reset the password of the {{with .AppName}}{{.}} {{end}}account for {{.Email}}.
To choose a new password, open this link within {{.ExpiresIn}}:

{{.Link}}

The link works once. If you did not ask for it, ignore this message:
your password stays as it is.
`,
		`<p>Hello,</p>
<p>someone asked to reset the password of the {{with .AppName}}{{.}} {{end}}account for {{.Email}}.
To choose a new password, open this link within {{.ExpiresIn}}:</p>
<p><a href="{{.Link}}">Reset your password</a></p>
<p>The link works once. If you did not ask for it, ignore this message:
your password stays as it is.</p>
`)
	defaultConfirmTemplate = mail.MustParseTemplate(
		`Confirm your email address{{with .AppName}} for {{.}}{{end}}`,
		`Hello,

please confirm that {{.Email}} is your email address{{with .AppName}} for {{.}}{{end}} by opening this link within {{.ExpiresIn}}:

{{.Link}}

If you did not sign up, ignore this message.
`,
		`<p>Hello,</p>
<p>please confirm that {{.Email}} is your email address{{with .AppName}} for {{.}}{{end}} by opening this link within {{.ExpiresIn}}:</p>
<p><a href="{{.Link}}">Confirm your email address</a></p>
<p>If you did not sign up, ignore this message.</p>
`)
)

// New returns the password-reset and email-confirmation service
// of m. m needs a user store, a token store and a hasher, and U must embed
// loginkit.Account; every error matches loginkit.ErrConfig.
func New[U loginkit.User](m *loginkit.Manager[U], opts Options[U]) (*Service[U], error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: recovery: "+format, append([]any{loginkit.ErrConfig}, args...)...))
	}
	if m == nil {
		return nil, fmt.Errorf("%w: recovery: nil manager", loginkit.ErrConfig)
	}
	in, ok := seam.Internals(m).(internals[U])
	if !ok {
		return nil, fmt.Errorf("%w: recovery: nil manager", loginkit.ErrConfig)
	}
	if err := in.NeedsAccounts(); err != nil {
		errs = append(errs, fmt.Errorf("recovery: %w", err))
	}
	if opts.Mailer == nil {
		bad("a Mailer is required (mail.Log in development)")
	}
	if err := (&mail.Message{From: opts.From, To: "check@example.com", Text: "x"}).Validate(); err != nil {
		bad("From %q is not a valid sender address", opts.From)
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		bad("BaseURL %q must be an absolute http(s) URL without query or fragment", opts.BaseURL)
	}
	if opts.ResetPath == "" {
		opts.ResetPath = DefaultResetPath
	}
	if opts.ConfirmPath == "" {
		opts.ConfirmPath = DefaultConfirmPath
	}
	for _, p := range []string{opts.ResetPath, opts.ConfirmPath} {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
			bad("link paths must start with / and have no query: %q", p)
		}
	}
	if opts.ResetTTL < 0 || opts.ConfirmTTL < 0 || opts.MaxDeliveries < 0 {
		bad("lifetimes and MaxDeliveries must not be negative")
	}
	for _, r := range []ratelimit.Rate{opts.ResetPerAccount, opts.ResetPerClient, opts.ConfirmPerAccount} {
		if r.Count > 0 && r.Per <= 0 {
			bad("a rate limit with a count needs a positive period")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	opts.ResetTTL = cmp.Or(opts.ResetTTL, DefaultResetTTL)
	opts.ConfirmTTL = cmp.Or(opts.ConfirmTTL, DefaultConfirmTTL)
	if opts.ResetTemplate == nil {
		opts.ResetTemplate = defaultResetTemplate
	}
	if opts.ConfirmTemplate == nil {
		opts.ConfirmTemplate = defaultConfirmTemplate
	}
	if opts.ResetPerAccount == (ratelimit.Rate{}) {
		opts.ResetPerAccount = defaultResetPerAccount
	}
	if opts.ResetPerClient == (ratelimit.Rate{}) {
		opts.ResetPerClient = defaultResetPerClient
	}
	if opts.ConfirmPerAccount == (ratelimit.Rate{}) {
		opts.ConfirmPerAccount = defaultConfirmPerAccount
	}
	if opts.MaxDeliveries == 0 {
		opts.MaxDeliveries = DefaultMaxDeliveries
	}
	rc := &Service[U]{m: m, in: in, o: opts, base: base, limiter: opts.Limiter, sem: make(chan struct{}, opts.MaxDeliveries)}
	if rc.limiter == nil {
		rc.limiter = ratelimit.NewMemory()
	}
	return rc, nil
}

// RequestReset starts a password reset for a login name (email or
// username) and answers the same way, in about the same time, whether
// an account has that name or not: nil. The link is sent in the
// background, after RequestReset returned, so that neither the store
// writes nor the mail server's delay show in the response time; Wait
// waits for it. For an unknown name the same token-store writes are made
// in the background (a token issued for no one and deleted), so that the
// load they put on a shared store does not single out existing accounts
// either. Nothing is sent to an inactive account or one without an
// email address, nor beyond ResetPerAccount for the account; those are
// reported to Hooks.ResetRefused only.
//
// Other outcomes, none of which depends on the account existing:
// ErrRateLimited when the client or the login name is over its limit
// (answer 429), loginkit.ErrInvalid for an empty or over-long login name, and a
// wrapped store or limiter error.
func (rc *Service[U]) RequestReset(r *http.Request, login string) error {
	ctx := r.Context()
	now := rc.in.Now().UTC()
	if err := rc.allow(ctx, "reset:client:"+limitedClient(rc.in.ClientIP(r)), rc.o.ResetPerClient, now); err != nil {
		rc.refused(ctx, login, err)
		return err
	}
	key := loginkit.NormalizeLogin(login)
	if key == "" || len(key) > maxLoginLen {
		return fmt.Errorf("%w: reset needs a login name of at most %d bytes", loginkit.ErrInvalid, maxLoginLen)
	}
	if err := rc.allow(ctx, "reset:login:"+key, rc.o.ResetPerAccount, now); err != nil {
		rc.refused(ctx, login, err)
		return err
	}
	u, err := rc.in.Users().FindByLogin(ctx, login)
	if err == nil && rc.in.IsNil(u) {
		err = loginkit.ErrNotFound
	}
	if err != nil && !errors.Is(err, loginkit.ErrNotFound) {
		return fmt.Errorf("recovery: reset: %w", err)
	}
	if err != nil {
		// No such account: the same background load on the token store
		// as a real link, so that the next requests, which share the
		// store's connections with it, are not slowed only after a
		// request for an existing account.
		rc.background(ctx, rc.decoy)
		return nil
	}
	if !rc.background(ctx, func(ctx context.Context) { rc.sendReset(ctx, u, login) }) {
		rc.in.Logger().WarnContext(ctx, "recovery: reset: too many deliveries in flight; request dropped", "user", u.UserID())
		rc.refused(ctx, login, fmt.Errorf("%w: too many reset messages in flight", ErrRateLimited))
	}
	return nil
}

// background runs f on a new goroutine with a context that outlives the
// request, unless MaxDeliveries are already running.
func (rc *Service[U]) background(ctx context.Context, f func(ctx context.Context)) bool {
	select {
	case rc.sem <- struct{}{}:
	default:
		return false
	}
	rc.wg.Add(1)
	go func() {
		defer rc.wg.Done()
		defer func() { <-rc.sem }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryTimeout)
		defer cancel()
		f(ctx)
	}()
	return true
}

// decoy makes the token-store writes of a reset link for no one: it
// issues a token for a random user ID and deletes it again.
func (rc *Service[U]) decoy(ctx context.Context) {
	id := "decoy-" + loginkit.NewID()
	if _, _, err := loginkit.IssueToken(ctx, rc.in.Tokens(), id, PurposeReset, 0, rc.o.ResetTTL); err != nil {
		return
	}
	_, _ = rc.in.Tokens().DeleteByUser(ctx, id, PurposeReset)
}

// Wait blocks until the reset messages started before it was called
// have been sent (or have failed). Call it before shutting down, and in
// tests.
func (rc *Service[U]) Wait() { rc.wg.Wait() }

// sendReset issues a reset token for u and mails the link.
func (rc *Service[U]) sendReset(ctx context.Context, u U, login string) {
	a := rc.in.Account(u)
	switch {
	case !u.IsActive():
		rc.refused(ctx, login, loginkit.ErrInactive)
		return
	case a.Email == "":
		rc.refused(ctx, login, fmt.Errorf("%w: the account has no email address", loginkit.ErrInvalid))
		return
	}
	if err := rc.allow(ctx, "reset:account:"+a.ID, rc.o.ResetPerAccount, rc.in.Now().UTC()); err != nil {
		rc.refused(ctx, login, err)
		return
	}
	// A newer link voids the older ones: delete them now (and refuse them
	// at use should a deletion have failed, see checkReset).
	if _, err := rc.in.Tokens().DeleteByUser(ctx, a.ID, PurposeReset); err != nil {
		rc.in.Logger().WarnContext(ctx, "recovery: reset: could not delete older links", "user", a.ID, "error", err)
	}
	if err := rc.send(ctx, u, PurposeReset, resetStamp(a), rc.o.ResetTTL, rc.o.ResetPath, rc.o.ResetTemplate); err != nil {
		rc.in.Logger().ErrorContext(ctx, "recovery: reset: could not send the link", "user", a.ID, "error", err)
		rc.refused(ctx, login, err)
		return
	}
	if rc.o.Hooks.ResetRequested != nil {
		rc.o.Hooks.ResetRequested(ctx, u)
	}
}

// send issues a token and mails its link to u's email address; the
// token is deleted again when the message cannot be sent.
func (rc *Service[U]) send(ctx context.Context, u U, purpose string, version int64, ttl time.Duration, path string, tpl *mail.Template) error {
	a := rc.in.Account(u)
	secret, t, err := loginkit.IssueToken(ctx, rc.in.Tokens(), a.ID, purpose, version, ttl)
	if err != nil {
		return fmt.Errorf("recovery: issue %s token: %w", purpose, err)
	}
	msg, err := tpl.Render(&MailData{
		AppName:   rc.o.AppName,
		Email:     a.Email,
		Username:  a.Username,
		Link:      rc.link(path, secret),
		ExpiresIn: inWords(ttl),
		User:      u,
	})
	if err == nil {
		msg.From, msg.To = rc.o.From, a.Email
		err = rc.o.Mailer.Send(ctx, msg)
	}
	if err != nil {
		_ = rc.in.Tokens().Delete(context.WithoutCancel(ctx), t.Selector)
		return fmt.Errorf("recovery: send %s link: %w", purpose, err)
	}
	return nil
}

// link returns BaseURL + path + "?token=" + token.
func (rc *Service[U]) link(path, token string) string {
	u := *rc.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

// VerifyReset checks a reset token without using it up, for the page that
// asks for the new password: it returns the account's user when the link
// is still good. A token that is malformed, unknown, expired, used,
// superseded by a newer link, or voided by a password change, a login or
// a change of email address is loginkit.ErrInvalidToken; an inactive account is
// loginkit.ErrInactive.
func (rc *Service[U]) VerifyReset(ctx context.Context, token string) (U, error) {
	u, _, err := rc.checkReset(ctx, token)
	if err != nil {
		rc.refused(ctx, "", err)
	}
	return u, err
}

func (rc *Service[U]) checkReset(ctx context.Context, token string) (U, *loginkit.Token, error) {
	var zero U
	t, err := loginkit.VerifyToken(ctx, rc.in.Tokens(), token, PurposeReset)
	if err != nil {
		return zero, nil, tokenErr(err)
	}
	u, err := rc.in.Users().LoadUser(ctx, t.UserID)
	if err == nil && rc.in.IsNil(u) {
		err = loginkit.ErrNotFound
	}
	if err != nil {
		return zero, nil, tokenErr(err)
	}
	if resetStamp(rc.in.Account(u)) != t.Version {
		return zero, nil, loginkit.ErrInvalidToken
	}
	others, err := rc.in.Tokens().ListByUser(ctx, t.UserID, PurposeReset)
	if err != nil {
		return zero, nil, fmt.Errorf("recovery: reset: %w", err)
	}
	for _, o := range others {
		if o.Selector != t.Selector && !o.CreatedAt.Before(t.CreatedAt) {
			return zero, nil, loginkit.ErrInvalidToken // a newer link voids this one
		}
	}
	if !u.IsActive() {
		return zero, nil, loginkit.ErrInactive
	}
	return u, t, nil
}

// tokenErr maps "no such token or user" to loginkit.ErrInvalidToken and wraps
// anything else.
func tokenErr(err error) error {
	if errors.Is(err, loginkit.ErrNotFound) {
		return loginkit.ErrInvalidToken
	}
	return fmt.Errorf("recovery: %w", err)
}

// CompleteReset sets a new password with a reset token: it checks the
// token (as VerifyReset), hashes the password with the manager's hasher,
// uses the token up (of several concurrent completions with one link, at
// most one succeeds), and then, atomically against the stored user, checks
// the link is still bound to the account, sets the hash, bumps the
// session version and clears the lockout state (FailedLogins,
// LastFailedLoginAt, LockedUntil). Every session and remember token of
// the user then dies, the request's own included; with LoginAfterReset
// the user is logged in on a new session. w may be nil when no login is
// wanted. It returns the user as stored.
//
// A refused link is loginkit.ErrInvalidToken; an empty password loginkit.ErrInvalid and a
// too-long one loginkit.ErrPasswordTooLong (the link stays usable for another
// try); an inactive account loginkit.ErrInactive.
//
// A reset link proves control of the mailbox, not of a second factor: with
// LoginAfterReset, a user who has a second factor enrolled is not logged
// in but left with the second factor pending, as by Login, and
// CompleteReset returns the user with an error matching
// loginkit.ErrSecondFactorRequired. The password is reset all the same.
func (rc *Service[U]) CompleteReset(w http.ResponseWriter, r *http.Request, token, password string) (U, error) {
	u, err := rc.completeReset(w, r, token, password)
	if err != nil && !errors.Is(err, loginkit.ErrSecondFactorRequired) {
		rc.refused(r.Context(), "", err)
	}
	return u, err
}

func (rc *Service[U]) completeReset(w http.ResponseWriter, r *http.Request, token, password string) (U, error) {
	var zero U
	ctx := r.Context()
	if _, _, err := rc.checkReset(ctx, token); err != nil {
		return zero, err
	}
	h, err := rc.in.HashPassword(ctx, password)
	if err != nil {
		return zero, err
	}
	t, err := loginkit.ConsumeToken(ctx, rc.in.Tokens(), token, PurposeReset)
	if err != nil {
		return zero, tokenErr(err)
	}
	now := rc.in.Now().UTC()
	stored, err := rc.in.BumpAccount(ctx, t.UserID, func(a *loginkit.Account) error {
		if resetStamp(a) != t.Version {
			return loginkit.ErrInvalidToken // changed since the check
		}
		if a.Disabled {
			return loginkit.ErrInactive
		}
		a.PasswordHash = h
		a.FailedLogins, a.LastFailedLoginAt, a.LockedUntil = 0, time.Time{}, time.Time{}
		a.UpdatedAt = now
		return nil
	})
	switch {
	case errors.Is(err, loginkit.ErrInvalidToken), errors.Is(err, loginkit.ErrNotFound):
		return zero, loginkit.ErrInvalidToken
	case errors.Is(err, loginkit.ErrInactive):
		return zero, loginkit.ErrInactive
	case err != nil:
		return zero, err
	}
	if err := rc.in.RevokeUser(ctx, t.UserID); err != nil {
		return zero, err
	}
	if _, err := rc.in.Tokens().DeleteByUser(ctx, t.UserID, PurposeReset); err != nil {
		rc.in.Logger().WarnContext(ctx, "recovery: reset: could not delete other links", "user", t.UserID, "error", err)
	}
	if rc.o.Hooks.ResetCompleted != nil {
		rc.o.Hooks.ResetCompleted(ctx, stored)
	}
	if w == nil {
		return stored, nil
	}
	if rc.o.LoginAfterReset {
		if err := rc.m.Login(w, r, stored, loginkit.LoginOptions{}); err != nil {
			if errors.Is(err, loginkit.ErrSecondFactorRequired) {
				return stored, err
			}
			return stored, fmt.Errorf("recovery: login after reset: %w", err)
		}
		return stored, nil
	}
	// The request's session was deleted with the others; clear its
	// cookies and forget it for the rest of this request.
	rc.in.ForgetRequest(w, r)
	return stored, nil
}

// SendConfirmation sends u a link confirming its current email address,
// voiding earlier confirmation links. It does nothing when the address is
// already confirmed. More than ConfirmPerAccount messages is
// ErrRateLimited; an account without email is loginkit.ErrInvalid; a delivery
// failure is returned wrapped. The message is sent before it returns.
func (rc *Service[U]) SendConfirmation(ctx context.Context, u U) error {
	if rc.in.IsNil(u) {
		return fmt.Errorf("%w: nil user", loginkit.ErrInvalid)
	}
	a := rc.in.Account(u)
	key := loginkit.NormalizeLogin(a.Email)
	if key == "" {
		return fmt.Errorf("%w: the account has no email address", loginkit.ErrInvalid)
	}
	if a.EmailConfirmed() {
		return nil
	}
	if err := rc.allow(ctx, "confirm:account:"+a.ID, rc.o.ConfirmPerAccount, rc.in.Now().UTC()); err != nil {
		return err
	}
	if _, err := rc.in.Tokens().DeleteByUser(ctx, a.ID, PurposeConfirmEmail); err != nil {
		return fmt.Errorf("recovery: confirm: %w", err)
	}
	if err := rc.send(ctx, u, PurposeConfirmEmail, emailStamp(key), rc.o.ConfirmTTL, rc.o.ConfirmPath, rc.o.ConfirmTemplate); err != nil {
		return err
	}
	if rc.o.Hooks.ConfirmationSent != nil {
		rc.o.Hooks.ConfirmationSent(ctx, u)
	}
	return nil
}

// ConfirmEmail uses up a confirmation token and marks the address it was
// sent to as confirmed (loginkit.Account.ConfirmedEmail, EmailConfirmedAt),
// atomically against the stored user. A token that is malformed,
// unknown, expired or used, or that was sent to an address the account no
// longer has, is loginkit.ErrInvalidToken. It returns the user as stored.
//
// Mail scanners open links to check them: let the link's page ask for a
// click (a POST) before calling ConfirmEmail, as the quickstart does.
func (rc *Service[U]) ConfirmEmail(ctx context.Context, token string) (U, error) {
	var zero U
	t, err := loginkit.ConsumeToken(ctx, rc.in.Tokens(), token, PurposeConfirmEmail)
	if err != nil {
		return zero, tokenErr(err)
	}
	now := rc.in.Now().UTC()
	stored, err := rc.in.UpdateAccount(ctx, t.UserID, func(a *loginkit.Account) error {
		key := loginkit.NormalizeLogin(a.Email)
		if key == "" || emailStamp(key) != t.Version {
			return loginkit.ErrInvalidToken // the address changed since the link was sent
		}
		a.ConfirmedEmail, a.EmailConfirmedAt, a.UpdatedAt = key, now, now
		return nil
	})
	if err != nil {
		return zero, tokenErr(err)
	}
	if rc.o.Hooks.EmailConfirmed != nil {
		rc.o.Hooks.EmailConfirmed(ctx, stored)
	}
	return stored, nil
}

// VerifyConfirmation checks a confirmation token without using it up,
// for the page the link opens. It fails like ConfirmEmail.
func (rc *Service[U]) VerifyConfirmation(ctx context.Context, token string) (U, error) {
	var zero U
	t, err := loginkit.VerifyToken(ctx, rc.in.Tokens(), token, PurposeConfirmEmail)
	if err != nil {
		return zero, tokenErr(err)
	}
	u, err := rc.in.Users().LoadUser(ctx, t.UserID)
	if err == nil && rc.in.IsNil(u) {
		err = loginkit.ErrNotFound
	}
	if err != nil {
		return zero, tokenErr(err)
	}
	if key := loginkit.NormalizeLogin(rc.in.Account(u).Email); key == "" || emailStamp(key) != t.Version {
		return zero, loginkit.ErrInvalidToken
	}
	return u, nil
}

// limitedClient is the client a per-client rate limit counts: the IPv4
// address, or the /64 prefix of an IPv6 address (one home line or one
// virtual machine commonly holds a whole /64, so counting addresses
// would limit nothing).
func limitedClient(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// allow applies one rate limit; over it is ErrRateLimited.
func (rc *Service[U]) allow(ctx context.Context, key string, rate ratelimit.Rate, now time.Time) error {
	ok, err := rc.limiter.Allow(ctx, key, rate, now)
	if err != nil {
		return fmt.Errorf("recovery: rate limiter: %w", err)
	}
	if !ok {
		return ErrRateLimited
	}
	return nil
}

func (rc *Service[U]) refused(ctx context.Context, login string, err error) {
	if rc.o.Hooks.ResetRefused != nil {
		rc.o.Hooks.ResetRefused(ctx, login, err)
	}
}

// resetStamp condenses what a reset link is bound to: the session
// version (a password change, "log out everywhere", a completed reset),
// the password hash, the last password login, to the millisecond that
// every store keeps, and the normalised email address the link was sent
// to (a link in a mailbox the user has moved away from dies).
func resetStamp(a *loginkit.Account) int64 {
	var last int64
	if !a.LastLoginAt.IsZero() {
		last = a.LastLoginAt.UnixMilli()
	}
	return stamp("reset", strconv.FormatInt(a.SessionVersion, 10), a.PasswordHash, strconv.FormatInt(last, 10), loginkit.NormalizeLogin(a.Email))
}

// emailStamp binds a confirmation link to a normalised address.
func emailStamp(key string) int64 { return stamp("email", key) }

// stamp hashes its parts (length-prefixed) to a non-negative int64.
func stamp(parts ...string) int64 {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return int64(binary.BigEndian.Uint64(h.Sum(nil)) >> 1)
}

// inWords renders a lifetime for a message: "30 minutes", "48 hours".
func inWords(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return unit(int64((d+time.Minute-1)/time.Minute), "minute")
	}
	return unit(int64((d+time.Second-1)/time.Second), "second")
}
