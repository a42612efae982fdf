package conformance

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// SecondFactorHarness describes a loginkit.SecondFactorStore under test.
type SecondFactorHarness struct {
	// New returns a new, empty store for one subtest. Release what it
	// holds with tb.Cleanup. Required.
	New func(tb testing.TB) loginkit.SecondFactorStore
	// TimePrecision is the precision the store keeps for times; 0 means
	// time.Millisecond.
	TimePrecision time.Duration
}

// TestSecondFactors checks a loginkit.SecondFactorStore against its
// contract: round trips, per-user isolation (also of user IDs that are
// prefixes of each other), the TOTP replay rule (sequential, and 20
// concurrent callers with one step: exactly one succeeds), single-use
// recovery codes matched exactly (20 concurrent uses of one code: exactly
// one succeeds; concurrent uses of different codes: none lost),
// replacement of the recovery code set and of the TOTP secret, also while
// codes and steps are being used, deletion, times in UTC, isolation of
// returned values and cancelled contexts. The race cases repeat their
// rounds for a time budget (see the package documentation). Each case
// runs as a subtest with a fresh store from h.New; the package
// documentation lists them.
func TestSecondFactors(t *testing.T, h SecondFactorHarness) {
	t.Helper()
	runSecondFactors(wrapT(t), h)
}

// secondFactorSuite holds what the second-factor cases share: the harness declares
// nothing else they need.
type secondFactorSuite struct{ timing }

func runSecondFactors(t suiteT, h SecondFactorHarness) {
	t.Helper()
	s := &secondFactorSuite{newTiming(h.TimePrecision)}
	runSuite(t, "SecondFactorHarness", "SecondFactorStore", methodsOf[loginkit.SecondFactorStore](), h.New, []suiteCase[loginkit.SecondFactorStore]{
		{"RoundTrip", s.roundTrip},
		{"GetMissing", s.getMissing},
		{"EmptyValuesRefused", s.emptyRefused},
		{"SetTOTPReplaces", s.setTOTPReplaces},
		{"SetTOTPKeepsRecoveryCodes", s.setTOTPKeepsCodes},
		{"AcceptTOTPStep", s.acceptStep},
		{"AcceptTOTPStepMissing", s.acceptStepMissing},
		{"AcceptTOTPStepConcurrent", s.acceptStepConcurrent},
		{"AcceptTOTPStepConcurrentRising", s.acceptStepRising},
		{"SetTOTPRacingAcceptTOTPStep", s.setTOTPRacingAccept},
		{"UseRecoveryCode", s.useCode},
		{"UseRecoveryCodeConcurrent", s.useCodeConcurrent},
		{"UseDifferentRecoveryCodesConcurrent", s.useDifferentCodes},
		{"SetRecoveryCodesRacingUse", s.setCodesRacingUse},
		{"SetTOTPRacingUseRecoveryCode", s.setTOTPRacingUse},
		{"SetRecoveryCodesRacingAcceptTOTPStep", s.setCodesRacingAccept},
		{"RecoveryCodeMatchIsExact", s.codeExact},
		{"SetRecoveryCodesReplaces", s.setCodesReplaces},
		{"SetRecoveryCodesKeepsTOTP", s.setCodesKeepsTOTP},
		{"UsersIsolated", s.usersIsolated},
		{"UserIDsPrefixesOfEachOther", s.prefixUsers},
		{"EnabledAtUTC", s.enabledAtUTC},
		{"Delete", s.delete},
		{"ReturnedValuesIsolated", s.isolation},
		{"ContextCancelled", s.contextCancelled},
	})
}

// sfSecret returns sealed-looking bytes that include every byte value
// that trips up text columns (NUL, invalid UTF-8).
func sfSecret(seed byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(i*37) ^ seed
	}
	b[0], b[1], b[2] = 0, 0xff, seed
	return b
}

func sfCodes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-hash-%02d-✓", prefix, i)
	}
	return out
}

func (s *secondFactorSuite) get(t suiteT, st loginkit.SecondFactorStore, userID, op string) *loginkit.SecondFactor {
	t.Helper()
	f, err := st.GetSecondFactor(background(), userID)
	must(t, err, op, "SecondFactorStore.GetSecondFactor returns stored data")
	if f == nil {
		t.Fatalf("%s: got a nil SecondFactor with no error (SecondFactorStore.GetSecondFactor contract)", op)
	}
	return f
}

// want compares a stored record with what the suite wrote.
func (s *secondFactorSuite) want(t suiteT, got *loginkit.SecondFactor, userID string, secret []byte, step int64, enabled time.Time, hashes []string, op, clause string) {
	t.Helper()
	if got.UserID != userID {
		t.Errorf("%s: UserID = %q, want %q (%s)", op, got.UserID, userID, clause)
	}
	if string(got.TOTPSecret) != string(secret) {
		t.Errorf("%s: TOTPSecret = %x, want %x (%s)", op, got.TOTPSecret, secret, clause)
	}
	if got.TOTPLastStep != step {
		t.Errorf("%s: TOTPLastStep = %d, want %d (%s)", op, got.TOTPLastStep, step, clause)
	}
	if !sfSameInstant(got.TOTPEnabledAt, enabled, s.prec) {
		t.Errorf("%s: TOTPEnabledAt = %v, want %v within %v (%s)", op, got.TOTPEnabledAt, enabled, s.prec, clause)
	}
	g, w := slices.Clone(got.RecoveryCodes), slices.Clone(hashes)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: RecoveryCodes = %q, want %q in any order (%s)", op, g, w, clause)
	}
}

// sfSameInstant reports whether a and b are the same instant within prec;
// a zero time must stay zero.
func sfSameInstant(a, b time.Time, prec time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	d := a.Sub(b)
	return d < prec && d > -prec
}

func (s *secondFactorSuite) roundTrip(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SecondFactorStore keeps every field"
	u := uniqueUser("round")
	enabled := s.now.Add(-time.Minute)
	must(t, st.SetTOTP(background(), u, sfSecret(1), 1<<40+7, enabled), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("a", 10)), "SetRecoveryCodes", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after SetTOTP and SetRecoveryCodes"), u, sfSecret(1), 1<<40+7, enabled, sfCodes("a", 10),
		"GetSecondFactor after SetTOTP and SetRecoveryCodes", clause)
	if got := s.get(t, st, u, "GetSecondFactor").TOTPEnabledAt; got.Location() != time.UTC {
		t.Errorf("GetSecondFactor: TOTPEnabledAt in %v, want UTC (times are UTC)", got.Location())
	}

	// Codes only, no TOTP: a record too.
	v := uniqueUser("codes-only")
	must(t, st.SetRecoveryCodes(background(), v, sfCodes("b", 3)), "SetRecoveryCodes", clause)
	s.want(t, s.get(t, st, v, "GetSecondFactor of a user with recovery codes only"), v, nil, 0, time.Time{}, sfCodes("b", 3),
		"GetSecondFactor of a user with recovery codes only", clause+": a user with recovery codes and no TOTP has a record without a secret")
}

func (s *secondFactorSuite) getMissing(t suiteT, st loginkit.SecondFactorStore) {
	_, err := st.GetSecondFactor(background(), uniqueUser("nobody"))
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor of an unknown user", "a user without data is ErrNotFound")
	// A record emptied of codes, without TOTP, is no record.
	u := uniqueUser("emptied")
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("c", 2)), "SetRecoveryCodes", "SecondFactorStore.SetRecoveryCodes contract")
	must(t, st.SetRecoveryCodes(background(), u, nil), "SetRecoveryCodes(nil)", "an empty list removes every code")
	_, err = st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after every code was removed and with no TOTP",
		"a user with no TOTP secret and no recovery code is ErrNotFound")
}

func (s *secondFactorSuite) emptyRefused(t suiteT, st loginkit.SecondFactorStore) {
	u := uniqueUser("empty")
	wantErr(t, st.SetTOTP(background(), u, nil, 1, s.now), loginkit.ErrInvalid, "SetTOTP with an empty secret", "an empty secret is ErrInvalid")
	wantErr(t, st.SetTOTP(background(), "", sfSecret(1), 1, s.now), loginkit.ErrInvalid, "SetTOTP with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.SetRecoveryCodes(background(), "", sfCodes("x", 1)), loginkit.ErrInvalid, "SetRecoveryCodes with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.SetRecoveryCodes(background(), u, []string{"ok", ""}), loginkit.ErrInvalid, "SetRecoveryCodes with an empty hash", "an empty hash is ErrInvalid")
	_, err := st.GetSecondFactor(background(), "")
	wantErr(t, err, loginkit.ErrInvalid, "GetSecondFactor with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.AcceptTOTPStep(background(), "", 1), loginkit.ErrInvalid, "AcceptTOTPStep with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.UseRecoveryCode(background(), "", "x"), loginkit.ErrInvalid, "UseRecoveryCode with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.DeleteSecondFactor(background(), ""), loginkit.ErrInvalid, "DeleteSecondFactor with an empty user ID", "an empty userID is ErrInvalid")
	_, err = st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after refused writes", "a refused write stores nothing")
}

func (s *secondFactorSuite) setTOTPReplaces(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetTOTP replaces the secret, step and enabled time"
	u := uniqueUser("replace")
	must(t, st.SetTOTP(background(), u, sfSecret(1), 500, s.now.Add(-time.Hour)), "SetTOTP", clause)
	must(t, st.SetTOTP(background(), u, sfSecret(2), 3, s.now), "SetTOTP again", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after a second SetTOTP"), u, sfSecret(2), 3, s.now, nil, "GetSecondFactor after a second SetTOTP", clause)
	must(t, st.AcceptTOTPStep(background(), u, 4), "AcceptTOTPStep(4) after SetTOTP reset the step to 3", clause+": the step is replaced, so a later step is accepted")
}

func (s *secondFactorSuite) setTOTPKeepsCodes(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetTOTP leaves recovery codes untouched"
	u := uniqueUser("keep-codes")
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("k", 4)), "SetRecoveryCodes", clause)
	must(t, st.SetTOTP(background(), u, sfSecret(3), 9, s.now), "SetTOTP", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor"), u, sfSecret(3), 9, s.now, sfCodes("k", 4), "GetSecondFactor after SetRecoveryCodes then SetTOTP", clause)
}

func (s *secondFactorSuite) acceptStep(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep accepts only a step greater than the last one"
	u := uniqueUser("step")
	must(t, st.SetTOTP(background(), u, sfSecret(4), 100, s.now), "SetTOTP", clause)
	must(t, st.AcceptTOTPStep(background(), u, 101), "AcceptTOTPStep(101) after last step 100", clause)
	wantErr(t, st.AcceptTOTPStep(background(), u, 101), loginkit.ErrReplayed, "AcceptTOTPStep(101) a second time", clause+": a replayed step is ErrReplayed")
	wantErr(t, st.AcceptTOTPStep(background(), u, 100), loginkit.ErrReplayed, "AcceptTOTPStep(100) after 101", clause+": an older step is ErrReplayed")
	wantErr(t, st.AcceptTOTPStep(background(), u, -5), loginkit.ErrReplayed, "AcceptTOTPStep(-5)", clause)
	must(t, st.AcceptTOTPStep(background(), u, 103), "AcceptTOTPStep(103)", clause)
	// Steps are numbers: 1000 is greater than 999, though "1000" sorts
	// before "999" as text.
	v := uniqueUser("step-digits")
	must(t, st.SetTOTP(background(), v, sfSecret(5), 9, s.now), "SetTOTP", clause)
	for _, step := range []int64{99, 999, 1000} {
		must(t, st.AcceptTOTPStep(background(), v, step), fmt.Sprintf("AcceptTOTPStep(%d) after a step with fewer digits", step), clause+": steps are compared as numbers")
	}
	f := s.get(t, st, u, "GetSecondFactor after AcceptTOTPStep")
	if f.TOTPLastStep != 103 {
		t.Errorf("GetSecondFactor after AcceptTOTPStep(103): TOTPLastStep = %d, want 103 (%s)", f.TOTPLastStep, clause)
	}
	if string(f.TOTPSecret) != string(sfSecret(4)) {
		t.Errorf("GetSecondFactor after AcceptTOTPStep: the secret changed (AcceptTOTPStep changes only the step)")
	}
}

func (s *secondFactorSuite) acceptStepMissing(t suiteT, st loginkit.SecondFactorStore) {
	u := uniqueUser("no-totp")
	wantErr(t, st.AcceptTOTPStep(background(), u, 1), loginkit.ErrNotFound, "AcceptTOTPStep for an unknown user", "a user without a TOTP secret is ErrNotFound")
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("m", 1)), "SetRecoveryCodes", "SecondFactorStore.SetRecoveryCodes contract")
	wantErr(t, st.AcceptTOTPStep(background(), u, 1), loginkit.ErrNotFound, "AcceptTOTPStep for a user with recovery codes only", "a user without a TOTP secret is ErrNotFound")
	if f, err := st.GetSecondFactor(background(), u); err == nil && len(f.TOTPSecret) != 0 {
		t.Errorf("GetSecondFactor after a refused AcceptTOTPStep: a secret appeared (AcceptTOTPStep creates nothing)")
	}
}

// sfRace runs f n times at once and returns the errors.
func sfRace(n int, f func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// acceptStepConcurrent races 20 callers with the same step, several
// steps a round, round after round for raceBudget, through a yielding
// context: an AcceptTOTPStep made of a GetSecondFactor and a write with
// no pause between them is caught every time
// (TestSecondFactorRaceMutantsCaughtEveryTime runs this case 10 times
// against such a store and requires a failure in each).
func (s *secondFactorSuite) acceptStepConcurrent(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep is an atomic compare-and-set"
	const callers, perRound = 20, 4
	u := uniqueUser("step-race")
	must(t, st.SetTOTP(background(), u, sfSecret(5), 1000, s.now), "SetTOTP", clause)
	next := int64(1001)
	repeatRace(func(r int) bool {
		base := next
		next += perRound
		var errs [perRound][callers]error
		raceSteps(callers, perRound, func(i, k int) {
			errs[k][i] = st.AcceptTOTPStep(raceContext(), u, base+int64(k))
		})
		for k := range perRound {
			step := base + int64(k)
			if ok := raceWins(t, errs[k][:], loginkit.ErrReplayed, "AcceptTOTPStep", fmt.Sprintf("concurrent AcceptTOTPStep(%d)", step), clause); ok != 1 {
				t.Errorf("%d concurrent AcceptTOTPStep(%d) (round %d): want exactly 1 success, got %d (%s: one code, one use)", callers, step, r+1, ok, clause)
				return false
			}
		}
		return !t.Failed()
	})
}

func (s *secondFactorSuite) acceptStepRising(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep is an atomic compare-and-set"
	const callers = 20
	u := uniqueUser("step-rise")
	must(t, st.SetTOTP(background(), u, sfSecret(6), 0, s.now), "SetTOTP", clause)
	// Steps 1..20 at once: whatever the order, the stored step ends at
	// 20, and it never moves back.
	errs := sfRace(callers, func(i int) error { return st.AcceptTOTPStep(background(), u, int64(i+1)) })
	wantRaceResults(t, errs, "AcceptTOTPStep", "concurrent AcceptTOTPStep of steps 1..20 (call i accepts step i+1): want nil or ErrReplayed", clause,
		func(_ int, err error) bool { return errors.Is(err, loginkit.ErrReplayed) })
	if errs[callers-1] != nil {
		t.Errorf("concurrent AcceptTOTPStep(%d), the highest step: want success, got %v (%s: a newer step is always accepted)", callers, errs[callers-1], clause)
	}
	if f := s.get(t, st, u, "GetSecondFactor after concurrent steps"); f.TOTPLastStep != callers {
		t.Errorf("GetSecondFactor after concurrent AcceptTOTPStep(1..%d): TOTPLastStep = %d, want %d (%s: the step never moves back)", callers, f.TOTPLastStep, callers, clause)
	}
}

func (s *secondFactorSuite) useCode(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode removes the code: each is used at most once"
	u := uniqueUser("use")
	all := sfCodes("u", 3)
	must(t, st.SetRecoveryCodes(background(), u, all), "SetRecoveryCodes", clause)
	must(t, st.UseRecoveryCode(background(), u, all[1]), "UseRecoveryCode", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, all[1]), loginkit.ErrNotFound, "UseRecoveryCode of a used code", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, "unknown-hash"), loginkit.ErrNotFound, "UseRecoveryCode of an unknown hash", "a hash not in the set is ErrNotFound")
	wantErr(t, st.UseRecoveryCode(background(), uniqueUser("other"), all[0]), loginkit.ErrNotFound, "UseRecoveryCode for a user without a record", "a user without a record is ErrNotFound")
	s.want(t, s.get(t, st, u, "GetSecondFactor after using one code"), u, nil, 0, time.Time{}, []string{all[0], all[2]}, "GetSecondFactor after using one code", clause)
	must(t, st.UseRecoveryCode(background(), u, all[0]), "UseRecoveryCode", clause)
	must(t, st.UseRecoveryCode(background(), u, all[2]), "UseRecoveryCode of the last code", clause)
	_, err := st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after the last code was used (no TOTP)", "a user with no TOTP secret and no recovery code is ErrNotFound")
}

// useCodeConcurrent races 20 callers using the same code, several codes
// a round, round after round for raceBudget, through a yielding context:
// a UseRecoveryCode that reads the set and writes it back with no pause
// between is caught every time (TestSecondFactorRaceMutantsCaughtEveryTime
// runs this case 10 times against such a store and requires a failure in
// each).
func (s *secondFactorSuite) useCodeConcurrent(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode is atomic"
	const callers, perRound = 20, 4
	u := uniqueUser("code-race")
	repeatRace(func(r int) bool {
		all := sfCodes(fmt.Sprintf("r%d", r), perRound+1)
		must(t, st.SetRecoveryCodes(background(), u, all), "SetRecoveryCodes", clause)
		var errs [perRound][callers]error
		raceSteps(callers, perRound, func(i, k int) {
			errs[k][i] = st.UseRecoveryCode(raceContext(), u, all[k])
		})
		for k := range perRound {
			if ok := raceWins(t, errs[k][:], loginkit.ErrNotFound, "UseRecoveryCode", "concurrent UseRecoveryCode", clause); ok != 1 {
				t.Errorf("%d concurrent UseRecoveryCode of one code (round %d): want exactly 1 success, got %d (%s: a recovery code is used once)", callers, r+1, ok, clause)
				return false
			}
		}
		s.want(t, s.get(t, st, u, "GetSecondFactor after the races"), u, nil, 0, time.Time{}, all[perRound:], "GetSecondFactor after the races", clause)
		return !t.Failed()
	})
}

// useDifferentCodes races 10 callers each using a different code of one
// user, round after round for raceBudget, through a yielding context: a
// UseRecoveryCode that reads the set and writes it back loses or restores
// codes, and is caught every time.
func (s *secondFactorSuite) useDifferentCodes(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode is atomic: concurrent uses of different codes are all kept"
	const n = 10
	u := uniqueUser("codes-race")
	repeatRace(func(r int) bool {
		all := sfCodes(fmt.Sprintf("d%d", r), n+2)
		must(t, st.SetRecoveryCodes(background(), u, all), "SetRecoveryCodes", clause)
		errs := make([]error, n)
		raceSteps(n, 1, func(i, _ int) { errs[i] = st.UseRecoveryCode(raceContext(), u, all[i]) })
		wantRaceResults(t, errs, "UseRecoveryCode", "concurrent UseRecoveryCode of distinct codes (call i uses code i): want success", clause, nil)
		s.want(t, s.get(t, st, u, "GetSecondFactor after concurrent uses"), u, nil, 0, time.Time{}, all[n:], "GetSecondFactor after concurrent uses of different codes", clause+" (none lost, none restored)")
		if t.Failed() {
			return false
		}
		for i := range n {
			wantErr(t, st.UseRecoveryCode(background(), u, all[i]), loginkit.ErrNotFound, fmt.Sprintf("UseRecoveryCode of used code %d again", i), clause)
		}
		return !t.Failed()
	})
}

// setCodesRacingUse regenerates a user's codes while 8 callers use codes
// of the old set, round after round for raceBudget, through a yielding
// context. Whatever the order, the fresh set must be what is left, whole:
// a UseRecoveryCode that reads the set and writes it back (even one
// serialised against other uses by its own lock) brings old codes back.
func (s *secondFactorSuite) setCodesRacingUse(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetRecoveryCodes replaces the set, also while codes are being used: no old code comes back"
	const users = 8
	u := uniqueUser("regen-race")
	repeatRace(func(r int) bool {
		old, fresh := sfCodes(fmt.Sprintf("o%d", r), users+1), sfCodes(fmt.Sprintf("n%d", r), 3)
		must(t, st.SetRecoveryCodes(background(), u, old), "SetRecoveryCodes", clause)
		errs := raceOneAgainst(users, func(i int) error { return st.UseRecoveryCode(raceContext(), u, old[i]) },
			func() error { return st.SetRecoveryCodes(raceContext(), u, fresh) })
		wantRaceResults(t, errs, "UseRecoveryCode or SetRecoveryCodes", "concurrent UseRecoveryCode and SetRecoveryCodes", clause,
			func(i int, err error) bool { return i < users && errors.Is(err, loginkit.ErrNotFound) })
		s.want(t, s.get(t, st, u, "GetSecondFactor after regenerating while codes were used"), u, nil, 0, time.Time{}, fresh,
			fmt.Sprintf("GetSecondFactor after regenerating while codes were used (round %d)", r+1), clause)
		return !t.Failed()
	})
}

// setTOTPRacingAccept re-enrols a user (SetTOTP with a new secret) while
// 8 callers accept steps, round after round for raceBudget, through a
// yielding context. Whatever the order, the new secret and enabled time
// must be what is kept: an AcceptTOTPStep that reads the record and
// writes it back whole brings the old secret back.
func (s *secondFactorSuite) setTOTPRacingAccept(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep changes only the step, also while SetTOTP replaces the secret"
	const callers = 8
	u := uniqueUser("reenrol-race")
	repeatRace(func(r int) bool {
		base := int64(1000 * (r + 1))
		oldAt, newAt := s.now.Add(-time.Hour), s.now.Add(time.Duration(r+1)*time.Second)
		must(t, st.SetTOTP(background(), u, sfSecret(byte(2*r)), base, oldAt), "SetTOTP", clause)
		errs := raceOneAgainst(callers, func(i int) error { return st.AcceptTOTPStep(raceContext(), u, base+int64(i)+1) },
			func() error { return st.SetTOTP(raceContext(), u, sfSecret(byte(2*r+1)), base, newAt) })
		wantRaceResults(t, errs, "AcceptTOTPStep or SetTOTP", "concurrent AcceptTOTPStep and SetTOTP", clause,
			func(i int, err error) bool { return i < callers && errors.Is(err, loginkit.ErrReplayed) })
		f := s.get(t, st, u, "GetSecondFactor after re-enrolling while steps were accepted")
		if string(f.TOTPSecret) != string(sfSecret(byte(2*r+1))) || !sfSameInstant(f.TOTPEnabledAt, newAt, s.prec) {
			t.Errorf("GetSecondFactor after SetTOTP raced AcceptTOTPStep (round %d): secret %x… enabled %v, want the new secret %x… enabled %v (%s)",
				r+1, f.TOTPSecret[:4], f.TOTPEnabledAt, sfSecret(byte(2*r + 1))[:4], newAt, clause)
		}
		if f.TOTPLastStep < base || f.TOTPLastStep > base+callers {
			t.Errorf("GetSecondFactor after SetTOTP raced AcceptTOTPStep (round %d): TOTPLastStep = %d, want between %d and %d (%s)", r+1, f.TOTPLastStep, base, base+callers, clause)
		}
		return !t.Failed()
	})
}

// setTOTPRacingUse races a re-enrolment (SetTOTP) with uses of every
// recovery code, round after round for raceBudget through a yielding
// context: a SetTOTP that writes back the whole record it read first,
// recovery codes included, restores the codes used in between, and is
// caught in every run (TestSecondFactorWholeRecordRacesCaughtEveryTime).
func (s *secondFactorSuite) setTOTPRacingUse(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetTOTP leaves the recovery codes untouched, also while they are used: a used code never comes back"
	const callers = 8
	u := uniqueUser("reenrol-codes-race")
	repeatRace(func(r int) bool {
		codes := sfCodes(fmt.Sprintf("race-%d", r), callers)
		must(t, st.SetRecoveryCodes(background(), u, codes), "SetRecoveryCodes", clause)
		errs := raceOneAgainst(callers, func(i int) error { return st.UseRecoveryCode(raceContext(), u, codes[i]) },
			func() error { return st.SetTOTP(raceContext(), u, sfSecret(byte(r)), int64(r), s.now) })
		wantRaceResults(t, errs, "UseRecoveryCode or SetTOTP", "concurrent UseRecoveryCode and SetTOTP", clause, nil)
		if f := s.get(t, st, u, "GetSecondFactor after SetTOTP raced UseRecoveryCode"); len(f.RecoveryCodes) != 0 {
			t.Errorf("GetSecondFactor after SetTOTP raced the use of every code (round %d): codes %q are back, want none (%s)", r+1, f.RecoveryCodes, clause)
		}
		return !t.Failed()
	})
}

// setCodesRacingAccept races a regeneration of recovery codes
// (SetRecoveryCodes) with accepted TOTP steps, round after round for
// raceBudget through a yielding context: a SetRecoveryCodes that writes
// back the whole record it read first, TOTP step included, forgets the
// steps accepted in between (their codes could be replayed), and is
// caught in every run (TestSecondFactorWholeRecordRacesCaughtEveryTime).
func (s *secondFactorSuite) setCodesRacingAccept(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetRecoveryCodes leaves the TOTP secret and step untouched, also while steps are accepted: an accepted step is never forgotten"
	const callers = 8
	u := uniqueUser("regen-step-race")
	must(t, st.SetTOTP(background(), u, sfSecret(9), 0, s.now), "SetTOTP", clause)
	repeatRace(func(r int) bool {
		base := int64(100 * (r + 1))
		errs := raceOneAgainst(callers, func(i int) error { return st.AcceptTOTPStep(raceContext(), u, base+int64(i)) },
			func() error { return st.SetRecoveryCodes(raceContext(), u, sfCodes(fmt.Sprintf("regen-%d", r), 3)) })
		var accepted int64
		for i, err := range errs {
			switch {
			case err == nil && i < callers:
				accepted = max(accepted, base+int64(i))
			case err == nil, i < callers && errors.Is(err, loginkit.ErrReplayed):
			default:
				skipUnsupported(t, "AcceptTOTPStep or SetRecoveryCodes", err)
				t.Errorf("concurrent AcceptTOTPStep and SetRecoveryCodes: call %d: %v (%s)", i, err, clause)
			}
		}
		f := s.get(t, st, u, "GetSecondFactor after SetRecoveryCodes raced AcceptTOTPStep")
		if f.TOTPLastStep < accepted {
			t.Errorf("GetSecondFactor after SetRecoveryCodes raced AcceptTOTPStep (round %d): TOTPLastStep = %d, want at least %d, the greatest step accepted (%s)", r+1, f.TOTPLastStep, accepted, clause)
		}
		if string(f.TOTPSecret) != string(sfSecret(9)) {
			t.Errorf("GetSecondFactor after SetRecoveryCodes raced AcceptTOTPStep (round %d): the secret changed (%s)", r+1, clause)
		}
		return !t.Failed()
	})
}

// codeExact checks that a hash is matched exactly: the manager's hashes
// are case-sensitive encodings, so a store matching without regard to
// case, trimming spaces or by prefix (a text collation, a LIKE) lets a
// code other than the one issued through.
func (s *secondFactorSuite) codeExact(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode matches the hash exactly (case, spaces and length count)"
	u := uniqueUser("exact")
	codes := []string{"AbCdEf-hash-Ω", "abcdef-hash-ω", "xyz-hash"}
	must(t, st.SetRecoveryCodes(background(), u, codes), "SetRecoveryCodes", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor"), u, nil, 0, time.Time{}, codes, "GetSecondFactor of codes differing only in case", clause+": codes differing in case are different codes")
	for _, near := range []string{"ABCDEF-HASH-Ω", "abcdef-hash-Ω", "xyz-hash ", " xyz-hash", "xyz-has", "xyz-hash-", "XYZ-hash", "xyz-%", "xyz-hash\x00", "xyz", ""} {
		wantErr(t, st.UseRecoveryCode(background(), u, near), loginkit.ErrNotFound, fmt.Sprintf("UseRecoveryCode(%q) with codes %q", near, codes), clause)
	}
	s.want(t, s.get(t, st, u, "GetSecondFactor after near-miss uses"), u, nil, 0, time.Time{}, codes, "GetSecondFactor after near-miss uses", clause+": a refused use removes nothing")
	must(t, st.UseRecoveryCode(background(), u, codes[1]), "UseRecoveryCode of the lower-case code", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after using the lower-case code"), u, nil, 0, time.Time{}, []string{codes[0], codes[2]}, "GetSecondFactor after using the lower-case code", clause+": only that code is removed")
}

// prefixUsers checks users whose IDs are prefixes of each other, with
// hashes that make "userID+hash" equal across them, so that a store
// keying by prefix (a SCAN MATCH id*, a LIKE) or by a concatenation
// without a separator mixes them up.
func (s *secondFactorSuite) prefixUsers(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "each user's data is separate, whatever the user IDs"
	base := uniqueUser("pfx")
	u1, u10 := base+"-1", base+"-10"
	must(t, st.SetTOTP(background(), u1, sfSecret(20), 50, s.now), "SetTOTP(user-1)", clause)
	must(t, st.SetRecoveryCodes(background(), u1, []string{"A-hash", "B-hash"}), "SetRecoveryCodes(user-1)", clause)
	must(t, st.SetTOTP(background(), u10, sfSecret(21), 70, s.now), "SetTOTP(user-10)", clause)
	must(t, st.SetRecoveryCodes(background(), u10, []string{"0A-hash"[1:], "C-hash"}), "SetRecoveryCodes(user-10)", clause)
	wantErr(t, st.UseRecoveryCode(background(), u1, "0C-hash"), loginkit.ErrNotFound, "UseRecoveryCode(user-1, \"0C-hash\") while user-10 has \"C-hash\"", clause+": user ID and hash are not run together")
	wantErr(t, st.UseRecoveryCode(background(), u1, "C-hash"), loginkit.ErrNotFound, "UseRecoveryCode(user-1, a code of user-10)", clause)
	wantErr(t, st.UseRecoveryCode(background(), base, "-1A-hash"), loginkit.ErrNotFound, "UseRecoveryCode(a prefix of the user ID, a hash making the same concatenation)", clause)
	must(t, st.AcceptTOTPStep(background(), u1, 60), "AcceptTOTPStep(user-1, 60) while user-10's last step is 70", clause)
	s.want(t, s.get(t, st, u1, "GetSecondFactor(user-1)"), u1, sfSecret(20), 60, s.now, []string{"A-hash", "B-hash"}, "GetSecondFactor(user-1) beside user-10", clause)
	s.want(t, s.get(t, st, u10, "GetSecondFactor(user-10)"), u10, sfSecret(21), 70, s.now, []string{"A-hash", "C-hash"}, "GetSecondFactor(user-10) beside user-1", clause)
	_, err := st.GetSecondFactor(background(), base)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor of a user whose ID is a prefix of others' (and who has no data)", clause)
	must(t, st.DeleteSecondFactor(background(), u1), "DeleteSecondFactor(user-1)", clause)
	must(t, st.DeleteSecondFactor(background(), base), "DeleteSecondFactor of a prefix of the user IDs", clause)
	const after = "GetSecondFactor(user-10) after deleting user-1 and a prefix of its ID (" + clause + ": DeleteSecondFactor removes that user's data only)"
	s.want(t, s.get(t, st, u10, after), u10, sfSecret(21), 70, s.now, []string{"A-hash", "C-hash"},
		"GetSecondFactor(user-10) after deleting user-1 and a prefix of its ID", clause+": DeleteSecondFactor removes that user's data only")
}

// enabledAtUTC checks that TOTPEnabledAt comes back in time.UTC whatever
// the zone it was given in, and that a zero time stays zero.
func (s *secondFactorSuite) enabledAtUTC(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "times are returned in time.UTC, the same instant; a zero time stays zero"
	u := uniqueUser("zone")
	at := s.now.Add(-3 * time.Hour).In(time.FixedZone("UTC-7", -7*3600))
	must(t, st.SetTOTP(background(), u, sfSecret(22), 1, at), "SetTOTP with a time in UTC-7", clause)
	f := s.get(t, st, u, "GetSecondFactor")
	if !sfSameInstant(f.TOTPEnabledAt, at, s.prec) || f.TOTPEnabledAt.Location() != time.UTC {
		t.Errorf("GetSecondFactor after SetTOTP with enabledAt %v: TOTPEnabledAt = %v in %v, want %v in UTC (%s)", at, f.TOTPEnabledAt, f.TOTPEnabledAt.Location(), at.UTC(), clause)
	}
	must(t, st.AcceptTOTPStep(background(), u, 2), "AcceptTOTPStep", clause)
	if f := s.get(t, st, u, "GetSecondFactor after AcceptTOTPStep"); f.TOTPEnabledAt.Location() != time.UTC || !sfSameInstant(f.TOTPEnabledAt, at, s.prec) {
		t.Errorf("GetSecondFactor after AcceptTOTPStep: TOTPEnabledAt = %v in %v, want %v in UTC (%s)", f.TOTPEnabledAt, f.TOTPEnabledAt.Location(), at.UTC(), clause)
	}
	v := uniqueUser("zero-time")
	must(t, st.SetTOTP(background(), v, sfSecret(23), 1, time.Time{}), "SetTOTP with a zero enabledAt", clause)
	if f := s.get(t, st, v, "GetSecondFactor"); !f.TOTPEnabledAt.IsZero() {
		t.Errorf("GetSecondFactor after SetTOTP with a zero enabledAt: TOTPEnabledAt = %v, want the zero time (%s)", f.TOTPEnabledAt, clause)
	}
}

func (s *secondFactorSuite) setCodesReplaces(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetRecoveryCodes replaces the set: old codes stop working"
	u := uniqueUser("regen")
	old, fresh := sfCodes("old", 5), sfCodes("new", 5)
	must(t, st.SetRecoveryCodes(background(), u, old), "SetRecoveryCodes", clause)
	must(t, st.SetRecoveryCodes(background(), u, fresh), "SetRecoveryCodes again", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after regenerating"), u, nil, 0, time.Time{}, fresh, "GetSecondFactor after regenerating", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, old[0]), loginkit.ErrNotFound, "UseRecoveryCode of a code from the replaced set", clause)
	must(t, st.UseRecoveryCode(background(), u, fresh[0]), "UseRecoveryCode of a new code", clause)
}

func (s *secondFactorSuite) setCodesKeepsTOTP(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetRecoveryCodes leaves the TOTP secret untouched"
	u := uniqueUser("codes-keep-totp")
	must(t, st.SetTOTP(background(), u, sfSecret(7), 77, s.now), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("t", 2)), "SetRecoveryCodes", clause)
	must(t, st.SetRecoveryCodes(background(), u, nil), "SetRecoveryCodes(nil)", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after setting and clearing codes"), u, sfSecret(7), 77, s.now, nil, "GetSecondFactor after setting and clearing codes", clause)
}

func (s *secondFactorSuite) usersIsolated(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "each user's data is separate"
	a, b := uniqueUser("alice"), uniqueUser("bob")
	must(t, st.SetTOTP(background(), a, sfSecret(8), 10, s.now), "SetTOTP(alice)", clause)
	must(t, st.SetRecoveryCodes(background(), a, sfCodes("same", 2)), "SetRecoveryCodes(alice)", clause)
	must(t, st.SetTOTP(background(), b, sfSecret(9), 10, s.now), "SetTOTP(bob)", clause)
	must(t, st.SetRecoveryCodes(background(), b, sfCodes("same", 2)), "SetRecoveryCodes(bob)", clause)
	must(t, st.AcceptTOTPStep(background(), a, 11), "AcceptTOTPStep(alice, 11)", clause)
	must(t, st.AcceptTOTPStep(background(), b, 11), "AcceptTOTPStep(bob, 11)", clause+": one user's accepted step does not replay another's")
	must(t, st.UseRecoveryCode(background(), a, sfCodes("same", 2)[0]), "UseRecoveryCode(alice)", clause)
	must(t, st.UseRecoveryCode(background(), b, sfCodes("same", 2)[0]), "UseRecoveryCode(bob) of the same hash", clause+": using one user's code leaves another's")
	must(t, st.DeleteSecondFactor(background(), a), "DeleteSecondFactor(alice)", clause)
	s.want(t, s.get(t, st, b, "GetSecondFactor(bob) after deleting alice"), b, sfSecret(9), 11, s.now, sfCodes("same", 2)[1:], "GetSecondFactor(bob) after deleting alice", clause)
}

func (s *secondFactorSuite) delete(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "DeleteSecondFactor removes the secret and every code"
	u := uniqueUser("delete")
	must(t, st.SetTOTP(background(), u, sfSecret(10), 5, s.now), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("del", 3)), "SetRecoveryCodes", clause)
	must(t, st.DeleteSecondFactor(background(), u), "DeleteSecondFactor", clause)
	_, err := st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after DeleteSecondFactor", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, sfCodes("del", 3)[0]), loginkit.ErrNotFound, "UseRecoveryCode after DeleteSecondFactor", clause)
	wantErr(t, st.AcceptTOTPStep(background(), u, 6), loginkit.ErrNotFound, "AcceptTOTPStep after DeleteSecondFactor", clause)
	must(t, st.DeleteSecondFactor(background(), u), "DeleteSecondFactor of deleted data", "deleting missing data is not an error")
	// Enrolling again after a delete starts from the new values only.
	must(t, st.SetTOTP(background(), u, sfSecret(11), 1, s.now), "SetTOTP after DeleteSecondFactor", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after re-enrolling"), u, sfSecret(11), 1, s.now, nil, "GetSecondFactor after re-enrolling", clause+": no old code comes back")
}

func (s *secondFactorSuite) isolation(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "values passed in and returned are not shared with the store"
	u := uniqueUser("alias")
	sec, hs := sfSecret(12), sfCodes("i", 3)
	must(t, st.SetTOTP(background(), u, sec, 3, s.now), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, hs), "SetRecoveryCodes", clause)
	sec[5] ^= 0xff
	hs[0] = "changed by the caller"
	got := s.get(t, st, u, "GetSecondFactor")
	s.want(t, got, u, sfSecret(12), 3, s.now, sfCodes("i", 3), "GetSecondFactor after the caller changed what it passed", clause+": SetTOTP and SetRecoveryCodes store copies")
	got.TOTPSecret[7] ^= 0xff
	got.RecoveryCodes[0] = "changed by the reader"
	got.TOTPLastStep = 99
	s.want(t, s.get(t, st, u, "GetSecondFactor again"), u, sfSecret(12), 3, s.now, sfCodes("i", 3), "GetSecondFactor after the caller changed a returned value", clause+": GetSecondFactor returns a copy")
}

func (s *secondFactorSuite) contextCancelled(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SecondFactorStore: every method honours ctx"
	u := uniqueUser("ctx")
	must(t, st.SetTOTP(background(), u, sfSecret(13), 20, s.now), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("ctx", 2)), "SetRecoveryCodes", clause)
	ctx := cancelled()
	_, err := st.GetSecondFactor(ctx, u)
	wantCanceled(t, err, "GetSecondFactor with a cancelled context", clause)
	wantCanceled(t, st.SetTOTP(ctx, u, sfSecret(14), 1, s.now), "SetTOTP with a cancelled context", clause)
	wantCanceled(t, st.AcceptTOTPStep(ctx, u, 21), "AcceptTOTPStep with a cancelled context", clause)
	wantCanceled(t, st.SetRecoveryCodes(ctx, u, sfCodes("x", 1)), "SetRecoveryCodes with a cancelled context", clause)
	wantCanceled(t, st.UseRecoveryCode(ctx, u, sfCodes("ctx", 2)[0]), "UseRecoveryCode with a cancelled context", clause)
	wantCanceled(t, st.DeleteSecondFactor(ctx, u), "DeleteSecondFactor with a cancelled context", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after cancelled calls"), u, sfSecret(13), 20, s.now, sfCodes("ctx", 2), "GetSecondFactor after cancelled calls", clause+": a cancelled call changes nothing")
}
