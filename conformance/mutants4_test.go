package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/adapters/memstore"
	"github.com/loginkit/loginkit/ratelimit"
)

// More broken stores of the third generation, each with a subtler bug.

// ---- users ----

// loginLoaderUsers' LoadUser falls back to the login names when no user
// has the ID ("load by ID or login").
type loginLoaderUsers struct{ memberUpdater }

func (s loginLoaderUsers) LoadUser(ctx context.Context, id string) (*Member, error) {
	u, err := s.memberUpdater.LoadUser(ctx, id)
	if errors.Is(err, loginkit.ErrNotFound) && id != "" {
		return s.memberUpdater.FindByLogin(ctx, id)
	}
	return u, err
}

// idLoginUsers' FindByLogin also matches user IDs (WHERE id = ? OR
// email_key = ? OR username_key = ?).
type idLoginUsers struct{ memberUpdater }

func (s idLoginUsers) FindByLogin(ctx context.Context, login string) (*Member, error) {
	u, err := s.memberUpdater.FindByLogin(ctx, login)
	if errors.Is(err, loginkit.ErrNotFound) && login != "" {
		if v, err2 := s.LoadUser(ctx, login); err2 == nil {
			return v, nil
		}
	}
	return u, err
}

// omitEmptyUsers writes only the non-zero fields on Update (a $set built
// from a struct with omitempty): a field set back to its zero value keeps
// its old value.
type omitEmptyUsers struct{ memberUpdater }

func (s omitEmptyUsers) Update(ctx context.Context, u *Member) error {
	old, err := s.LoadUser(ctx, u.ID)
	if err != nil {
		return s.memberUpdater.Update(ctx, u)
	}
	c := *u
	if !c.Disabled {
		c.Disabled = old.Disabled
	}
	if c.FailedLogins == 0 {
		c.FailedLogins = old.FailedLogins
	}
	if c.LockedUntil.IsZero() {
		c.LockedUntil = old.LockedUntil
	}
	if !c.IsAdmin {
		c.IsAdmin = old.IsAdmin
	}
	return s.memberUpdater.Update(ctx, &c)
}

// tieByIDDescUsers lists users by CreatedAt, ties broken by ID
// descending.
type tieByIDDescUsers struct{ memberUpdater }

func (s tieByIDDescUsers) List(ctx context.Context, o loginkit.ListOptions) ([]*Member, int, error) {
	all, total, err := s.memberUpdater.List(ctx, loginkit.ListOptions{Limit: 1000})
	if err != nil {
		return nil, 0, err
	}
	for off := 1000; off < total; off += 1000 {
		more, _, err := s.memberUpdater.List(ctx, loginkit.ListOptions{Offset: off, Limit: 1000})
		if err != nil {
			return nil, 0, err
		}
		all = append(all, more...)
	}
	slices.SortStableFunc(all, func(a, b *Member) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	lim := o.Limit
	if lim == 0 {
		lim = 50
	}
	lo := min(o.Offset, len(all))
	return all[lo:min(lo+lim, len(all))], total, nil
}

// ---- sessions ----

// omitEmptySessions replaces a session on Save but keeps the stored value
// of each field the new session leaves zero (HSET of the non-empty
// fields).
type omitEmptySessions struct{ *memstore.Sessions }

func (s omitEmptySessions) Save(ctx context.Context, x *loginkit.Session) error {
	c := x.Clone()
	if old, err := s.Get(ctx, x.Key); err == nil {
		if c.Fingerprint == "" {
			c.Fingerprint = old.Fingerprint
		}
		if c.IP == "" {
			c.IP = old.IP
		}
		if !c.Fresh {
			c.Fresh = old.Fresh
		}
		if !c.Remembered {
			c.Remembered = old.Remembered
		}
		if c.AuthenticatedAt.IsZero() {
			c.AuthenticatedAt = old.AuthenticatedAt
		}
	}
	return s.Sessions.Save(ctx, c)
}

// clockedSessions is a memstore reading the clock now, with the clock
// kept for the wrappers below.
type clockedSessions struct {
	*trackedSessions
	now func() time.Time
}

func clockedSessionsHarness(wrap func(clockedSessions) loginkit.SessionStore) SessionHarness {
	return SessionHarness{
		New: func(testing.TB) loginkit.SessionStore {
			return wrap(clockedSessions{newTrackedSessions(), time.Now})
		},
		NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.SessionStore {
			return wrap(clockedSessions{&trackedSessions{Sessions: memstore.NewSessions(memstore.WithClock(now))}, now})
		},
	}
}

// boundaryListSessions lists the sessions whose ExpiresAt is not before
// now (>= in its query), the one expiring exactly now included.
type boundaryListSessions struct{ clockedSessions }

func (s boundaryListSessions) ListByUser(ctx context.Context, userID string) ([]*loginkit.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*loginkit.Session
	for k, x := range s.snapshot() {
		if x.UserID != userID || x.ExpiresAt.Before(s.now()) {
			continue
		}
		if _, err := s.Sessions.Get(ctx, k); err == nil || x.ExpiresAt.Equal(s.now()) {
			c := x.Clone()
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *loginkit.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// boundarySweepSessions sweeps only the sessions whose ExpiresAt is
// before now (< in its query): one expiring exactly now stays.
type boundarySweepSessions struct{ clockedSessions }

func (s boundarySweepSessions) DeleteExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for k, x := range s.snapshot() {
		if x.ExpiresAt.Before(s.now()) {
			_ = s.Sessions.Delete(ctx, k)
			s.saved.drop(k)
			n++
		}
	}
	return n, nil
}

// secondsLastSeenSessions keeps LastSeenAt to the second (a column of
// its own, declared without fractional seconds).
type secondsLastSeenSessions struct{ *memstore.Sessions }

func (s secondsLastSeenSessions) Save(ctx context.Context, x *loginkit.Session) error {
	c := x.Clone()
	c.LastSeenAt = c.LastSeenAt.Truncate(time.Second)
	return s.Sessions.Save(ctx, c)
}

func (s secondsLastSeenSessions) Touch(ctx context.Context, x *loginkit.Session) error {
	c := x.Clone()
	c.LastSeenAt = c.LastSeenAt.Truncate(time.Second)
	return s.Sessions.Touch(ctx, c)
}

// ---- tokens ----

// clockedTokens is a memstore token store reading the clock now.
type clockedTokens struct {
	*memstore.Tokens
	now  func() time.Time
	made *memo[string, loginkit.Token]
}

func clockedTokensHarness(wrap func(clockedTokens) loginkit.TokenStore) TokenHarness {
	return TokenHarness{
		New: func(testing.TB) loginkit.TokenStore {
			return wrap(clockedTokens{memstore.NewTokens(), time.Now, new(memo[string, loginkit.Token])})
		},
		NewWithClock: func(_ testing.TB, now func() time.Time) loginkit.TokenStore {
			return wrap(clockedTokens{memstore.NewTokens(memstore.WithClock(now)), now, new(memo[string, loginkit.Token])})
		},
	}
}

func (s clockedTokens) Create(ctx context.Context, t *loginkit.Token) error {
	err := s.Tokens.Create(ctx, t)
	if err == nil {
		s.made.put(t.Selector, *t)
	}
	return err
}

// boundaryListTokens lists tokens whose ExpiresAt is not before now.
type boundaryListTokens struct{ clockedTokens }

func (s boundaryListTokens) ListByUser(ctx context.Context, userID, purpose string) ([]*loginkit.Token, error) {
	l, err := s.Tokens.ListByUser(ctx, userID, purpose)
	if err != nil {
		return l, err
	}
	for _, t := range s.made.snapshot() {
		if t.UserID == userID && (purpose == "" || t.Purpose == purpose) && t.ExpiresAt.Equal(s.now()) {
			c := t
			l = append(l, &c)
		}
	}
	slices.SortFunc(l, func(a, b *loginkit.Token) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return l, nil
}

// boundarySweepTokens sweeps only the tokens whose ExpiresAt is before
// now: one expiring exactly now stays.
type boundarySweepTokens struct{ clockedTokens }

func (s boundarySweepTokens) DeleteExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for k, t := range s.made.snapshot() {
		if t.ExpiresAt.Before(s.now()) {
			_ = s.Tokens.Delete(ctx, k)
			s.made.drop(k)
			n++
		}
	}
	return n, nil
}

// secondsCreatedTokens keeps CreatedAt to the second.
type secondsCreatedTokens struct{ *memstore.Tokens }

func (s secondsCreatedTokens) Create(ctx context.Context, t *loginkit.Token) error {
	c := *t
	c.CreatedAt = c.CreatedAt.Truncate(time.Second)
	return s.Tokens.Create(ctx, &c)
}

// ---- second factors ----

// stepKeptOnReenrolSF's SetTOTP of a user who already has a secret
// updates the secret and EnabledAt only (the UPDATE forgot last_step).
type stepKeptOnReenrolSF struct{ sfStore }

func (s stepKeptOnReenrolSF) SetTOTP(ctx context.Context, userID string, secret []byte, last int64, at time.Time) error {
	if f, err := s.GetSecondFactor(ctx, userID); err == nil && len(f.TOTPSecret) > 0 {
		last = f.TOTPLastStep
	}
	return s.sfStore.SetTOTP(ctx, userID, secret, last, at)
}

// textStepSF compares TOTP steps as decimal text (a string field in a
// key-value store): "10" is not greater than "9".
type textStepSF struct{ sfStore }

func (s textStepSF) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	f, err := s.GetSecondFactor(ctx, userID)
	if err == nil && len(f.TOTPSecret) > 0 && strconv.FormatInt(step, 10) <= strconv.FormatInt(f.TOTPLastStep, 10) {
		return loginkit.ErrReplayed
	}
	return s.sfStore.AcceptTOTPStep(ctx, userID, step)
}

// globalCodesSF finds a recovery code among every user's codes when the
// user has none of their own left.
type globalCodesSF struct {
	sfStore
	users *memo[string, bool]
}

func newGlobalCodesSF() globalCodesSF { return globalCodesSF{newSF(), new(memo[string, bool])} }

func (s globalCodesSF) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	s.users.put(userID, true)
	return s.sfStore.SetRecoveryCodes(ctx, userID, hashes)
}

func (s globalCodesSF) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	err := s.sfStore.UseRecoveryCode(ctx, userID, hash)
	if !errors.Is(err, loginkit.ErrNotFound) {
		return err
	}
	for u := range s.users.snapshot() {
		if u != userID && s.sfStore.UseRecoveryCode(ctx, u, hash) == nil {
			return nil
		}
	}
	return err
}

// ---- passkeys ----

// counterlessPK skips the compare-and-set for a passkey whose stored
// count is 0 (synced passkeys keep no counter, so its author saw nothing
// to compare).
type counterlessPK struct{ pkStore }

func (s counterlessPK) UpdateSignCount(ctx context.Context, id []byte, old, count uint32, b bool, at time.Time) error {
	p, err := s.GetPasskey(ctx, id)
	if err != nil {
		return err
	}
	if p.SignCount == 0 {
		return s.pkStore.UpdateSignCount(ctx, id, 0, count, b, at)
	}
	return s.pkStore.UpdateSignCount(ctx, id, old, count, b, at)
}

// shortIDPK keeps credential IDs in a VARBINARY(255).
type shortIDPK struct{ pkStore }

func cut255(id []byte) []byte { return id[:min(len(id), 255)] }

func (s shortIDPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	c := p.Clone()
	c.CredentialID = cut255(c.CredentialID)
	return s.pkStore.CreatePasskey(ctx, c)
}

func (s shortIDPK) GetPasskey(ctx context.Context, id []byte) (*loginkit.Passkey, error) {
	p, err := s.pkStore.GetPasskey(ctx, cut255(id))
	if err == nil && len(id) > 255 {
		p.CredentialID = slices.Clone(id)
	}
	return p, err
}

// prefixDeleteUserPK deletes the passkeys of every user whose ID begins
// with the one given.
type prefixDeleteUserPK struct {
	pkStore
	users *memo[string, bool]
}

func newPrefixDeleteUserPK() prefixDeleteUserPK {
	return prefixDeleteUserPK{newPK(), new(memo[string, bool])}
}

func (s prefixDeleteUserPK) CreatePasskey(ctx context.Context, p *loginkit.Passkey) error {
	s.users.put(p.UserID, true)
	return s.pkStore.CreatePasskey(ctx, p)
}

func (s prefixDeleteUserPK) DeleteUserPasskeys(ctx context.Context, userID string) (int, error) {
	n := 0
	for u := range s.users.snapshot() {
		if strings.HasPrefix(u, userID) {
			m, err := s.pkStore.DeleteUserPasskeys(ctx, u)
			if err != nil {
				return n, err
			}
			n += m
		}
	}
	return n, ctx.Err()
}

// emptyNameRefusedPK refuses to clear a passkey's name.
type emptyNameRefusedPK struct{ pkStore }

func (s emptyNameRefusedPK) RenamePasskey(ctx context.Context, userID string, id []byte, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("empty name: %w", loginkit.ErrInvalid)
	}
	return s.pkStore.RenamePasskey(ctx, userID, id, name)
}

// ---- limiter ----

// setLimiter keeps events in a set keyed by their time (ZADD with the
// timestamp as member): two events at the same instant count once.
type setLimiter struct{ windowLimiter }

func (l *setLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, now time.Time) (bool, error) {
	ok, err := l.windowLimiter.Allow(ctx, key, r, now)
	if ok && err == nil {
		l.mu.Lock()
		ev := l.ev[key]
		if n := len(ev); n >= 2 && ev[n-2].Equal(now) {
			l.ev[key] = ev[:n-1]
		}
		l.mu.Unlock()
	}
	return ok, err
}

// colonLimiter counts per key up to its last ':' (the "scope" of
// "reset:ann@example.com", its author thought).
type colonLimiter struct{ windowLimiter }

func (l *colonLimiter) Allow(ctx context.Context, key string, r ratelimit.Rate, now time.Time) (bool, error) {
	if i := strings.LastIndexByte(key, ':'); i >= 0 {
		key = key[:i]
	}
	return l.windowLimiter.Allow(ctx, key, r, now)
}

// ---- sealer ----

// floatVersionSealer decodes Version through a float64 (JSON into an
// interface): versions above 2^53 come back rounded.
type floatVersionSealer struct{ loginkit.SessionSealer }

func (s floatVersionSealer) Open(v string) (*loginkit.Session, error) {
	x, err := s.SessionSealer.Open(v)
	if err == nil {
		x.Version = int64(float64(x.Version))
	}
	return x, err
}

func newTestWindowLimiter() windowLimiter { return windowLimiter{ev: map[string][]time.Time{}} }

func fourthMutants() []mutant {
	users, sessions, tokens, sf, pk := usersWith, sessionsWith, tokensWith, secondFactorsWith, passkeysWith
	return []mutant{
		{"LoadUser falling back to login names", users(func() memberStore { return loginLoaderUsers{newUpdatable()} }), [][2]string{{"/LoadUserMissing:", "LoadUser of a login name that is no user's ID"}}},
		{"FindByLogin matching IDs", users(func() memberStore { return idLoginUsers{newUpdatable()} }), [][2]string{{"/LoadUserMissing:", "FindByLogin of a user's ID: FindByLogin(\"lookup-carol\"): want ErrNotFound"}}},
		{"Update skipping zero values", users(func() memberStore { return omitEmptyUsers{newUpdatable()} }), [][2]string{{"/UpdateReplacesEveryField:", "UserStore.Update replaces every field"}}},
		{"List ties by ID descending", users(func() memberStore { return tieByIDDescUsers{newUpdatable()} }), [][2]string{{"/List:", "ordered by CreatedAt, then ID, both ascending"}}},

		{"Save skipping zero fields", sessions(func() loginkit.SessionStore { return omitEmptySessions{memstore.NewSessions()} }), [][2]string{{"/SaveReplacesEveryField:", "SessionStore.Save replaces every field"}}},
		{"ListByUser with ExpiresAt >= now", sessionsHarness(clockedSessionsHarness(func(c clockedSessions) loginkit.SessionStore { return boundaryListSessions{c} })), [][2]string{{"/ExpiryBoundary:", "ListByUser with a session whose ExpiresAt is exactly now"}}},
		{"DeleteExpired with ExpiresAt < now", sessionsHarness(clockedSessionsHarness(func(c clockedSessions) loginkit.SessionStore { return boundarySweepSessions{c} })), [][2]string{{"/ExpiryBoundary:", "a session whose ExpiresAt is exactly now is expired"}}},
		{"LastSeenAt to the second", sessions(func() loginkit.SessionStore { return secondsLastSeenSessions{memstore.NewSessions()} }), [][2]string{{"/SaveGetRoundTrip:", "LastSeenAt"}}},

		{"token ListByUser with ExpiresAt >= now", tokensHarness(clockedTokensHarness(func(c clockedTokens) loginkit.TokenStore { return boundaryListTokens{c} })), [][2]string{{"/ExpiryBoundary:", "ListByUser with a token whose ExpiresAt is exactly now"}}},
		{"token DeleteExpired with ExpiresAt < now", tokensHarness(clockedTokensHarness(func(c clockedTokens) loginkit.TokenStore { return boundarySweepTokens{c} })), [][2]string{{"/ExpiryBoundary:", "another token whose ExpiresAt is exactly now (expired: it is swept)"}}},
		{"token CreatedAt to the second", tokens(func() loginkit.TokenStore { return secondsCreatedTokens{memstore.NewTokens()} }), [][2]string{{"/CreateGetRoundTrip:", "CreatedAt"}}},

		{"step kept on re-enrolment", sf(func() sfStore { return stepKeptOnReenrolSF{newSF()} }), [][2]string{{"/SetTOTPReplaces:", "SetTOTP replaces the secret, step and enabled time"}}},
		{"steps compared as text", sf(func() sfStore { return textStepSF{newSF()} }), [][2]string{{"/AcceptTOTPStep:", "steps are compared as numbers"}}},
		{"recovery codes found among every user's", sf(func() sfStore { return newGlobalCodesSF() }), [][2]string{{"/UserIDsPrefixesOfEachOther:", "each user's data is separate"}}},

		{"no compare-and-set from a count of 0", pk(func() pkStore { return counterlessPK{newPK()} }), [][2]string{{"/SignCount:", "also when the stored count is 0"}}},
		{"credential IDs in a VARBINARY(255)", pk(func() pkStore { return shortIDPK{newPK()} }), [][2]string{{"/IDsExact:", "the whole ID (up to 1023 bytes)"}}},
		{"DeleteUserPasskeys by user ID prefix", pk(func() pkStore { return newPrefixDeleteUserPK() }), [][2]string{{"/DeleteUser:", "removed 5, want 4"}}},
		{"empty passkey name refused", pk(func() pkStore { return emptyNameRefusedPK{newPK()} }), [][2]string{{"/Rename:", "a name may be empty"}}},

		{"events at one instant counted once", limiterWith(func() ratelimit.Limiter { return &setLimiter{newTestWindowLimiter()} }), [][2]string{{"/AllowsUpToCount:", "events at the same instant are counted each"}}},
		{"keys counted up to the last colon", limiterWith(func() ratelimit.Limiter { return &colonLimiter{newTestWindowLimiter()} }), [][2]string{{"/KeysIndependent:", "keys are independent"}}},

		{"Version decoded through a float64", func(st suiteT) {
			h := refHarness("")
			nw, rot := h.New, h.Rotated
			h.New = func(tb testing.TB) loginkit.SessionSealer { return floatVersionSealer{nw(tb)} }
			h.Rotated = func(tb testing.TB) loginkit.SessionSealer { return floatVersionSealer{rot(tb)} }
			runSealer(st, h)
		}, [][2]string{{"/RoundTripFlags:", "booleans and Version round-trip"}}},
	}
}

// TestSuitesCatchMoreThirdMutants runs the suites against the subtler
// broken stores of the third generation.
func TestSuitesCatchMoreThirdMutants(t *testing.T) {
	ms := fourthMutants()
	if len(ms) < 20 {
		t.Fatalf("only %d broken stores", len(ms))
	}
	wantCaught(t, ms)
}
