package conformance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// TestSessions checks a server-side loginkit.SessionStore against its
// contract: round trips of every field, replacement on Save, expiry,
// idempotent deletes, per-user listing and bulk deletion, isolation of
// returned values, cancelled contexts and concurrent use. Each case runs
// as a subtest with a fresh store from h.New.
func TestSessions(t *testing.T, h SessionHarness) {
	t.Helper()
	runSessions(wrapT(t), h)
}

// sessionSuite holds what the session cases share.
type sessionSuite struct {
	expiring[loginkit.SessionStore, loginkit.Session]
	declaresToucher bool // the harness's Toucher
}

func runSessions(t suiteT, h SessionHarness) {
	t.Helper()
	s := &sessionSuite{declaresToucher: h.Toucher, expiring: expiring[loginkit.SessionStore, loginkit.Session]{
		timing: newTiming(h.TimePrecision), kind: "SessionStore", noun: "session",
		native: h.NativeExpiry, newWithClock: h.NewWithClock, putOp: "Save", put: loginkit.SessionStore.Save,
		key: func(x *loginkit.Session) string { return x.Key }, show: describeSession,
	}}
	runSuite(t, "SessionHarness", "SessionStore", methodsOf[loginkit.SessionStore]("Touch"), h.New, []suiteCase[loginkit.SessionStore]{
		{"SaveGetRoundTrip", s.roundTrip},
		{"SaveZeroValues", s.zeroValues},
		{"SaveEmptyKey", s.emptyKey},
		{"SaveReplacesEveryField", s.replaces},
		{"SaveReplaceMovesUser", s.replaceMovesUser},
		{"SaveReplaceWithPastExpiry", s.replacePastExpiry},
		{"GetMissing", s.getMissing},
		{"GetExpired", s.getExpired},
		{"ZeroExpiresAt", s.zeroExpiresAt},
		{"ExpiryBoundary", s.expiryBoundary},
		{"KeysCaseSensitive", s.keysCaseSensitive},
		{"UserIDPrefixes", s.userIDPrefixes},
		{"LongValues", s.longValues},
		{"TimesInUTC", s.timesInUTC},
		{"Delete", s.delete},
		{"ListByUser", s.listByUser},
		{"ListByUserMany", s.listByUserMany},
		{"DeleteByUser", s.deleteByUser},
		{"DeleteByUserExceptOtherUsersKey", s.deleteByUserForeignExcept},
		{"DeleteExpired", s.deleteExpired},
		{"DeleteExpiredThenByUser", s.deleteExpiredThenByUser},
		{"ReturnedValuesIsolated", s.isolation},
		{"ContextCancelled", s.contextCancelled},
		{"Concurrent", s.concurrent},
		{"TouchOnlyExisting", s.touch},
		{"TouchRacingDelete", s.touchDeleteRace},
		{"ExpiryExtended", s.expiryExtended},
		{"AnonymousSession", s.anonymous},
	})
}

// toucher returns st as a loginkit.SessionToucher. When st is not one, it
// fails the case if the harness declared one or st has a near-miss Touch
// method, and skips it otherwise.
func (s *sessionSuite) toucher(t suiteT, st loginkit.SessionStore) loginkit.SessionToucher {
	t.Helper()
	tt, ok := st.(loginkit.SessionToucher)
	if !optionalIface(t, st, ok, s.declaresToucher, "loginkit.SessionToucher", "Touch", "Touch(context.Context, *loginkit.Session) error") {
		t.FailNow()
	}
	if !ok {
		t.Skip("the store does not implement loginkit.SessionToucher; the manager falls back to Save")
	}
	return tt
}

// full returns a session with every field set to a non-zero value, its
// times carrying sub-millisecond parts.
func (s *sessionSuite) full(key, userID string, created time.Time) *loginkit.Session {
	return &loginkit.Session{
		Key:               key,
		UserID:            userID,
		CreatedAt:         created,
		AuthenticatedAt:   created.Add(5*time.Minute + 123456789),
		LastSeenAt:        created.Add(7*time.Minute + 987654321),
		ExpiresAt:         s.now.Add(time.Hour + 111111111),
		AbsoluteExpiresAt: s.now.Add(30*24*time.Hour + 222222222),
		Fresh:             true,
		Remembered:        true,
		Version:           1<<40 + 7,
		Fingerprint:       "fp-" + key,
		IP:                "2001:db8::1",
		UserAgent:         "Mozilla/5.0 (X11; Linux x86_64) Zoë/1.0 数",
		Values:            map[string]string{"lang": "fr", "flash": "Ça marche ✓", "empty": "", "a.b": "dotted", "$set": "dollar", "": "empty key"},
	}
}

// live returns a minimal unexpired session of userID created at created.
func (s *sessionSuite) live(key, userID string, created time.Time) *loginkit.Session {
	return &loginkit.Session{
		Key: key, UserID: userID,
		CreatedAt: created, AuthenticatedAt: created, LastSeenAt: created,
		ExpiresAt: s.now.Add(time.Hour), AbsoluteExpiresAt: s.now.Add(24 * time.Hour),
	}
}

// expired returns a session whose ExpiresAt passed an hour ago.
func (s *sessionSuite) expired(key, userID string, created time.Time) *loginkit.Session {
	e := s.live(key, userID, created)
	e.ExpiresAt = s.now.Add(-time.Hour)
	return e
}

func describeSession(s *loginkit.Session) string {
	return fmt.Sprintf("{Key:%q UserID:%q ExpiresAt:%s}", s.Key, s.UserID, showTime(s.ExpiresAt))
}

func (s *sessionSuite) roundTrip(t suiteT, st loginkit.SessionStore) {
	want := s.full("k-round", "user-1", s.now.Add(-2*time.Hour+333333333))
	s.store(t, st, want.Clone())
	s.wantStored(t, st, want, "Save then Get", "SessionStore.Save persists every field")
}

func (s *sessionSuite) zeroValues(t suiteT, st loginkit.SessionStore) {
	// Only what a session cannot do without: zero flags, empty strings, a
	// nil Values map and zero LastSeenAt must come back as such.
	want := &loginkit.Session{Key: "k-zero", UserID: "user-1", CreatedAt: s.now, ExpiresAt: s.now.Add(time.Hour)}
	s.store(t, st, want.Clone())
	s.wantStored(t, st, want, "Save with zero values then Get", "SessionStore.Save persists every field, zero values included")
}

func (s *sessionSuite) emptyKey(t suiteT, st loginkit.SessionStore) {
	err := st.Save(background(), s.live("", "user-1", s.now))
	wantErr(t, err, loginkit.ErrInvalid, `Save with Key ""`, "SessionStore.Save: an empty Key is ErrInvalid")
}

func (s *sessionSuite) replaces(t suiteT, st loginkit.SessionStore) {
	first := s.full("k-replace", "user-1", s.now.Add(-3*time.Hour))
	s.store(t, st, first)
	second := &loginkit.Session{
		Key:               "k-replace",
		UserID:            "user-1",
		CreatedAt:         s.now.Add(-time.Hour + 5),
		AuthenticatedAt:   s.now.Add(-30 * time.Minute),
		LastSeenAt:        time.Time{},
		ExpiresAt:         s.now.Add(2*time.Hour + 7*time.Millisecond),
		AbsoluteExpiresAt: s.now.Add(48 * time.Hour),
		Fresh:             false,
		Remembered:        false,
		Version:           2,
		Fingerprint:       "",
		IP:                "192.0.2.7",
		UserAgent:         "curl/8",
		Values:            map[string]string{"lang": "de"},
	}
	s.store(t, st, second.Clone())
	s.wantStored(t, st, second, "Save over an existing session", "SessionStore.Save replaces every field, expiry included, and drops removed Values keys")
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if len(list) != 1 {
		t.Errorf("ListByUser after replacing a session: want 1 session (SessionStore.Save replaces, it does not add), got %d", len(list))
	}
}

func (s *sessionSuite) replaceMovesUser(t suiteT, st loginkit.SessionStore) {
	s.store(t, st, s.live("k-move", "user-a", s.now))
	s.store(t, st, s.live("k-move", "user-b", s.now))
	a, err := st.ListByUser(background(), "user-a")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if len(a) != 0 {
		t.Errorf("ListByUser(old user) after Save gave the session to another user: want no sessions (SessionStore.Save replaces every field, UserID included), got %d", len(a))
	}
	b, err := st.ListByUser(background(), "user-b")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if len(b) != 1 || b[0].Key != "k-move" {
		t.Errorf("ListByUser(new user) after Save gave it the session: want [k-move] (SessionStore.Save replaces every field, UserID included), got %v", s.keys(b))
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "", 0, "SessionStore", "DeleteByUser(old user)", "the session now belongs to another user")
	s.wantStored(t, st, s.live("k-move", "user-b", s.now), "DeleteByUser(old user)", "SessionStore.DeleteByUser leaves other users' sessions untouched")
}

func (s *sessionSuite) replacePastExpiry(t suiteT, st loginkit.SessionStore) {
	s.store(t, st, s.live("k-end", "user-1", s.now))
	err := st.Save(background(), s.expired("k-end", "user-1", s.now))
	skipUnsupported(t, "Save", err)
	if err != nil {
		t.Fatalf("Save with ExpiresAt in the past: want no error (SessionStore.Save contract), got %v", err)
	}
	s.wantGone(t, st, "k-end", "Get after Save moved ExpiresAt into the past", "SessionStore.Save replaces the expiry; SessionStore.Get never returns an expired session")
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser after the session's expiry moved into the past: want none (SessionStore.ListByUser returns unexpired sessions), got %v", s.keys(list))
	}
	// The expired session's key saved again for another user: the key
	// belongs to its new owner only, for ListByUser and DeleteByUser.
	const moved = "SessionStore.Save over an expired session's key stores the new session under its new owner only"
	fresh := s.live("k-end", "user-2", s.now)
	s.store(t, st, fresh)
	wantDeleteByUser(t, st.DeleteByUser, "user-1", "", 0, "SessionStore", "DeleteByUser(old owner) after Save over its expired session's key", moved)
	s.wantStored(t, st, fresh, "Get after DeleteByUser of the key's old owner", moved)
	if list, err := st.ListByUser(background(), "user-2"); err == nil && !slices.Equal(s.keys(list), []string{"k-end"}) {
		t.Errorf("ListByUser(new owner) after Save over an expired session's key: want [k-end] (%s), got %v", moved, s.keys(list))
	}
}

func (s *sessionSuite) getMissing(t suiteT, st loginkit.SessionStore) {
	s.expiring.getMissing(t, st, "no-such-session", "key", "SessionStore.Get contract", "SessionStore.Get: a missing session is ErrNotFound")
}

func (s *sessionSuite) getExpired(t suiteT, st loginkit.SessionStore) {
	s.store(t, st, s.expired("k-expired", "user-1", s.now.Add(-2*time.Hour)))
	s.wantGone(t, st, "k-expired", "Get of a session whose ExpiresAt passed an hour ago", "SessionStore.Get: an expired session is ErrNotFound")
	// Still past AbsoluteExpiresAt does not matter: ExpiresAt decides.
	e := s.live("k-expired-2", "user-1", s.now.Add(-2*time.Hour))
	e.ExpiresAt = s.now.Add(-time.Second)
	e.AbsoluteExpiresAt = s.now.Add(time.Hour)
	s.store(t, st, e)
	s.wantGone(t, st, "k-expired-2", "Get of a session whose ExpiresAt passed a second ago", "SessionStore.Get: a session whose ExpiresAt is not after now is ErrNotFound")
}

func (s *sessionSuite) delete(t suiteT, st loginkit.SessionStore) {
	keep := s.live("k-keep", "user-1", s.now)
	s.store(t, st, s.live("k-del", "user-1", s.now), keep)
	must(t, st.Delete(background(), "k-del"), "Delete", "SessionStore.Delete contract")
	s.wantGone(t, st, "k-del", "Get after Delete", "SessionStore.Delete contract")
	must(t, st.Delete(background(), "k-del"), "Delete of an already deleted session", "SessionStore.Delete: deleting a missing session is not an error")
	must(t, st.Delete(background(), "never-existed"), "Delete of a missing session", "SessionStore.Delete: deleting a missing session is not an error")
	s.wantStored(t, st, keep, "Delete of another session", "SessionStore.Delete removes one session")
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if !slices.Equal(s.keys(list), []string{"k-keep"}) {
		t.Errorf("ListByUser after Delete: want [k-keep] (SessionStore.Delete removes the session from the user's list), got %v", s.keys(list))
	}
}

func (s *sessionSuite) listByUser(t suiteT, st loginkit.SessionStore) {
	a1 := s.full("a1", "user-a", s.now.Add(-3*time.Hour))
	a2 := s.full("a2", "user-a", s.now.Add(-1*time.Hour))
	a3 := s.full("a3", "user-a", s.now.Add(-2*time.Hour))
	// The other times do not rise with CreatedAt: the oldest session was
	// seen last and expires last, so only CreatedAt gives the order.
	a1.LastSeenAt, a2.LastSeenAt, a3.LastSeenAt = s.now.Add(-time.Minute), s.now.Add(-50*time.Minute), s.now.Add(-30*time.Minute)
	a1.AuthenticatedAt, a2.AuthenticatedAt, a3.AuthenticatedAt = a1.LastSeenAt, a2.LastSeenAt, a3.LastSeenAt
	a1.ExpiresAt, a2.ExpiresAt, a3.ExpiresAt = s.now.Add(3*time.Hour), s.now.Add(time.Hour), s.now.Add(2*time.Hour)
	aOld := s.expired("a-expired", "user-a", s.now.Add(-30*time.Minute))
	b1 := s.live("b1", "user-b", s.now.Add(-10*time.Minute))
	s.store(t, st, a1.Clone(), aOld, b1, a3.Clone(), a2.Clone())
	list, err := st.ListByUser(background(), "user-a")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if got, want := s.keys(list), []string{"a2", "a3", "a1"}; !slices.Equal(got, want) {
		t.Errorf("ListByUser: want %v (SessionStore.ListByUser: the user's unexpired sessions, newest CreatedAt first, no other user's), got %v", want, got)
	} else {
		for i, want := range []*loginkit.Session{a2, a3, a1} {
			s.wantEqual(t, want, list[i], "ListByUser", "SessionStore.ListByUser returns whole sessions")
		}
	}
	none, err := st.ListByUser(background(), "user-unknown")
	must(t, err, "ListByUser of a user without sessions", "SessionStore.ListByUser contract")
	if len(none) != 0 {
		t.Errorf("ListByUser of a user without sessions: want none, got %v", s.keys(none))
	}
	// Sessions created at the same instant are listed each (in any
	// order among themselves): an index keyed by time would merge them.
	tie := s.now.Add(-time.Minute)
	s.store(t, st, s.live("tie-1", "user-tie", tie), s.live("tie-2", "user-tie", tie), s.live("tie-3", "user-tie", tie))
	ties, err := st.ListByUser(background(), "user-tie")
	s.wantTies(t, ties, err)
}

func (s *sessionSuite) deleteByUser(t suiteT, st loginkit.SessionStore) {
	s.store(t, st,
		s.live("a1", "user-a", s.now.Add(-3*time.Minute)),
		s.live("a2", "user-a", s.now.Add(-2*time.Minute)),
		s.live("a3", "user-a", s.now.Add(-1*time.Minute)),
		s.live("b1", "user-b", s.now),
		s.live("b2", "user-b", s.now),
	)
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "a2", 2, "SessionStore", "DeleteByUser(user-a, except a2)", "SessionStore.DeleteByUser reports how many it removed")
	s.wantGone(t, st, "a1", "Get after DeleteByUser", "SessionStore.DeleteByUser removes the user's sessions")
	s.wantGone(t, st, "a3", "Get after DeleteByUser", "SessionStore.DeleteByUser removes the user's sessions")
	s.wantStored(t, st, s.live("a2", "user-a", s.now.Add(-2*time.Minute)), "DeleteByUser with exceptKey", "SessionStore.DeleteByUser keeps the session whose key is exceptKey")
	for _, k := range []string{"b1", "b2"} {
		s.wantStored(t, st, s.live(k, "user-b", s.now), "DeleteByUser of another user", "SessionStore.DeleteByUser leaves other users' sessions untouched")
	}
	list, err := st.ListByUser(background(), "user-a")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if !slices.Equal(s.keys(list), []string{"a2"}) {
		t.Errorf("ListByUser after DeleteByUser with exceptKey: want [a2], got %v", s.keys(list))
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "", 1, "SessionStore", `DeleteByUser(user-a, "")`, `SessionStore.DeleteByUser: none kept when exceptKey is empty`)
	s.wantGone(t, st, "a2", `Get after DeleteByUser with exceptKey ""`, "SessionStore.DeleteByUser removes all of the user's sessions when exceptKey is empty")
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "", 0, "SessionStore", "DeleteByUser of a user without sessions", "")
	wantDeleteByUser(t, st.DeleteByUser, "user-unknown", "", 0, "SessionStore", "DeleteByUser of an unknown user", "")
}

func (s *sessionSuite) deleteByUserForeignExcept(t suiteT, st loginkit.SessionStore) {
	s.store(t, st, s.live("a1", "user-a", s.now), s.live("a2", "user-a", s.now), s.live("b1", "user-b", s.now))
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "b1", 2, "SessionStore", "DeleteByUser(user-a, except another user's key)", "")
	s.wantStored(t, st, s.live("b1", "user-b", s.now), "DeleteByUser(user-a, except b1)", "SessionStore.DeleteByUser leaves other users' sessions untouched")
}

func (s *sessionSuite) deleteExpired(t suiteT, st loginkit.SessionStore) {
	l1, l2 := s.live("live-1", "user-a", s.now), s.live("live-2", "user-b", s.now)
	// Past its AbsoluteExpiresAt but not its ExpiresAt: live, as Get says.
	abs := s.live("live-abs", "user-c", s.now.Add(-3*time.Hour))
	abs.AbsoluteExpiresAt = s.now.Add(-time.Minute)
	s.store(t, st, s.expired("old-1", "user-a", s.now.Add(-2*time.Hour)), l1, s.expired("old-2", "user-b", s.now.Add(-2*time.Hour)), l2, abs)
	zero := s.live("old-zero", "user-b", s.now)
	zero.ExpiresAt = time.Time{}
	s.store(t, st, zero)
	s.wantStored(t, st, abs, "Get of a session past AbsoluteExpiresAt but not ExpiresAt", "SessionStore.Get: ExpiresAt decides")
	// user-c has no expired session, so that a store dropping expired
	// records lazily on lookups still has all three to sweep.
	if list, err := st.ListByUser(background(), "user-c"); err == nil {
		if got := s.keys(list); !slices.Equal(got, []string{"live-abs"}) {
			t.Errorf("ListByUser with a session past AbsoluteExpiresAt but not ExpiresAt: want [live-abs] (SessionStore.ListByUser returns unexpired sessions: ExpiresAt decides, as in Get), got %v", got)
		}
	} else {
		skipUnsupported(t, "ListByUser", err)
	}
	s.wantSweepCount(t, s.sweep(t, st), 3, "DeleteExpired with 3 expired sessions (one with a zero ExpiresAt)")
	s.wantStored(t, st, l1, "DeleteExpired", "SessionStore.DeleteExpired removes expired sessions only")
	s.wantStored(t, st, l2, "DeleteExpired", "SessionStore.DeleteExpired removes expired sessions only")
	s.wantStored(t, st, abs, "DeleteExpired with a session past AbsoluteExpiresAt but not ExpiresAt", "SessionStore.DeleteExpired removes only sessions whose ExpiresAt is not after now: ExpiresAt decides, as in Get")
	s.wantGone(t, st, "old-1", "Get after DeleteExpired", "SessionStore.Get never returns an expired session")
	s.wantSweptOnce(t, st)
	for _, c := range []struct {
		user string
		want []string
	}{{"user-a", []string{"live-1"}}, {"user-b", []string{"live-2"}}, {"user-c", []string{"live-abs"}}} {
		list, err := st.ListByUser(background(), c.user)
		must(t, err, "ListByUser", "SessionStore.ListByUser contract")
		got := s.keys(list)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("ListByUser(%s) after DeleteExpired: want %v (SessionStore.DeleteExpired removes expired sessions only), got %v", c.user, c.want, got)
		}
	}
}

// deleteExpiredThenByUser checks that, after a sweep, ListByUser and
// DeleteByUser see only the sessions that are left.
func (s *sessionSuite) deleteExpiredThenByUser(t suiteT, st loginkit.SessionStore) {
	s.store(t, st,
		s.expired("x1", "user-1", s.now.Add(-3*time.Hour)),
		s.expired("x2", "user-1", s.now.Add(-2*time.Hour)),
		s.live("l1", "user-1", s.now.Add(-time.Hour)),
		s.expired("y1", "user-10", s.now.Add(-time.Hour)),
	)
	s.sweepThenByUser(t, st, func() ([]*loginkit.Session, error) { return st.ListByUser(background(), "user-1") })
}

func (s *sessionSuite) isolation(t suiteT, st loginkit.SessionStore) {
	want := s.full("k-iso", "user-1", s.now)
	in := want.Clone()
	s.store(t, st, in)
	// Changing what was saved must not change what is stored.
	in.UserID = "intruder"
	in.Values["lang"] = "xx"
	in.Values["added"] = "1"
	in.ExpiresAt = s.now.Add(-time.Hour)
	s.wantStored(t, st, want, "Get after the caller modified the session it saved", "SessionStore.Save stores a copy: a caller's later changes do not reach the store")

	got, err := st.Get(background(), "k-iso")
	must(t, err, "Get", "SessionStore.Get contract")
	got.UserID = "intruder"
	got.Fresh = false
	if got.Values != nil {
		got.Values["lang"] = "xx"
		got.Values["added"] = "1"
		delete(got.Values, "flash")
	}
	s.wantStored(t, st, want, "Get after the caller modified a session Get returned", "SessionStore: returned sessions are copies the caller may modify")

	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	for _, x := range list {
		x.Key = "changed"
		if x.Values != nil {
			x.Values["lang"] = "yy"
		}
	}
	s.wantStored(t, st, want, "Get after the caller modified a session ListByUser returned", "SessionStore: returned sessions are copies the caller may modify")

	if tt, ok := st.(loginkit.SessionToucher); ok {
		touched := want.Clone()
		touched.LastSeenAt = s.now.Add(time.Minute)
		arg := touched.Clone()
		must(t, tt.Touch(background(), arg), "Touch", "SessionToucher.Touch contract")
		arg.UserID, arg.Values["lang"], arg.ExpiresAt = "intruder", "zz", s.now.Add(-time.Hour)
		s.wantStored(t, st, touched, "Get after the caller modified the session it touched", "SessionToucher.Touch stores a copy: a caller's later changes do not reach the store")
	}
}

func (s *sessionSuite) contextCancelled(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore: every method honours ctx"
	keep := s.live("k-ctx", "user-1", s.now)
	s.store(t, st, keep, s.expired("k-ctx-old", "user-1", s.now.Add(-2*time.Hour)))
	ctx := cancelled()
	err := st.Save(ctx, s.live("k-ctx-new", "user-1", s.now))
	wantCanceled(t, err, "Save with a cancelled context", clause)
	s.wantGone(t, st, "k-ctx-new", "Get after Save with a cancelled context", clause+": a cancelled Save stores nothing")
	_, err = st.Get(ctx, "k-ctx")
	wantCanceled(t, err, "Get with a cancelled context", clause)
	err = st.Delete(ctx, "k-ctx")
	wantCanceled(t, err, "Delete with a cancelled context", clause)
	_, err = st.ListByUser(ctx, "user-1")
	wantCanceled(t, err, "ListByUser with a cancelled context", clause)
	_, err = st.DeleteByUser(ctx, "user-1", "")
	wantCanceled(t, err, "DeleteByUser with a cancelled context", clause)
	_, err = st.DeleteExpired(ctx)
	wantCanceled(t, err, "DeleteExpired with a cancelled context", clause)
	if tt, ok := st.(loginkit.SessionToucher); ok {
		changed := s.live("k-ctx", "user-2", s.now)
		changed.LastSeenAt = s.now.Add(time.Minute)
		err = tt.Touch(ctx, changed)
		wantCanceled(t, err, "Touch with a cancelled context", clause)
	}
	s.wantStored(t, st, keep, "Get after Delete, DeleteByUser and Touch with a cancelled context", clause+": a cancelled call changes nothing")
	s.wantCancelledSweepRemovedNothing(t, st, clause)
}

func (s *sessionSuite) concurrent(t suiteT, st loginkit.SessionStore) {
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	ctx := background()
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				// Keys are shared between pairs of workers; the user is
				// derived from the key, so any session read must match it.
				key := fmt.Sprintf("c-%d-%d", w/2, i%5)
				user := "user-" + key
				x := s.live(key, user, s.now)
				x.Values = map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}
				if err := st.Save(ctx, x); err != nil {
					report("Save(%q): %v", key, err)
					continue
				}
				got, err := st.Get(ctx, key)
				switch {
				case errors.Is(err, loginkit.ErrNotFound):
				case err != nil:
					report("Get(%q): %v", key, err)
				case got.Key != key || got.UserID != user:
					report("Get(%q) returned session %q of %q", key, got.Key, got.UserID)
				}
				if _, err := st.ListByUser(ctx, user); err != nil {
					report("ListByUser(%q): %v", user, err)
				}
				if i%3 == 0 {
					if err := st.Delete(ctx, key); err != nil {
						report("Delete(%q): %v", key, err)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, p := range problems {
		t.Errorf("concurrent Save/Get/ListByUser/Delete: %s (SessionStore: safe for concurrent use)", p)
	}
}

// touch checks loginkit.SessionToucher, for stores that implement it.
func (s *sessionSuite) touch(t suiteT, st loginkit.SessionStore) {
	tt := s.toucher(t, st)
	clause := "SessionToucher.Touch: only an existing, unexpired session is updated"
	err := tt.Touch(background(), s.live("k-never", "user-1", s.now))
	wantErr(t, err, loginkit.ErrNotFound, "Touch of a missing session", clause)
	s.wantGone(t, st, "k-never", "Get after Touch of a missing session", clause+"; Touch never creates")

	x := s.live("k-touch", "user-1", s.now)
	s.store(t, st, x)
	y := s.full("k-touch", "user-1", s.now)
	y.LastSeenAt = s.now.Add(time.Minute)
	y.ExpiresAt = s.now.Add(3 * time.Hour)
	must(t, tt.Touch(background(), y), "Touch of an existing session", clause)
	s.wantStored(t, st, y, "Get after Touch", clause+"; Touch replaces the session")

	must(t, st.Delete(background(), "k-touch"), "Delete", "SessionStore.Delete contract")
	err = tt.Touch(background(), y)
	wantErr(t, err, loginkit.ErrNotFound, "Touch after Delete", clause)
	s.wantGone(t, st, "k-touch", "Get after Touch of a deleted session", clause+"; a deleted session stays deleted")

	// Past AbsoluteExpiresAt but not ExpiresAt: live, so Touch updates it.
	abs := s.live("k-touch-abs", "user-1", s.now.Add(-3*time.Hour))
	abs.AbsoluteExpiresAt = s.now.Add(-time.Minute)
	s.store(t, st, abs.Clone())
	abs.LastSeenAt = s.now.Add(time.Minute)
	must(t, tt.Touch(background(), abs.Clone()), "Touch of a session past AbsoluteExpiresAt but not ExpiresAt", clause+"; ExpiresAt decides")
	s.wantStored(t, st, abs, "Get after Touch of a session past AbsoluteExpiresAt but not ExpiresAt", clause+"; ExpiresAt decides")

	e := s.expired("k-touch-expired", "user-1", s.now.Add(-2*time.Hour))
	s.store(t, st, e)
	err = tt.Touch(background(), s.live("k-touch-expired", "user-1", s.now))
	wantErr(t, err, loginkit.ErrNotFound, "Touch of an expired session", clause)
	s.wantGone(t, st, "k-touch-expired", "Get after Touch of an expired session", clause+"; an expired session stays expired")
}

func (s *sessionSuite) zeroExpiresAt(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore.Get: a session whose ExpiresAt is not after now is ErrNotFound; a zero ExpiresAt is long past"
	z := s.live("k-zero-exp", "user-1", s.now)
	z.ExpiresAt = time.Time{}
	s.store(t, st, z)
	s.wantGone(t, st, "k-zero-exp", "Get of a session saved with a zero ExpiresAt", clause)
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser with only a session whose ExpiresAt is zero: want none (%s), got %v", clause, s.keys(list))
	}
	if tt, ok := st.(loginkit.SessionToucher); ok {
		err := tt.Touch(background(), s.live("k-zero-exp", "user-1", s.now))
		wantErr(t, err, loginkit.ErrNotFound, "Touch of a session saved with a zero ExpiresAt", "SessionToucher.Touch: an expired session is ErrNotFound")
	}
}

// expiryBoundary puts an ExpiresAt at exactly now: the session is gone.
// With the harness's NewWithClock, "now" is a clock the suite sets;
// without it, the store's own clock, read after the session was saved.
func (s *sessionSuite) expiryBoundary(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore.Get: a session whose ExpiresAt is not after now is ErrNotFound"
	st, at, justAfter := s.atBoundary(t, st)
	edge := s.live("k-edge", "user-1", at.Add(-time.Hour))
	edge.ExpiresAt = at
	after := s.live("k-after", "user-1", at.Add(-2*time.Hour))
	after.ExpiresAt = justAfter
	// Another session expiring exactly now, that nothing looks up before
	// the sweep: a store without native expiry must sweep it.
	unseen := s.live("k-edge-unseen", "user-2", at.Add(-time.Hour))
	unseen.ExpiresAt = at
	s.store(t, st, edge, after, unseen)
	s.wantGone(t, st, "k-edge", "Get of a session whose ExpiresAt is exactly now", clause)
	s.wantStored(t, st, after, "Get of a session whose ExpiresAt is just after now", "SessionStore.Get returns a session whose ExpiresAt is after now")
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, []string{"k-after"}) {
		t.Errorf("ListByUser with a session whose ExpiresAt is exactly now: want [k-after] (SessionStore.ListByUser returns unexpired sessions; ExpiresAt not after now is expired), got %v", got)
	}
	if tt, ok := st.(loginkit.SessionToucher); ok {
		e := edge.Clone()
		e.LastSeenAt = at
		err := tt.Touch(background(), e)
		wantErr(t, err, loginkit.ErrNotFound, "Touch of a session whose ExpiresAt is exactly now", "SessionToucher.Touch: an expired session is ErrNotFound")
	}
	if s.newWithClock != nil {
		// The lookups above may have dropped the expired session already.
		n := s.sweep(t, st)
		lo := 1
		if s.native {
			lo = 0
		}
		if n < lo || n > 2 {
			t.Errorf("DeleteExpired with two sessions whose ExpiresAt is exactly now, one never looked up: want %d to 2 (SessionStore.DeleteExpired removes expired sessions only, and a session whose ExpiresAt is exactly now is expired), got %d", lo, n)
		}
		s.wantStored(t, st, after, "Get after DeleteExpired", "SessionStore.DeleteExpired removes expired sessions only")
	}
}

// keysCaseSensitive checks that keys differing only in letter case are
// different sessions: keys are exact, case-sensitive base64url.
func (s *sessionSuite) keysCaseSensitive(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore: keys are exact and case-sensitive (base64url)"
	lower := s.live("k-case-ab_c-9", "user-1", s.now.Add(-time.Minute))
	upper := s.live("K-CASE-AB_C-9", "user-2", s.now)
	s.store(t, st, lower, upper)
	s.wantStored(t, st, lower, "Get of a key differing from another only in case", clause)
	s.wantStored(t, st, upper, "Get of a key differing from another only in case", clause)
	s.wantGone(t, st, "k-case-AB_C-9", "Get of a key stored only in other cases", clause)
	must(t, st.Delete(background(), "K-CASE-AB_C-9"), "Delete", "SessionStore.Delete contract")
	s.wantStored(t, st, lower, "Get after deleting a key differing only in case", clause)
	// Keys that begin with one another are different sessions too.
	const exact = "SessionStore: keys are exact, not prefixes"
	long := s.live("k-case-ab_c-9x", "user-3", s.now)
	s.store(t, st, long)
	s.wantGone(t, st, "k-case-ab_c", "Get of a prefix of stored keys", exact)
	must(t, st.Delete(background(), "k-case-ab_c-9"), "Delete", "SessionStore.Delete contract")
	s.wantStored(t, st, long, "Get after deleting a key that is a prefix of this one", exact)
	// Characters a pattern match would take as wildcards ('_' in LIKE,
	// and '-', '_' are base64url) match themselves only.
	const literal = "SessionStore: keys are exact: '_' and '%' are no wildcards"
	wild := s.live("k-wild-abXc", "user-5", s.now)
	s.store(t, st, wild)
	for _, k := range []string{"k-wild-ab_c", "k-wild-ab%", "k-wild-a__c", "%"} {
		s.wantGone(t, st, k, "Get of a key that matches a stored one only as a LIKE pattern", literal)
	}
	for _, k := range []string{"k-wild-ab_c", "k-wild-ab%"} {
		must(t, st.Delete(background(), k), "Delete", "SessionStore.Delete contract")
	}
	s.wantStored(t, st, wild, "Get after Delete of keys that match it only as LIKE patterns", literal)
	// DeleteByUser's exceptKey is exact too: it keeps that session only,
	// not one whose key differs from it in case or begins with it.
	const except = "SessionStore.DeleteByUser: exceptKey is exact and case-sensitive"
	keep := s.live("k-exc-ab_c", "user-4", s.now.Add(-time.Minute))
	s.store(t, st, keep, s.live("K-EXC-AB_C", "user-4", s.now), s.live("k-exc-ab_c-9", "user-4", s.now))
	wantDeleteByUser(t, st.DeleteByUser, "user-4", keep.Key, 2, "SessionStore", "DeleteByUser(user-4, except k-exc-ab_c) beside K-EXC-AB_C and k-exc-ab_c-9", except)
	s.wantStored(t, st, keep, "Get of the excepted session", except)
	s.wantGone(t, st, "K-EXC-AB_C", "Get of a session whose key differs from exceptKey only in case", except)
	s.wantGone(t, st, "k-exc-ab_c-9", "Get of a session whose key begins with exceptKey", except)
}

// userIDPrefixes checks that a user's sessions are told apart from those
// of a user whose ID begins with it.
func (s *sessionSuite) userIDPrefixes(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore: a user's sessions are matched by exact UserID, not by prefix"
	s.store(t, st,
		s.live("p1", "user-1", s.now.Add(-time.Minute)),
		s.live("p10", "user-10", s.now),
		s.live("p100", "user-100", s.now),
		s.live("p1x", "user-1:x", s.now),
	)
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, []string{"p1"}) {
		t.Errorf("ListByUser(user-1) beside user-10, user-100 and user-1:x: want [p1] (%s), got %v", clause, got)
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-1", "", 1, "SessionStore", "DeleteByUser(user-1) beside user-10, user-100 and user-1:x", clause)
	for _, k := range []string{"p10", "p100", "p1x"} {
		got, err := st.Get(background(), k)
		if err != nil {
			skipUnsupported(t, "Get", err)
			t.Errorf("Get(%q) after DeleteByUser(user-1): want the session (%s), got %v, %v", k, clause, s.describe(got), err)
		}
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-1", "", 0, "SessionStore", "second DeleteByUser(user-1)", clause)
}

// longValues checks values as long as the manager writes: a 256-byte
// User-Agent (the manager's cap), a full-length IPv6 address and
// 43-character keys and fingerprints.
func (s *sessionSuite) longValues(t suiteT, st loginkit.SessionStore) {
	ua := "Mozilla/5.0 (Zoë) " + strings.Repeat("AppleWebKit/537.36 ", 13)
	ua = ua[:256]
	key := strings.Repeat("Kq9_-", 8) + "xyz"
	x := s.full(key, "user-long", s.now.Add(-time.Minute))
	x.UserAgent = ua
	x.IP = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
	x.Fingerprint = strings.Repeat("f_-9", 10) + "abc"
	x.Values = map[string]string{"long": strings.Repeat("v", 512)}
	s.store(t, st, x.Clone())
	s.wantStored(t, st, x, "Get of a session with a 256-byte UserAgent", "SessionStore.Save persists every field whole, values as long as the manager writes included")
}

// timesInUTC saves times in another zone and wants them back in UTC.
func (s *sessionSuite) timesInUTC(t suiteT, st loginkit.SessionStore) {
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	x := s.full("k-zone", "user-1", s.now.Add(-time.Hour))
	in := x.Clone()
	for _, p := range []*time.Time{&in.CreatedAt, &in.AuthenticatedAt, &in.LastSeenAt, &in.ExpiresAt, &in.AbsoluteExpiresAt} {
		*p = p.In(zone)
	}
	s.store(t, st, in)
	s.wantStored(t, st, x, "Get of a session saved with times in UTC+05:30", "loginkit.Session: all times are UTC; stores return the same instants in time.UTC")
}

// touchDeleteRace races Touch against Delete of the same sessions, the
// logout race SessionToucher exists to close: whichever runs first, the
// session must end up gone. The rounds repeat for raceBudget, so that a
// Touch made of a Get and a Save with no pause between them is caught
// every time: TestRaceMutantsCaughtEveryTime runs this case 10 times
// against such a store (touchThenSave) and requires a failure in each.
func (s *sessionSuite) touchDeleteRace(t suiteT, st loginkit.SessionStore) {
	tt := s.toucher(t, st)
	// Each round saves a few sessions, and every goroutine goes through
	// them all in the same order, touching some and deleting the others
	// (half of the goroutines touch each session, half delete it), all
	// starting on each session together.
	const keysPerRound, workers = 8, 12
	const clause = "SessionToucher.Touch: a session deleted while Touch runs stays deleted"
	repeatRace(func(r int) bool {
		keys := make([]string, keysPerRound)
		for i := range keysPerRound {
			keys[i] = fmt.Sprintf("race-%d-%d", r, i)
			s.store(t, st, s.live(keys[i], "user-race", s.now))
		}
		var mu sync.Mutex
		var problems []string
		report := func(format string, args ...any) {
			mu.Lock()
			problems = append(problems, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
		raceSteps(workers, keysPerRound, func(g, i int) {
			k := keys[i]
			if (g+i)%2 == 0 {
				if err := st.Delete(raceContext(), k); err != nil {
					report("Delete(%q) racing Touch: want no error (SessionStore.Delete contract), got %v", k, err)
				}
				return
			}
			y := s.live(k, "user-race", s.now)
			y.LastSeenAt = s.now.Add(time.Minute)
			if err := tt.Touch(raceContext(), y); err != nil && !errors.Is(err, loginkit.ErrNotFound) {
				report("Touch(%q) racing Delete: want nil or ErrNotFound (%s), got %v", k, clause, err)
			}
		})
		for _, p := range problems[:min(len(problems), 5)] {
			t.Errorf("%s", p)
		}
		for _, k := range keys {
			if got, err := st.Get(background(), k); !errors.Is(err, loginkit.ErrNotFound) {
				t.Errorf("Get(%q) after Touch raced Delete (round %d): want ErrNotFound (%s), got %s, error %v", k, r+1, clause, s.describe(got), err)
				return false
			}
		}
		return len(problems) == 0
	})
}

// expiryExtended checks that Save and Touch move a session's expiry
// later, not only its fields: once the old ExpiresAt has passed, the
// session is still there. With the harness's NewWithClock the suite moves
// the clock; without it, the old expiry is 300ms away and the case waits
// for it.
func (s *sessionSuite) expiryExtended(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore: Save and Touch replace ExpiresAt, so a session extended past its old expiry lives on"
	at := time.Now().UTC().Truncate(s.prec)
	var c *clock
	if s.newWithClock != nil {
		c = &clock{now: s.now.Truncate(s.prec)}
		at = c.now
		st = s.newWithClock(t, c.Now)
	}
	soon := at.Add(300 * time.Millisecond)
	saved := s.live("k-extend-save", "user-1", at.Add(-time.Hour))
	saved.ExpiresAt = soon
	touched := s.live("k-extend-touch", "user-1", at.Add(-2*time.Hour))
	touched.ExpiresAt = soon
	s.store(t, st, saved.Clone(), touched.Clone())
	later := at.Add(time.Hour)
	saved.ExpiresAt, saved.LastSeenAt = later, at
	s.store(t, st, saved.Clone())
	tt, hasTouch := st.(loginkit.SessionToucher)
	if hasTouch {
		touched.ExpiresAt, touched.LastSeenAt = later, at
		must(t, tt.Touch(background(), touched.Clone()), "Touch", "SessionToucher.Touch contract")
	}
	if c != nil {
		c.mu.Lock()
		c.now = soon.Add(time.Second)
		c.mu.Unlock()
	} else {
		time.Sleep(time.Until(soon.Add(50 * time.Millisecond)))
	}
	s.wantStored(t, st, saved, "Get after Save moved ExpiresAt later and the old expiry passed", clause)
	want := []string{"k-extend-save"}
	if hasTouch {
		s.wantStored(t, st, touched, "Get after Touch moved ExpiresAt later and the old expiry passed", clause)
		want = []string{"k-extend-save", "k-extend-touch"}
	}
	list, err := st.ListByUser(background(), "user-1")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, want) {
		t.Errorf("ListByUser after the sessions' old expiry passed: want %v (%s), got %v", want, clause, got)
	}
	if c != nil {
		if n := s.sweep(t, st); n != 0 {
			t.Errorf("DeleteExpired after the sessions' old expiry passed: want 0 (%s), got %d", clause, n)
		}
	}
}

// listByUserMany checks that ListByUser and DeleteByUser have no page
// size of their own: 130 sessions of one user are all listed and all
// deleted.
func (s *sessionSuite) listByUserMany(t suiteT, st loginkit.SessionStore) {
	const n = 130
	const clause = "SessionStore.ListByUser returns all of the user's unexpired sessions, however many"
	var want []string
	for i := range n {
		k := fmt.Sprintf("many-%03d", i)
		s.store(t, st, s.live(k, "user-many", s.now.Add(-time.Duration(i)*time.Second)))
		want = append(want, k)
	}
	s.store(t, st, s.live("other", "user-other", s.now))
	list, err := st.ListByUser(background(), "user-many")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, want) {
		t.Errorf("ListByUser of a user with %d sessions: want all %d, newest CreatedAt first (%s), got %d: %v", n, n, clause, len(got), got[:min(len(got), 5)])
	}
	removed, err := st.DeleteByUser(background(), "user-many", "many-007")
	must(t, err, "DeleteByUser", "SessionStore.DeleteByUser contract")
	if removed != n-1 {
		t.Errorf("DeleteByUser of a user with %d sessions, except one: want %d removed (SessionStore.DeleteByUser removes all of the user's sessions, however many), got %d", n, n-1, removed)
	}
	list, err = st.ListByUser(background(), "user-many")
	must(t, err, "ListByUser", "SessionStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, []string{"many-007"}) {
		t.Errorf("ListByUser after DeleteByUser except many-007: want [many-007] (SessionStore.DeleteByUser removes all of the user's sessions, however many), got %d sessions", len(got))
	}
}

// anonymous checks a session with an empty UserID: the manager keeps the
// values of visitors who are not logged in (Manager.SetValue) in such
// sessions, so a store keeps them like any other and never mixes them up
// with a user's.
func (s *sessionSuite) anonymous(t suiteT, st loginkit.SessionStore) {
	const clause = "SessionStore: a session with an empty UserID (an anonymous session carrying values) is stored like any other"
	anon := s.full("k-anon", "", s.now)
	anon.Values = map[string]string{"flash": "Vous êtes déconnecté ✓", "next": "/account?tab=1"}
	must(t, st.Save(background(), anon.Clone()), `Save of a session with an empty UserID`, clause)
	s.store(t, st, s.live("k-anon-user", "user-1", s.now))
	s.wantStored(t, st, anon, "Save then Get of an anonymous session", clause)
	list, err := st.ListByUser(background(), "user-1")
	if err != nil {
		skipUnsupported(t, "ListByUser", err)
		t.Errorf("ListByUser(user-1): %v (%s)", err, clause)
	} else if len(list) != 1 || list[0].Key != "k-anon-user" {
		t.Errorf("ListByUser(user-1) with an anonymous session stored: got %d sessions, want only k-anon-user (%s)", len(list), clause)
	}
	if _, err := st.DeleteByUser(background(), "user-1", ""); err != nil {
		skipUnsupported(t, "DeleteByUser", err)
		t.Errorf("DeleteByUser(user-1): %v (%s)", err, clause)
	}
	s.wantStored(t, st, anon, "Get of an anonymous session after DeleteByUser of a user", clause+"; DeleteByUser leaves it alone")
	if tt, ok := st.(loginkit.SessionToucher); ok {
		next := anon.Clone()
		next.Values = map[string]string{"next": "/account?tab=1"}
		next.LastSeenAt = s.now.Add(time.Minute)
		must(t, tt.Touch(background(), next), "Touch of an anonymous session", clause)
		s.wantStored(t, st, next, "Get after Touch of an anonymous session", clause)
	}
	must(t, st.Delete(background(), "k-anon"), "Delete of an anonymous session", clause)
	s.wantGone(t, st, "k-anon", "Get after Delete of an anonymous session", clause)
}
