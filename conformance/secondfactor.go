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
// contract: round trips, per-user isolation, the TOTP replay rule
// (sequential, and 20 concurrent callers with one step: exactly one
// succeeds), single-use recovery codes (20 concurrent uses of one code:
// exactly one succeeds; concurrent uses of different codes: none lost),
// replacement of the recovery code set, deletion, isolation of returned
// values and cancelled contexts. Each case runs as a subtest with a fresh
// store from h.New. The cases: RoundTrip, GetMissing, EmptyValuesRefused,
// SetTOTPReplaces, SetTOTPKeepsRecoveryCodes, AcceptTOTPStep,
// AcceptTOTPStepMissing, AcceptTOTPStepConcurrent,
// AcceptTOTPStepConcurrentRising, UseRecoveryCode,
// UseRecoveryCodeConcurrent, UseDifferentRecoveryCodesConcurrent,
// SetRecoveryCodesReplaces, SetRecoveryCodesKeepsTOTP, UsersIsolated,
// Delete, ReturnedValuesIsolated, ContextCancelled.
func TestSecondFactors(t *testing.T, h SecondFactorHarness) {
	t.Helper()
	runSecondFactors(wrapT(t), h)
}

// secondFactorMethods are the SecondFactorStore methods the suite calls.
var secondFactorMethods = []string{"GetSecondFactor", "SetTOTP", "AcceptTOTPStep", "SetRecoveryCodes", "UseRecoveryCode", "DeleteSecondFactor"}

type secondFactorSuite struct {
	h    SecondFactorHarness
	prec time.Duration
	now  time.Time
}

func runSecondFactors(t suiteT, h SecondFactorHarness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("conformance: SecondFactorHarness.New is nil")
	}
	t = scope(t, "SecondFactorStore", secondFactorMethods, Unsupported()["SecondFactorStore"]...)
	s := &secondFactorSuite{h: h, prec: precisionOr(h.TimePrecision), now: suiteNow()}
	cases := []struct {
		name string
		f    func(t suiteT, st loginkit.SecondFactorStore)
	}{
		{"RoundTrip", s.roundTrip},
		{"GetMissing", s.getMissing},
		{"EmptyValuesRefused", s.emptyRefused},
		{"SetTOTPReplaces", s.setTOTPReplaces},
		{"SetTOTPKeepsRecoveryCodes", s.setTOTPKeepsCodes},
		{"AcceptTOTPStep", s.acceptStep},
		{"AcceptTOTPStepMissing", s.acceptStepMissing},
		{"AcceptTOTPStepConcurrent", s.acceptStepConcurrent},
		{"AcceptTOTPStepConcurrentRising", s.acceptStepRising},
		{"UseRecoveryCode", s.useCode},
		{"UseRecoveryCodeConcurrent", s.useCodeConcurrent},
		{"UseDifferentRecoveryCodesConcurrent", s.useDifferentCodes},
		{"SetRecoveryCodesReplaces", s.setCodesReplaces},
		{"SetRecoveryCodesKeepsTOTP", s.setCodesKeepsTOTP},
		{"UsersIsolated", s.usersIsolated},
		{"Delete", s.delete},
		{"ReturnedValuesIsolated", s.isolation},
		{"ContextCancelled", s.contextCancelled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t suiteT) {
			c.f(t, h.New(t))
		})
	}
}

// user returns a user ID unique to this run, so that stores sharing a
// database between subtests do not see each other's data.
func (s *secondFactorSuite) user(name string) string {
	return name + "-" + loginkit.NewID()[:12] + "-Zoë"
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
	u := s.user("round")
	enabled := s.now.Add(-time.Minute)
	must(t, st.SetTOTP(background(), u, sfSecret(1), 1<<40+7, enabled), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("a", 10)), "SetRecoveryCodes", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after SetTOTP and SetRecoveryCodes"), u, sfSecret(1), 1<<40+7, enabled, sfCodes("a", 10),
		"GetSecondFactor after SetTOTP and SetRecoveryCodes", clause)
	if got := s.get(t, st, u, "GetSecondFactor").TOTPEnabledAt; got.Location() != time.UTC {
		t.Errorf("GetSecondFactor: TOTPEnabledAt in %v, want UTC (times are UTC)", got.Location())
	}

	// Codes only, no TOTP: a record too.
	v := s.user("codes-only")
	must(t, st.SetRecoveryCodes(background(), v, sfCodes("b", 3)), "SetRecoveryCodes", clause)
	s.want(t, s.get(t, st, v, "GetSecondFactor of a user with recovery codes only"), v, nil, 0, time.Time{}, sfCodes("b", 3),
		"GetSecondFactor of a user with recovery codes only", clause+": a user with recovery codes and no TOTP has a record without a secret")
}

func (s *secondFactorSuite) getMissing(t suiteT, st loginkit.SecondFactorStore) {
	_, err := st.GetSecondFactor(background(), s.user("nobody"))
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor of an unknown user", "a user without data is ErrNotFound")
	// A record emptied of codes, without TOTP, is no record.
	u := s.user("emptied")
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("c", 2)), "SetRecoveryCodes", "SecondFactorStore.SetRecoveryCodes contract")
	must(t, st.SetRecoveryCodes(background(), u, nil), "SetRecoveryCodes(nil)", "an empty list removes every code")
	_, err = st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after every code was removed and with no TOTP",
		"a user with no TOTP secret and no recovery code is ErrNotFound")
}

func (s *secondFactorSuite) emptyRefused(t suiteT, st loginkit.SecondFactorStore) {
	u := s.user("empty")
	wantErr(t, st.SetTOTP(background(), u, nil, 1, s.now), loginkit.ErrInvalid, "SetTOTP with an empty secret", "an empty secret is ErrInvalid")
	wantErr(t, st.SetTOTP(background(), "", sfSecret(1), 1, s.now), loginkit.ErrInvalid, "SetTOTP with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.SetRecoveryCodes(background(), "", sfCodes("x", 1)), loginkit.ErrInvalid, "SetRecoveryCodes with an empty user ID", "an empty userID is ErrInvalid")
	wantErr(t, st.SetRecoveryCodes(background(), u, []string{"ok", ""}), loginkit.ErrInvalid, "SetRecoveryCodes with an empty hash", "an empty hash is ErrInvalid")
	_, err := st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after refused writes", "a refused write stores nothing")
}

func (s *secondFactorSuite) setTOTPReplaces(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetTOTP replaces the secret, step and enabled time"
	u := s.user("replace")
	must(t, st.SetTOTP(background(), u, sfSecret(1), 500, s.now.Add(-time.Hour)), "SetTOTP", clause)
	must(t, st.SetTOTP(background(), u, sfSecret(2), 3, s.now), "SetTOTP again", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after a second SetTOTP"), u, sfSecret(2), 3, s.now, nil, "GetSecondFactor after a second SetTOTP", clause)
	must(t, st.AcceptTOTPStep(background(), u, 4), "AcceptTOTPStep(4) after SetTOTP reset the step to 3", clause+": the step is replaced, so a later step is accepted")
}

func (s *secondFactorSuite) setTOTPKeepsCodes(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetTOTP leaves recovery codes untouched"
	u := s.user("keep-codes")
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("k", 4)), "SetRecoveryCodes", clause)
	must(t, st.SetTOTP(background(), u, sfSecret(3), 9, s.now), "SetTOTP", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor"), u, sfSecret(3), 9, s.now, sfCodes("k", 4), "GetSecondFactor after SetRecoveryCodes then SetTOTP", clause)
}

func (s *secondFactorSuite) acceptStep(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep accepts only a step greater than the last one"
	u := s.user("step")
	must(t, st.SetTOTP(background(), u, sfSecret(4), 100, s.now), "SetTOTP", clause)
	must(t, st.AcceptTOTPStep(background(), u, 101), "AcceptTOTPStep(101) after last step 100", clause)
	wantErr(t, st.AcceptTOTPStep(background(), u, 101), loginkit.ErrReplayed, "AcceptTOTPStep(101) a second time", clause+": a replayed step is ErrReplayed")
	wantErr(t, st.AcceptTOTPStep(background(), u, 100), loginkit.ErrReplayed, "AcceptTOTPStep(100) after 101", clause+": an older step is ErrReplayed")
	wantErr(t, st.AcceptTOTPStep(background(), u, -5), loginkit.ErrReplayed, "AcceptTOTPStep(-5)", clause)
	must(t, st.AcceptTOTPStep(background(), u, 103), "AcceptTOTPStep(103)", clause)
	f := s.get(t, st, u, "GetSecondFactor after AcceptTOTPStep")
	if f.TOTPLastStep != 103 {
		t.Errorf("GetSecondFactor after AcceptTOTPStep(103): TOTPLastStep = %d, want 103 (%s)", f.TOTPLastStep, clause)
	}
	if string(f.TOTPSecret) != string(sfSecret(4)) {
		t.Errorf("GetSecondFactor after AcceptTOTPStep: the secret changed (AcceptTOTPStep changes only the step)")
	}
}

func (s *secondFactorSuite) acceptStepMissing(t suiteT, st loginkit.SecondFactorStore) {
	u := s.user("no-totp")
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

func (s *secondFactorSuite) acceptStepConcurrent(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep is an atomic compare-and-set"
	const callers, rounds = 20, 5
	u := s.user("step-race")
	must(t, st.SetTOTP(background(), u, sfSecret(5), 1000, s.now), "SetTOTP", clause)
	for r := range rounds {
		step := int64(1001 + r)
		errs := sfRace(callers, func(int) error { return st.AcceptTOTPStep(background(), u, step) })
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, loginkit.ErrReplayed):
			default:
				skipUnsupported(t, "AcceptTOTPStep", err)
				t.Errorf("concurrent AcceptTOTPStep(%d): want nil or ErrReplayed, got %v (%s)", step, err, clause)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent AcceptTOTPStep(%d): want exactly 1 success, got %d (%s: one code, one use)", callers, step, ok, clause)
		}
	}
}

func (s *secondFactorSuite) acceptStepRising(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "AcceptTOTPStep is an atomic compare-and-set"
	const callers = 20
	u := s.user("step-rise")
	must(t, st.SetTOTP(background(), u, sfSecret(6), 0, s.now), "SetTOTP", clause)
	// Steps 1..20 at once: whatever the order, the stored step ends at
	// 20, and it never moves back.
	errs := sfRace(callers, func(i int) error { return st.AcceptTOTPStep(background(), u, int64(i+1)) })
	for i, err := range errs {
		if err != nil && !errors.Is(err, loginkit.ErrReplayed) {
			skipUnsupported(t, "AcceptTOTPStep", err)
			t.Errorf("concurrent AcceptTOTPStep(%d): want nil or ErrReplayed, got %v", i+1, err)
		}
	}
	if errs[callers-1] != nil {
		t.Errorf("concurrent AcceptTOTPStep(%d), the highest step: want success, got %v (%s: a newer step is always accepted)", callers, errs[callers-1], clause)
	}
	if f := s.get(t, st, u, "GetSecondFactor after concurrent steps"); f.TOTPLastStep != callers {
		t.Errorf("GetSecondFactor after concurrent AcceptTOTPStep(1..%d): TOTPLastStep = %d, want %d (%s: the step never moves back)", callers, f.TOTPLastStep, callers, clause)
	}
}

func (s *secondFactorSuite) useCode(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode removes the code: each is used at most once"
	u := s.user("use")
	all := sfCodes("u", 3)
	must(t, st.SetRecoveryCodes(background(), u, all), "SetRecoveryCodes", clause)
	must(t, st.UseRecoveryCode(background(), u, all[1]), "UseRecoveryCode", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, all[1]), loginkit.ErrNotFound, "UseRecoveryCode of a used code", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, "unknown-hash"), loginkit.ErrNotFound, "UseRecoveryCode of an unknown hash", "a hash not in the set is ErrNotFound")
	wantErr(t, st.UseRecoveryCode(background(), s.user("other"), all[0]), loginkit.ErrNotFound, "UseRecoveryCode for a user without a record", "a user without a record is ErrNotFound")
	s.want(t, s.get(t, st, u, "GetSecondFactor after using one code"), u, nil, 0, time.Time{}, []string{all[0], all[2]}, "GetSecondFactor after using one code", clause)
	must(t, st.UseRecoveryCode(background(), u, all[0]), "UseRecoveryCode", clause)
	must(t, st.UseRecoveryCode(background(), u, all[2]), "UseRecoveryCode of the last code", clause)
	_, err := st.GetSecondFactor(background(), u)
	wantErr(t, err, loginkit.ErrNotFound, "GetSecondFactor after the last code was used (no TOTP)", "a user with no TOTP secret and no recovery code is ErrNotFound")
}

func (s *secondFactorSuite) useCodeConcurrent(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode is atomic"
	const callers, rounds = 20, 3
	u := s.user("code-race")
	all := sfCodes("r", rounds+1)
	must(t, st.SetRecoveryCodes(background(), u, all), "SetRecoveryCodes", clause)
	for r := range rounds {
		errs := sfRace(callers, func(int) error { return st.UseRecoveryCode(background(), u, all[r]) })
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, loginkit.ErrNotFound):
			default:
				skipUnsupported(t, "UseRecoveryCode", err)
				t.Errorf("concurrent UseRecoveryCode: want nil or ErrNotFound, got %v (%s)", err, clause)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent UseRecoveryCode of one code: want exactly 1 success, got %d (%s: a recovery code is used once)", callers, ok, clause)
		}
	}
	s.want(t, s.get(t, st, u, "GetSecondFactor after the races"), u, nil, 0, time.Time{}, all[rounds:], "GetSecondFactor after the races", clause)
}

func (s *secondFactorSuite) useDifferentCodes(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "UseRecoveryCode is atomic: concurrent uses of different codes are all kept"
	const n = 10
	u := s.user("codes-race")
	all := sfCodes("d", n+2)
	must(t, st.SetRecoveryCodes(background(), u, all), "SetRecoveryCodes", clause)
	errs := sfRace(n, func(i int) error { return st.UseRecoveryCode(background(), u, all[i]) })
	for i, err := range errs {
		if err != nil {
			skipUnsupported(t, "UseRecoveryCode", err)
			t.Errorf("concurrent UseRecoveryCode of code %d: want success, got %v (%s)", i, err, clause)
		}
	}
	s.want(t, s.get(t, st, u, "GetSecondFactor after concurrent uses"), u, nil, 0, time.Time{}, all[n:], "GetSecondFactor after concurrent uses of different codes", clause+" (none lost, none restored)")
	for i := range n {
		wantErr(t, st.UseRecoveryCode(background(), u, all[i]), loginkit.ErrNotFound, fmt.Sprintf("UseRecoveryCode of used code %d again", i), clause)
	}
}

func (s *secondFactorSuite) setCodesReplaces(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetRecoveryCodes replaces the set: old codes stop working"
	u := s.user("regen")
	old, fresh := sfCodes("old", 5), sfCodes("new", 5)
	must(t, st.SetRecoveryCodes(background(), u, old), "SetRecoveryCodes", clause)
	must(t, st.SetRecoveryCodes(background(), u, fresh), "SetRecoveryCodes again", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after regenerating"), u, nil, 0, time.Time{}, fresh, "GetSecondFactor after regenerating", clause)
	wantErr(t, st.UseRecoveryCode(background(), u, old[0]), loginkit.ErrNotFound, "UseRecoveryCode of a code from the replaced set", clause)
	must(t, st.UseRecoveryCode(background(), u, fresh[0]), "UseRecoveryCode of a new code", clause)
}

func (s *secondFactorSuite) setCodesKeepsTOTP(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "SetRecoveryCodes leaves the TOTP secret untouched"
	u := s.user("codes-keep-totp")
	must(t, st.SetTOTP(background(), u, sfSecret(7), 77, s.now), "SetTOTP", clause)
	must(t, st.SetRecoveryCodes(background(), u, sfCodes("t", 2)), "SetRecoveryCodes", clause)
	must(t, st.SetRecoveryCodes(background(), u, nil), "SetRecoveryCodes(nil)", clause)
	s.want(t, s.get(t, st, u, "GetSecondFactor after setting and clearing codes"), u, sfSecret(7), 77, s.now, nil, "GetSecondFactor after setting and clearing codes", clause)
}

func (s *secondFactorSuite) usersIsolated(t suiteT, st loginkit.SecondFactorStore) {
	const clause = "each user's data is separate"
	a, b := s.user("alice"), s.user("bob")
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
	u := s.user("delete")
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
	u := s.user("alias")
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
	u := s.user("ctx")
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
