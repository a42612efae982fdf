package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// purposeRememberRotated is the purpose the manager gives the record a
// rotated remember token leaves behind; the suite uses it as a purpose that
// starts with another purpose ("remember").
const purposeRememberRotated = "remember-rotated"

// TestTokens checks a loginkit.TokenStore against its contract: round
// trips, unique selectors, single consumption (also under concurrent
// consumers), expiry, idempotent deletes, per-user listing and bulk
// deletion by purpose, isolation of returned values and cancelled
// contexts. Each case runs as a subtest with a fresh store from h.New.
func TestTokens(t *testing.T, h TokenHarness) {
	t.Helper()
	runTokens(wrapT(t), h)
}

// tokenSuite holds what the token cases share.
type tokenSuite struct {
	expiring[loginkit.TokenStore, loginkit.Token]
}

func runTokens(t suiteT, h TokenHarness) {
	t.Helper()
	s := &tokenSuite{expiring[loginkit.TokenStore, loginkit.Token]{
		timing: newTiming(h.TimePrecision), kind: "TokenStore", noun: "token",
		native: h.NativeExpiry, newWithClock: h.NewWithClock, putOp: "Create", put: loginkit.TokenStore.Create,
		key: func(x *loginkit.Token) string { return x.Selector }, show: describeToken,
	}}
	runSuite(t, "TokenHarness", "TokenStore", methodsOf[loginkit.TokenStore](), h.New, []suiteCase[loginkit.TokenStore]{
		{"CreateGetRoundTrip", s.roundTrip},
		{"CreateEmptySelector", s.emptySelector},
		{"CreateDuplicateSelector", s.duplicate},
		{"CreateOverExpiredSelector", s.createOverExpired},
		{"GetMissing", s.getMissing},
		{"Consume", s.consume},
		{"ConsumeMissing", s.consumeMissing},
		{"ConsumeConcurrent", s.consumeConcurrent},
		{"CreateConcurrentSameSelector", s.createConcurrent},
		{"Expired", s.expiredToken},
		{"ZeroExpiresAt", s.zeroExpiresAt},
		{"ExpiryBoundary", s.expiryBoundary},
		{"SelectorsCaseSensitive", s.selectorsCaseSensitive},
		{"UserIDAndPurposePrefixes", s.prefixes},
		{"TimesInUTC", s.timesInUTC},
		{"Delete", s.delete},
		{"ListByUser", s.listByUser},
		{"ListByUserMany", s.listByUserMany},
		{"DeleteByUser", s.deleteByUser},
		{"DeleteExpired", s.deleteExpired},
		{"DeleteExpiredThenByUser", s.deleteExpiredThenByUser},
		{"ReturnedValuesIsolated", s.isolation},
		{"ContextCancelled", s.contextCancelled},
	})
}

// token returns an unexpired token with every field set, its times
// carrying sub-millisecond parts.
func (s *tokenSuite) token(sel, userID, purpose string, created time.Time) *loginkit.Token {
	return &loginkit.Token{
		Selector:      sel,
		ValidatorHash: "vh-" + sel + "-Zoë✓",
		UserID:        userID,
		Purpose:       purpose,
		Version:       1<<33 + 5,
		CreatedAt:     created.Add(123456789),
		ExpiresAt:     s.now.Add(time.Hour + 987654321),
	}
}

// expired returns a token whose ExpiresAt passed an hour ago.
func (s *tokenSuite) expired(sel, userID, purpose string, created time.Time) *loginkit.Token {
	x := s.token(sel, userID, purpose, created)
	x.ExpiresAt = s.now.Add(-time.Hour)
	return x
}

func describeToken(x *loginkit.Token) string {
	return fmt.Sprintf("{Selector:%q UserID:%q Purpose:%q ExpiresAt:%s}", x.Selector, x.UserID, x.Purpose, showTime(x.ExpiresAt))
}

func (s *tokenSuite) roundTrip(t suiteT, st loginkit.TokenStore) {
	want := s.token("sel-round", "user-1", loginkit.PurposeRemember, s.now.Add(-time.Minute))
	s.store(t, st, copyToken(want))
	s.wantStored(t, st, want, "Create then Get", "TokenStore.Create persists every field")
	zero := &loginkit.Token{Selector: "sel-zero", UserID: "user-1", ExpiresAt: s.now.Add(time.Hour)}
	s.store(t, st, copyToken(zero))
	s.wantStored(t, st, zero, "Create with zero values then Get", "TokenStore.Create persists every field, zero values included")
}

func copyToken(x *loginkit.Token) *loginkit.Token {
	c := *x
	return &c
}

func (s *tokenSuite) emptySelector(t suiteT, st loginkit.TokenStore) {
	err := st.Create(background(), s.token("", "user-1", "reset", s.now))
	wantErr(t, err, loginkit.ErrInvalid, `Create with Selector ""`, "TokenStore.Create: an empty selector is ErrInvalid")
}

func (s *tokenSuite) duplicate(t suiteT, st loginkit.TokenStore) {
	first := s.token("sel-dup", "user-1", loginkit.PurposeRemember, s.now)
	s.store(t, st, copyToken(first))
	second := s.token("sel-dup", "user-2", "reset", s.now.Add(time.Minute))
	second.ValidatorHash = "other"
	err := st.Create(background(), second)
	wantErr(t, err, loginkit.ErrDuplicate, "Create with a selector already stored", "TokenStore.Create: a token with the same selector already stored is ErrDuplicate")
	s.wantStored(t, st, first, "Get after a duplicate Create", "TokenStore.Create: a refused Create changes nothing")
	list, err := st.ListByUser(background(), "user-2", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser(user-2) after its duplicate Create was refused: want none (a refused Create changes nothing), got %v", s.keys(list))
	}
}

func (s *tokenSuite) createOverExpired(t suiteT, st loginkit.TokenStore) {
	const clause = "TokenStore.Create over an expired token's selector stores the new token whole, under its new owner and purpose"
	s.store(t, st, s.expired("sel-reuse", "user-1", loginkit.PurposeRemember, s.now.Add(-2*time.Hour)))
	// The new token differs in every field, its owner and purpose included.
	fresh := &loginkit.Token{
		Selector: "sel-reuse", ValidatorHash: "other-validator", UserID: "user-2", Purpose: "reset",
		Version: 3, CreatedAt: s.now.Add(-time.Minute + 7), ExpiresAt: s.now.Add(2*time.Hour + 9),
	}
	err := st.Create(background(), copyToken(fresh))
	skipUnsupported(t, "Create", err)
	if err != nil {
		t.Fatalf("Create over an expired token's selector: want no error (TokenStore.Create: only an unexpired token with the same selector is ErrDuplicate), got %v", err)
	}
	s.wantStored(t, st, fresh, "Get after Create over an expired token", clause)
	for _, purpose := range []string{"", loginkit.PurposeRemember} {
		list, err := st.ListByUser(background(), "user-1", purpose)
		must(t, err, "ListByUser", "TokenStore.ListByUser contract")
		if len(list) != 0 {
			t.Errorf("ListByUser(old owner, %q) after Create over its expired selector: want none (%s), got %v", purpose, clause, s.keys(list))
		}
	}
	list, err := st.ListByUser(background(), "user-2", "reset")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if !slices.Equal(s.keys(list), []string{"sel-reuse"}) {
		t.Errorf("ListByUser(new owner, new purpose) after Create over an expired selector: want [sel-reuse] (%s), got %v", clause, s.keys(list))
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-1", "", 0, "TokenStore", "DeleteByUser(old owner) after Create over its expired selector", clause)
	s.wantStored(t, st, fresh, "Get after DeleteByUser of the selector's old owner", clause)
	wantDeleteByUser(t, st.DeleteByUser, "user-2", "reset", 1, "TokenStore", "DeleteByUser(new owner, new purpose) after Create over an expired selector", clause)
	s.wantGone(t, st, "sel-reuse", "Get after DeleteByUser of the selector's new owner", clause)
	// An expired selector re-created by its own owner, for the same
	// purpose, is one token: listed once, deleted once.
	const same = "TokenStore.Create over an expired token's selector replaces it: the owner has one token under that selector"
	s.store(t, st, s.expired("sel-again", "user-3", "reset", s.now.Add(-2*time.Hour)))
	again := s.token("sel-again", "user-3", "reset", s.now)
	s.store(t, st, copyToken(again))
	list, err = st.ListByUser(background(), "user-3", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if !slices.Equal(s.keys(list), []string{"sel-again"}) {
		t.Errorf("ListByUser after Create over the owner's own expired selector: want [sel-again] (%s), got %v", same, s.keys(list))
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-3", "", 1, "TokenStore", "DeleteByUser after Create over the owner's own expired selector", same)
}

func (s *tokenSuite) getMissing(t suiteT, st loginkit.TokenStore) {
	s.expiring.getMissing(t, st, "no-such-selector", "selector", "TokenStore.Get: missing is ErrNotFound", "TokenStore.Get: missing is ErrNotFound")
}

func (s *tokenSuite) consume(t suiteT, st loginkit.TokenStore) {
	want := s.token("sel-once", "user-1", "reset", s.now)
	other := s.token("sel-other", "user-1", "reset", s.now)
	s.store(t, st, copyToken(want), copyToken(other))
	got, err := st.Consume(background(), "sel-once")
	must(t, err, "Consume", "TokenStore.Consume returns a stored token")
	s.wantEqual(t, want, got, "Consume", "TokenStore.Consume returns the whole token")
	_, err = st.Consume(background(), "sel-once")
	wantErr(t, err, loginkit.ErrNotFound, "second Consume of the same token", "TokenStore.Consume: a token is consumed at most once")
	s.wantGone(t, st, "sel-once", "Get after Consume", "TokenStore.Consume deletes the token")
	list, err := st.ListByUser(background(), "user-1", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if !slices.Equal(s.keys(list), []string{"sel-other"}) {
		t.Errorf("ListByUser after Consume: want [sel-other] (TokenStore.Consume deletes the token, and only it), got %v", s.keys(list))
	}
}

func (s *tokenSuite) consumeMissing(t suiteT, st loginkit.TokenStore) {
	_, err := st.Consume(background(), "no-such-selector")
	wantErr(t, err, loginkit.ErrNotFound, "Consume of a missing selector", "TokenStore.Consume contract")
}

// consumeConcurrent races 20 consumers for one token, round after round
// for raceBudget, so that a Consume made of a Get and a Delete with no
// pause between them is caught every time: TestRaceMutantsCaughtEveryTime
// runs this case 10 times against such a store (getThenDeleteTokens) and
// requires a failure in each.
func (s *tokenSuite) consumeConcurrent(t suiteT, st loginkit.TokenStore) {
	// Each round stores a few tokens, and every consumer goes through all
	// of them in the same order, all starting on each token together.
	const consumers, perRound = 20, 6
	repeatRace(func(r int) bool {
		sels := make([]string, perRound)
		wants := make([]*loginkit.Token, perRound)
		for k := range perRound {
			sels[k] = fmt.Sprintf("sel-race-%d-%d", r, k)
			wants[k] = s.token(sels[k], "user-1", loginkit.PurposeRemember, s.now)
			s.store(t, st, copyToken(wants[k]))
		}
		results := make([][perRound]error, consumers)
		tokens := make([][perRound]*loginkit.Token, consumers)
		raceSteps(consumers, perRound, func(i, k int) {
			tokens[i][k], results[i][k] = st.Consume(raceContext(), sels[k])
		})
		for k, sel := range sels {
			wins := 0
			for i := range consumers {
				switch err := results[i][k]; {
				case err == nil:
					wins++
					s.wantEqual(t, wants[k], tokens[i][k], "concurrent Consume", "TokenStore.Consume returns the whole token")
				case errors.Is(err, loginkit.ErrNotFound):
				default:
					t.Errorf("concurrent Consume(%q): want the token or ErrNotFound (TokenStore.Consume contract), got %v", sel, err)
				}
			}
			if wins != 1 {
				t.Errorf("%d concurrent Consume(%q) (round %d): want exactly 1 success (TokenStore.Consume is atomic: at most one caller gets the token), got %d", consumers, sel, r+1, wins)
				return false
			}
		}
		return !t.Failed()
	})
}

// createConcurrent races 20 creators of one selector, round after round
// for raceBudget, so that a Create that checks for the selector and then
// writes, with no pause between, is caught every time:
// TestRaceMutantsCaughtEveryTime runs this case 10 times against such a
// store (checkThenSetTokens) and requires a failure in each.
func (s *tokenSuite) createConcurrent(t suiteT, st loginkit.TokenStore) {
	// Every racer goes through the round's selectors in the same order,
	// all starting on each selector together.
	const racers, perRound = 20, 4
	repeatRace(func(r int) bool {
		sels := make([]string, perRound)
		for k := range perRound {
			sels[k] = fmt.Sprintf("sel-create-race-%d-%d", r, k)
		}
		errs := make([][perRound]error, racers)
		raceSteps(racers, perRound, func(i, k int) {
			errs[i][k] = st.Create(raceContext(), s.token(sels[k], fmt.Sprintf("user-%d", i), "reset", s.now))
		})
		for k, sel := range sels {
			wins, winner := 0, -1
			for i := range racers {
				switch err := errs[i][k]; {
				case err == nil:
					wins++
					winner = i
				case errors.Is(err, loginkit.ErrDuplicate):
				default:
					skipUnsupported(t, "Create", err)
					t.Errorf("concurrent Create of one selector: want nil or ErrDuplicate (TokenStore.Create contract), got %v", err)
				}
			}
			if wins != 1 {
				t.Errorf("%d concurrent Creates of one selector (round %d): want exactly 1 success (TokenStore.Create: a selector already stored is ErrDuplicate, also under concurrent creates), got %d", racers, r+1, wins)
				return false
			}
			got, err := st.Get(background(), sel)
			must(t, err, "Get", "TokenStore.Get contract")
			if want := fmt.Sprintf("user-%d", winner); got.UserID != want {
				t.Errorf("Get after concurrent Creates: want the winner's token (user %q), got user %q (a refused Create changes nothing)", want, got.UserID)
				return false
			}
		}
		return !t.Failed()
	})
}

func (s *tokenSuite) expiredToken(t suiteT, st loginkit.TokenStore) {
	s.store(t, st, s.expired("sel-old", "user-1", "reset", s.now.Add(-2*time.Hour)))
	s.wantGone(t, st, "sel-old", "Get of a token whose ExpiresAt passed an hour ago", "TokenStore.Get: expired is ErrNotFound")
	_, err := st.Consume(background(), "sel-old")
	wantErr(t, err, loginkit.ErrNotFound, "Consume of a token whose ExpiresAt passed an hour ago", "TokenStore.Consume: an expired token is ErrNotFound")
	list, err := st.ListByUser(background(), "user-1", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser with only an expired token: want none (TokenStore.ListByUser returns unexpired tokens), got %v", s.keys(list))
	}
}

func (s *tokenSuite) delete(t suiteT, st loginkit.TokenStore) {
	keep := s.token("sel-keep", "user-1", "reset", s.now)
	s.store(t, st, s.token("sel-del", "user-1", "reset", s.now), copyToken(keep))
	must(t, st.Delete(background(), "sel-del"), "Delete", "TokenStore.Delete contract")
	s.wantGone(t, st, "sel-del", "Get after Delete", "TokenStore.Delete contract")
	_, err := st.Consume(background(), "sel-del")
	wantErr(t, err, loginkit.ErrNotFound, "Consume after Delete", "TokenStore.Delete contract")
	must(t, st.Delete(background(), "sel-del"), "Delete of an already deleted token", "TokenStore.Delete: deleting a missing token is not an error")
	must(t, st.Delete(background(), "never-existed"), "Delete of a missing token", "TokenStore.Delete: deleting a missing token is not an error")
	s.wantStored(t, st, keep, "Delete of another token", "TokenStore.Delete removes one token")
	list, err := st.ListByUser(background(), "user-1", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if !slices.Equal(s.keys(list), []string{"sel-keep"}) {
		t.Errorf("ListByUser after Delete: want [sel-keep], got %v", s.keys(list))
	}
}

func (s *tokenSuite) listByUser(t suiteT, st loginkit.TokenStore) {
	r1 := s.token("r1", "user-a", loginkit.PurposeRemember, s.now.Add(-3*time.Hour))
	r2 := s.token("r2", "user-a", loginkit.PurposeRemember, s.now.Add(-1*time.Hour))
	p1 := s.token("p1", "user-a", "reset", s.now.Add(-2*time.Hour))
	// Expiry does not rise with CreatedAt: only CreatedAt gives the order.
	r1.ExpiresAt, r2.ExpiresAt, p1.ExpiresAt = s.now.Add(3*time.Hour), s.now.Add(time.Hour), s.now.Add(2*time.Hour)
	old := s.expired("r-old", "user-a", loginkit.PurposeRemember, s.now.Add(-30*time.Minute))
	b1 := s.token("b1", "user-b", loginkit.PurposeRemember, s.now)
	s.store(t, st, copyToken(r1), old, copyToken(p1), b1, copyToken(r2))

	list, err := st.ListByUser(background(), "user-a", loginkit.PurposeRemember)
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if got, want := s.keys(list), []string{"r2", "r1"}; !slices.Equal(got, want) {
		t.Errorf("ListByUser(user-a, %q): want %v (TokenStore.ListByUser: the user's unexpired tokens of that purpose, newest CreatedAt first), got %v", loginkit.PurposeRemember, want, got)
	} else {
		s.wantEqual(t, r2, list[0], "ListByUser", "TokenStore.ListByUser returns whole tokens")
		s.wantEqual(t, r1, list[1], "ListByUser", "TokenStore.ListByUser returns whole tokens")
	}
	list, err = st.ListByUser(background(), "user-a", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if got, want := s.keys(list), []string{"r2", "p1", "r1"}; !slices.Equal(got, want) {
		t.Errorf(`ListByUser(user-a, ""): want %v (TokenStore.ListByUser: all purposes when purpose is empty, newest CreatedAt first, no other user's), got %v`, want, got)
	}
	list, err = st.ListByUser(background(), "user-a", "no-such-purpose")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser(user-a, a purpose it has no token of): want none, got %v", s.keys(list))
	}
	list, err = st.ListByUser(background(), "user-unknown", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser of a user without tokens: want none, got %v", s.keys(list))
	}
	// Tokens created at the same instant are listed each (in any order
	// among themselves): an index keyed by time would merge them.
	tie := s.now.Add(-time.Minute)
	s.store(t, st, s.token("tie-1", "user-tie", "reset", tie), s.token("tie-2", "user-tie", "reset", tie), s.token("tie-3", "user-tie", "reset", tie))
	list, err = st.ListByUser(background(), "user-tie", "")
	s.wantTies(t, list, err)
}

func (s *tokenSuite) deleteByUser(t suiteT, st loginkit.TokenStore) {
	b1 := s.token("b1", "user-b", "reset", s.now)
	s.store(t, st,
		s.token("r1", "user-a", loginkit.PurposeRemember, s.now),
		s.token("r2", "user-a", loginkit.PurposeRemember, s.now.Add(time.Second)),
		s.token("p1", "user-a", "reset", s.now),
		copyToken(b1),
	)
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "reset", 1, "TokenStore", `DeleteByUser(user-a, "reset")`, `TokenStore.DeleteByUser removes the user's tokens of that purpose and reports how many`)
	s.wantGone(t, st, "p1", "Get after DeleteByUser", "TokenStore.DeleteByUser removes the user's tokens of that purpose")
	list, err := st.ListByUser(background(), "user-a", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if got, want := s.keys(list), []string{"r2", "r1"}; !slices.Equal(got, want) {
		t.Errorf("ListByUser after DeleteByUser of another purpose: want %v (TokenStore.DeleteByUser leaves other purposes), got %v", want, got)
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "", 2, "TokenStore", `DeleteByUser(user-a, "")`, `TokenStore.DeleteByUser: all purposes when purpose is empty`)
	for _, sel := range []string{"r1", "r2"} {
		s.wantGone(t, st, sel, `Get after DeleteByUser with purpose ""`, "TokenStore.DeleteByUser removes all of the user's tokens when purpose is empty")
	}
	s.wantStored(t, st, b1, "DeleteByUser of another user", "TokenStore.DeleteByUser leaves other users' tokens untouched")
	wantDeleteByUser(t, st.DeleteByUser, "user-a", "", 0, "TokenStore", "DeleteByUser of a user without tokens", "")
}

func (s *tokenSuite) deleteExpired(t suiteT, st loginkit.TokenStore) {
	l1, l2 := s.token("live-1", "user-a", "reset", s.now), s.token("live-2", "user-b", loginkit.PurposeRemember, s.now)
	s.store(t, st, s.expired("old-1", "user-a", "reset", s.now.Add(-2*time.Hour)), copyToken(l1),
		s.expired("old-2", "user-b", loginkit.PurposeRemember, s.now.Add(-2*time.Hour)), copyToken(l2))
	zero := s.token("old-zero", "user-b", "reset", s.now)
	zero.ExpiresAt = time.Time{}
	s.store(t, st, zero)
	s.wantSweepCount(t, s.sweep(t, st), 3, "DeleteExpired with 3 expired tokens (one with a zero ExpiresAt)")
	s.wantStored(t, st, l1, "DeleteExpired", "TokenStore.DeleteExpired removes expired tokens only")
	s.wantStored(t, st, l2, "DeleteExpired", "TokenStore.DeleteExpired removes expired tokens only")
	s.wantGone(t, st, "old-1", "Get after DeleteExpired", "TokenStore.Get never returns an expired token")
	s.wantSweptOnce(t, st)
}

// deleteExpiredThenByUser checks that, after a sweep, ListByUser and
// DeleteByUser see only the tokens that are left.
func (s *tokenSuite) deleteExpiredThenByUser(t suiteT, st loginkit.TokenStore) {
	l1 := s.token("l1", "user-1", loginkit.PurposeRemember, s.now)
	s.store(t, st,
		s.expired("x1", "user-1", loginkit.PurposeRemember, s.now.Add(-3*time.Hour)),
		s.expired("x2", "user-1", purposeRememberRotated, s.now.Add(-2*time.Hour)),
		copyToken(l1),
		s.expired("y1", "user-10", loginkit.PurposeRemember, s.now.Add(-time.Hour)),
	)
	s.sweepThenByUser(t, st, func() ([]*loginkit.Token, error) { return st.ListByUser(background(), "user-1", "") })
}

func (s *tokenSuite) isolation(t suiteT, st loginkit.TokenStore) {
	want := s.token("sel-iso", "user-1", "reset", s.now)
	in := copyToken(want)
	s.store(t, st, in)
	in.UserID, in.ValidatorHash, in.ExpiresAt = "intruder", "changed", s.now.Add(-time.Hour)
	s.wantStored(t, st, want, "Get after the caller modified the token it created", "TokenStore.Create stores a copy: a caller's later changes do not reach the store")
	got, err := st.Get(background(), "sel-iso")
	must(t, err, "Get", "TokenStore.Get contract")
	got.UserID, got.ValidatorHash, got.Purpose = "intruder", "changed", "other"
	s.wantStored(t, st, want, "Get after the caller modified a token Get returned", "TokenStore: returned tokens are copies")
	list, err := st.ListByUser(background(), "user-1", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	for _, x := range list {
		x.ValidatorHash, x.Selector = "changed", "changed"
	}
	s.wantStored(t, st, want, "Get after the caller modified a token ListByUser returned", "TokenStore: returned tokens are copies")
}

func (s *tokenSuite) contextCancelled(t suiteT, st loginkit.TokenStore) {
	const clause = "TokenStore: every method honours ctx"
	keep := s.token("sel-ctx", "user-1", "reset", s.now)
	s.store(t, st, copyToken(keep), s.expired("sel-ctx-old", "user-1", "reset", s.now.Add(-2*time.Hour)))
	ctx := cancelled()
	err := st.Create(ctx, s.token("sel-ctx-new", "user-1", "reset", s.now))
	wantCanceled(t, err, "Create with a cancelled context", clause)
	s.wantGone(t, st, "sel-ctx-new", "Get after Create with a cancelled context", clause+": a cancelled Create stores nothing")
	_, err = st.Get(ctx, "sel-ctx")
	wantCanceled(t, err, "Get with a cancelled context", clause)
	_, err = st.Consume(ctx, "sel-ctx")
	wantCanceled(t, err, "Consume with a cancelled context", clause)
	err = st.Delete(ctx, "sel-ctx")
	wantCanceled(t, err, "Delete with a cancelled context", clause)
	_, err = st.ListByUser(ctx, "user-1", "")
	wantCanceled(t, err, "ListByUser with a cancelled context", clause)
	_, err = st.DeleteByUser(ctx, "user-1", "")
	wantCanceled(t, err, "DeleteByUser with a cancelled context", clause)
	_, err = st.DeleteExpired(ctx)
	wantCanceled(t, err, "DeleteExpired with a cancelled context", clause)
	s.wantStored(t, st, keep, "Get after Consume, Delete and DeleteByUser with a cancelled context", clause+": a cancelled call changes nothing")
	s.wantCancelledSweepRemovedNothing(t, st, clause)
}

func (s *tokenSuite) zeroExpiresAt(t suiteT, st loginkit.TokenStore) {
	const clause = "TokenStore: a token whose ExpiresAt is not after now is expired; a zero ExpiresAt is long past"
	z := s.token("sel-zero-exp", "user-1", "reset", s.now)
	z.ExpiresAt = time.Time{}
	s.store(t, st, z)
	s.wantGone(t, st, "sel-zero-exp", "Get of a token created with a zero ExpiresAt", clause)
	_, err := st.Consume(background(), "sel-zero-exp")
	wantErr(t, err, loginkit.ErrNotFound, "Consume of a token created with a zero ExpiresAt", clause)
	list, err := st.ListByUser(background(), "user-1", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser with only a token whose ExpiresAt is zero: want none (%s), got %v", clause, s.keys(list))
	}
	err = st.Create(background(), s.token("sel-zero-exp", "user-2", "reset", s.now))
	if err != nil {
		skipUnsupported(t, "Create", err)
		t.Errorf("Create over a token with a zero ExpiresAt: want no error (TokenStore.Create: only an unexpired token with the same selector is ErrDuplicate; %s), got %v", clause, err)
	}
}

// expiryBoundary puts an ExpiresAt at exactly now: the token is gone.
// With the harness's NewWithClock, "now" is a clock the suite sets;
// without it, the store's own clock, read after the token was created.
func (s *tokenSuite) expiryBoundary(t suiteT, st loginkit.TokenStore) {
	const clause = "TokenStore: a token whose ExpiresAt is not after now is expired"
	st, at, justAfter := s.atBoundary(t, st)
	edge := s.token("sel-edge", "user-1", "reset", at.Add(-time.Hour))
	edge.ExpiresAt = at
	after := s.token("sel-after", "user-1", "reset", at.Add(-2*time.Hour))
	after.ExpiresAt = justAfter
	// Another token expiring exactly now, that nothing looks up before
	// the sweep: a store without native expiry must sweep it.
	unseen := s.token("sel-edge-unseen", "user-3", "reset", at.Add(-time.Hour))
	unseen.ExpiresAt = at
	s.store(t, st, copyToken(edge), copyToken(after), copyToken(unseen))
	s.wantGone(t, st, "sel-edge", "Get of a token whose ExpiresAt is exactly now", clause)
	_, err := st.Consume(background(), "sel-edge")
	wantErr(t, err, loginkit.ErrNotFound, "Consume of a token whose ExpiresAt is exactly now", clause)
	s.wantStored(t, st, after, "Get of a token whose ExpiresAt is just after now", "TokenStore.Get returns a token whose ExpiresAt is after now")
	list, err := st.ListByUser(background(), "user-1", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, []string{"sel-after"}) {
		t.Errorf("ListByUser with a token whose ExpiresAt is exactly now: want [sel-after] (TokenStore.ListByUser returns unexpired tokens; ExpiresAt not after now is expired), got %v", got)
	}
	if s.newWithClock != nil {
		again := s.token("sel-edge", "user-2", "reset", at)
		if err := st.Create(background(), again); err != nil {
			skipUnsupported(t, "Create", err)
			t.Errorf("Create over a token whose ExpiresAt is exactly now: want no error (TokenStore.Create: only an unexpired token with the same selector is ErrDuplicate; %s), got %v", clause, err)
		}
		s.wantSweepCount(t, s.sweep(t, st), 1, "DeleteExpired after the expired token's selector was taken again, with another token whose ExpiresAt is exactly now (expired: it is swept)")
		s.wantStored(t, st, after, "Get after DeleteExpired", "TokenStore.DeleteExpired removes expired tokens only")
	}
}

// selectorsCaseSensitive checks that selectors differing only in letter
// case are different tokens: selectors are exact, case-sensitive
// base64url.
func (s *tokenSuite) selectorsCaseSensitive(t suiteT, st loginkit.TokenStore) {
	const clause = "TokenStore: selectors are exact and case-sensitive (base64url)"
	lower := s.token("sel-case-ab_c-9", "user-1", "reset", s.now)
	upper := s.token("SEL-CASE-AB_C-9", "user-2", "reset", s.now)
	s.store(t, st, copyToken(lower))
	if err := st.Create(background(), copyToken(upper)); err != nil {
		skipUnsupported(t, "Create", err)
		t.Fatalf("Create of a selector differing from a stored one only in case: want no error (%s), got %v", clause, err)
	}
	s.wantStored(t, st, lower, "Get of a selector differing from another only in case", clause)
	s.wantStored(t, st, upper, "Get of a selector differing from another only in case", clause)
	s.wantGone(t, st, "sel-case-AB_C-9", "Get of a selector stored only in other cases", clause)
	got, err := st.Consume(background(), "SEL-CASE-AB_C-9")
	must(t, err, "Consume", "TokenStore.Consume contract")
	s.wantEqual(t, upper, got, "Consume of a selector differing from another only in case", clause)
	s.wantStored(t, st, lower, "Get after consuming a selector differing only in case", clause)
	// Selectors that begin with one another are different tokens too.
	const exact = "TokenStore: selectors are exact, not prefixes"
	long := s.token("sel-case-ab_c-9x", "user-3", "reset", s.now)
	s.store(t, st, copyToken(long))
	s.wantGone(t, st, "sel-case-ab_c", "Get of a prefix of stored selectors", exact)
	_, err = st.Consume(background(), "sel-case-ab_c")
	wantErr(t, err, loginkit.ErrNotFound, "Consume of a prefix of stored selectors", exact)
	must(t, st.Delete(background(), "sel-case-ab_c-9"), "Delete", "TokenStore.Delete contract")
	s.wantStored(t, st, long, "Get after deleting a selector that is a prefix of this one", exact)
	// '_' is a base64url character, and a wildcard in LIKE: it matches
	// itself only.
	const literal = "TokenStore: selectors are exact: '_' and '%' are no wildcards"
	wild := s.token("sel-wild-abXc", "user-4", "reset", s.now)
	s.store(t, st, copyToken(wild))
	for _, sel := range []string{"sel-wild-ab_c", "sel-wild-ab%", "sel-wild-a__c"} {
		s.wantGone(t, st, sel, "Get of a selector that matches a stored one only as a LIKE pattern", literal)
		_, err = st.Consume(background(), sel)
		wantErr(t, err, loginkit.ErrNotFound, "Consume of a selector that matches a stored one only as a LIKE pattern", literal)
		must(t, st.Delete(background(), sel), "Delete", "TokenStore.Delete contract")
	}
	s.wantStored(t, st, wild, "Get after Consume and Delete of selectors that match it only as LIKE patterns", literal)
}

// prefixes checks that user IDs and purposes are matched exactly, not by
// prefix: "user-1" beside "user-10", and PurposeRemember beside
// the rotated-remember purpose "remember-rotated", which begins with it.
func (s *tokenSuite) prefixes(t suiteT, st loginkit.TokenStore) {
	const clause = "TokenStore: tokens are matched by exact UserID and Purpose, not by prefix"
	s.store(t, st,
		s.token("r1", "user-1", loginkit.PurposeRemember, s.now.Add(-time.Minute)),
		s.token("rr1", "user-1", purposeRememberRotated, s.now),
		s.token("r10", "user-10", loginkit.PurposeRemember, s.now),
		s.token("rr10", "user-10", purposeRememberRotated, s.now),
	)
	for _, c := range []struct {
		user, purpose string
		want          []string
	}{
		{"user-1", loginkit.PurposeRemember, []string{"r1"}},
		{"user-1", purposeRememberRotated, []string{"rr1"}},
		{"user-1", "remember-", nil},
		{"user-1", "rem", nil},
		{"user-10", loginkit.PurposeRemember, []string{"r10"}},
	} {
		list, err := st.ListByUser(background(), c.user, c.purpose)
		must(t, err, "ListByUser", "TokenStore.ListByUser contract")
		if got := s.keys(list); !slices.Equal(got, c.want) && (len(got) != 0 || len(c.want) != 0) {
			t.Errorf("ListByUser(%s, %q): want %v (%s), got %v", c.user, c.purpose, c.want, clause, got)
		}
	}
	n, err := st.DeleteByUser(background(), "user-1", loginkit.PurposeRemember)
	must(t, err, "DeleteByUser", "TokenStore.DeleteByUser contract")
	if n != 1 {
		t.Errorf("DeleteByUser(user-1, %q) beside %q and user-10: want 1 removed (%s), got %d", loginkit.PurposeRemember, purposeRememberRotated, clause, n)
	}
	for _, sel := range []string{"rr1", "r10", "rr10"} {
		if _, err := st.Get(background(), sel); err != nil {
			skipUnsupported(t, "Get", err)
			t.Errorf("Get(%q) after DeleteByUser(user-1, %q): want the token (%s), got %v", sel, loginkit.PurposeRemember, clause, err)
		}
	}
	wantDeleteByUser(t, st.DeleteByUser, "user-1", "", 1, "TokenStore", `DeleteByUser(user-1, "") beside user-10`, clause)
	list, err := st.ListByUser(background(), "user-10", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 2 {
		t.Errorf("ListByUser(user-10) after DeleteByUser(user-1): want its 2 tokens (%s), got %v", clause, s.keys(list))
	}
}

// timesInUTC creates a token with times in another zone and wants them
// back in UTC.
func (s *tokenSuite) timesInUTC(t suiteT, st loginkit.TokenStore) {
	zone := time.FixedZone("UTC-03:00", -3*3600)
	want := s.token("sel-zone", "user-1", "reset", s.now.Add(-time.Hour))
	in := copyToken(want)
	in.CreatedAt, in.ExpiresAt = in.CreatedAt.In(zone), in.ExpiresAt.In(zone)
	s.store(t, st, in)
	s.wantStored(t, st, want, "Get of a token created with times in UTC-03:00", "TokenStore: times are returned as the same instants in time.UTC")
	got, err := st.Consume(background(), "sel-zone")
	must(t, err, "Consume", "TokenStore.Consume contract")
	s.wantEqual(t, want, got, "Consume of a token created with times in UTC-03:00", "TokenStore: times are returned as the same instants in time.UTC")
}

// listByUserMany checks that ListByUser and DeleteByUser have no page
// size of their own: 130 tokens of one user are all listed and all
// deleted.
func (s *tokenSuite) listByUserMany(t suiteT, st loginkit.TokenStore) {
	const n = 130
	var want []string
	for i := range n {
		sel := fmt.Sprintf("many-%03d", i)
		s.store(t, st, s.token(sel, "user-many", loginkit.PurposeRemember, s.now.Add(-time.Duration(i)*time.Second)))
		want = append(want, sel)
	}
	s.store(t, st, s.token("other", "user-other", loginkit.PurposeRemember, s.now))
	list, err := st.ListByUser(background(), "user-many", loginkit.PurposeRemember)
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if got := s.keys(list); !slices.Equal(got, want) {
		t.Errorf("ListByUser of a user with %d tokens: want all %d, newest CreatedAt first (TokenStore.ListByUser returns all of the user's unexpired tokens, however many), got %d: %v", n, n, len(got), got[:min(len(got), 5)])
	}
	removed, err := st.DeleteByUser(background(), "user-many", "")
	must(t, err, "DeleteByUser", "TokenStore.DeleteByUser contract")
	if removed != n {
		t.Errorf("DeleteByUser of a user with %d tokens: want %d removed (TokenStore.DeleteByUser removes all of the user's tokens, however many), got %d", n, n, removed)
	}
	list, err = st.ListByUser(background(), "user-many", "")
	must(t, err, "ListByUser", "TokenStore.ListByUser contract")
	if len(list) != 0 {
		t.Errorf("ListByUser after DeleteByUser: want none (TokenStore.DeleteByUser removes all of the user's tokens, however many), got %d", len(list))
	}
}
