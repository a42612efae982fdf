package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// PasskeyHarness describes a loginkit.PasskeyStore under test.
type PasskeyHarness struct {
	// New returns a new, empty store for one subtest. Release what it
	// holds with tb.Cleanup. Required.
	New func(tb testing.TB) loginkit.PasskeyStore
	// TimePrecision is the precision the store keeps for times; 0 means
	// time.Millisecond.
	TimePrecision time.Duration
}

// TestPasskeys checks a loginkit.PasskeyStore against its contract:
// round trips of every field, unique credential IDs across users (binary
// IDs, IDs that differ in one byte or are a prefix of another), per-user
// listing in creation order, rename and delete limited to the owner,
// deleting all of a user's passkeys (and only theirs), the sign-count
// compare-and-set (sequential, and 20 concurrent callers with one old
// count: exactly one succeeds), isolation of values passed in and
// returned, and cancelled contexts. Each case runs as a subtest with a
// fresh store from h.New. The cases: RoundTrip, GetMissing,
// EmptyValuesRefused, DuplicateIDRefused, IDsExact, ListPerUser, Rename,
// Delete, DeleteUser, SignCount, SignCountConcurrent,
// ReturnedValuesIsolated, ContextCancelled.
func TestPasskeys(t *testing.T, h PasskeyHarness) {
	t.Helper()
	runPasskeys(wrapT(t), h)
}

// passkeySuite holds what the passkey cases share: the harness declares
// nothing else they need.
type passkeySuite struct{ timing }

func runPasskeys(t suiteT, h PasskeyHarness) {
	t.Helper()
	s := &passkeySuite{newTiming(h.TimePrecision)}
	runSuite(t, "PasskeyHarness", "PasskeyStore", methodsOf[loginkit.PasskeyStore](), h.New, []suiteCase[loginkit.PasskeyStore]{
		{"RoundTrip", s.roundTrip},
		{"GetMissing", s.getMissing},
		{"EmptyValuesRefused", s.emptyRefused},
		{"DuplicateIDRefused", s.duplicate},
		{"IDsExact", s.idsExact},
		{"ListPerUser", s.listPerUser},
		{"Rename", s.rename},
		{"Delete", s.delete},
		{"DeleteUser", s.deleteUser},
		{"SignCount", s.signCount},
		{"SignCountConcurrent", s.signCountConcurrent},
		{"RenameRacingSignCount", s.renameRacingSignCount},
		{"SignCountRacingDelete", s.signCountRacingDelete},
		{"ReturnedValuesIsolated", s.isolation},
		{"ContextCancelled", s.contextCancelled},
	})
}

// credID returns a credential ID unique to this run, with bytes that trip
// up text columns and string keys (NUL, 0xff, invalid UTF-8).
func credID(tag byte) []byte {
	id := []byte{0, 0xff, tag, 0xc3}
	return append(id, loginkit.NewID()...)
}

// passkey returns a passkey of userID with every field set.
func (s *passkeySuite) passkey(userID string, tag byte, created time.Time) *loginkit.Passkey {
	pub := make([]byte, 77)
	for i := range pub {
		pub[i] = byte(i*31) ^ tag
	}
	return &loginkit.Passkey{
		CredentialID: credID(tag), UserID: userID, PublicKey: pub, SignCount: uint32(tag) + 1<<31,
		Transports: []string{"internal", "hybrid"}, BackupEligible: true, BackedUp: tag%2 == 0,
		Name: fmt.Sprintf("Key ✓ %d", tag), CreatedAt: created, LastUsedAt: created.Add(time.Minute),
	}
}

func (s *passkeySuite) get(t suiteT, st loginkit.PasskeyStore, id []byte, op string) *loginkit.Passkey {
	t.Helper()
	p, err := st.GetPasskey(background(), id)
	must(t, err, op, "PasskeyStore.GetPasskey returns a stored passkey")
	if p == nil {
		t.Fatalf("%s: got a nil Passkey with no error (PasskeyStore.GetPasskey contract)", op)
	}
	return p
}

func (s *passkeySuite) create(t suiteT, st loginkit.PasskeyStore, p *loginkit.Passkey) {
	t.Helper()
	must(t, st.CreatePasskey(background(), p.Clone()), "CreatePasskey", "PasskeyStore.CreatePasskey stores a new passkey")
}

// want compares a stored passkey with what the suite wrote.
func (s *passkeySuite) want(t suiteT, got, want *loginkit.Passkey, op, clause string) {
	t.Helper()
	if !bytes.Equal(got.CredentialID, want.CredentialID) {
		t.Errorf("%s: CredentialID = %x, want %x (%s)", op, got.CredentialID, want.CredentialID, clause)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %q, want %q (%s)", op, got.UserID, want.UserID, clause)
	}
	if !bytes.Equal(got.PublicKey, want.PublicKey) {
		t.Errorf("%s: PublicKey = %x, want %x (%s)", op, got.PublicKey, want.PublicKey, clause)
	}
	if got.SignCount != want.SignCount {
		t.Errorf("%s: SignCount = %d, want %d (%s)", op, got.SignCount, want.SignCount, clause)
	}
	if !slices.Equal(got.Transports, want.Transports) && !(len(got.Transports) == 0 && len(want.Transports) == 0) {
		t.Errorf("%s: Transports = %q, want %q (%s)", op, got.Transports, want.Transports, clause)
	}
	if got.BackupEligible != want.BackupEligible || got.BackedUp != want.BackedUp {
		t.Errorf("%s: BackupEligible, BackedUp = %v, %v, want %v, %v (%s)", op, got.BackupEligible, got.BackedUp, want.BackupEligible, want.BackedUp, clause)
	}
	if got.Name != want.Name {
		t.Errorf("%s: Name = %q, want %q (%s)", op, got.Name, want.Name, clause)
	}
	if !sfSameInstant(got.CreatedAt, want.CreatedAt, s.prec) {
		t.Errorf("%s: CreatedAt = %v, want %v within %v (%s)", op, got.CreatedAt, want.CreatedAt, s.prec, clause)
	}
	if !sfSameInstant(got.LastUsedAt, want.LastUsedAt, s.prec) {
		t.Errorf("%s: LastUsedAt = %v, want %v within %v (%s)", op, got.LastUsedAt, want.LastUsedAt, s.prec, clause)
	}
}

func (s *passkeySuite) roundTrip(t suiteT, st loginkit.PasskeyStore) {
	const clause = "PasskeyStore keeps every field"
	p := s.passkey(uniqueUser("round"), 1, s.now.Add(-time.Hour))
	s.create(t, st, p)
	got := s.get(t, st, p.CredentialID, "GetPasskey after CreatePasskey")
	s.want(t, got, p, "GetPasskey after CreatePasskey", clause)
	if got.CreatedAt.Location() != time.UTC || got.LastUsedAt.Location() != time.UTC {
		t.Errorf("GetPasskey: times in %v and %v, want UTC (times are UTC)", got.CreatedAt.Location(), got.LastUsedAt.Location())
	}
	// A never-used passkey with no transports and a zero count.
	q := s.passkey(uniqueUser("plain"), 2, s.now)
	q.Transports, q.LastUsedAt, q.SignCount, q.BackupEligible, q.BackedUp, q.Name = nil, time.Time{}, 0, false, false, ""
	s.create(t, st, q)
	s.want(t, s.get(t, st, q.CredentialID, "GetPasskey of a never-used passkey"), q, "GetPasskey of a never-used passkey", clause+": a zero LastUsedAt stays zero")
}

func (s *passkeySuite) getMissing(t suiteT, st loginkit.PasskeyStore) {
	_, err := st.GetPasskey(background(), credID(3))
	wantErr(t, err, loginkit.ErrNotFound, "GetPasskey of an unknown credential ID", "an unknown credential ID is ErrNotFound")
	list, err := st.ListPasskeys(background(), uniqueUser("nobody"))
	must(t, err, "ListPasskeys of a user without passkeys", "a user without passkeys gets an empty list and no error")
	if len(list) != 0 {
		t.Errorf("ListPasskeys of a user without passkeys: got %d passkeys, want none", len(list))
	}
}

func (s *passkeySuite) emptyRefused(t suiteT, st loginkit.PasskeyStore) {
	u := uniqueUser("empty")
	for _, c := range []struct {
		what string
		edit func(p *loginkit.Passkey)
	}{
		{"an empty credential ID", func(p *loginkit.Passkey) { p.CredentialID = nil }},
		{"an empty user ID", func(p *loginkit.Passkey) { p.UserID = "" }},
		{"an empty public key", func(p *loginkit.Passkey) { p.PublicKey = nil }},
	} {
		p := s.passkey(u, 4, s.now)
		c.edit(p)
		wantErr(t, st.CreatePasskey(background(), p), loginkit.ErrInvalid, "CreatePasskey with "+c.what, c.what+" is ErrInvalid")
	}
	_, err := st.GetPasskey(background(), nil)
	wantErr(t, err, loginkit.ErrInvalid, "GetPasskey with an empty credential ID", "an empty credential ID is ErrInvalid")
	_, err = st.ListPasskeys(background(), "")
	wantErr(t, err, loginkit.ErrInvalid, "ListPasskeys with an empty user ID", "an empty userID is ErrInvalid")
	_, err = st.DeleteUserPasskeys(background(), "")
	wantErr(t, err, loginkit.ErrInvalid, "DeleteUserPasskeys with an empty user ID", "an empty userID is ErrInvalid")
	list, err := st.ListPasskeys(background(), u)
	must(t, err, "ListPasskeys after refused writes", "PasskeyStore.ListPasskeys contract")
	if len(list) != 0 {
		t.Errorf("ListPasskeys after refused writes: got %d passkeys, want none (a refused write stores nothing)", len(list))
	}
}

func (s *passkeySuite) duplicate(t suiteT, st loginkit.PasskeyStore) {
	const clause = "a credential ID belongs to one passkey only, across all users"
	a, b := uniqueUser("alice"), uniqueUser("mallory")
	p := s.passkey(a, 5, s.now)
	s.create(t, st, p)
	same := s.passkey(a, 6, s.now)
	same.CredentialID = p.CredentialID
	wantErr(t, st.CreatePasskey(background(), same), loginkit.ErrDuplicate, "CreatePasskey of the same credential ID for the same user", clause)
	other := s.passkey(b, 7, s.now)
	other.CredentialID = p.CredentialID
	wantErr(t, st.CreatePasskey(background(), other), loginkit.ErrDuplicate, "CreatePasskey of another user's credential ID", clause)
	s.want(t, s.get(t, st, p.CredentialID, "GetPasskey after refused duplicates"), p, "GetPasskey after refused duplicates", clause+": a refused duplicate changes nothing")
	list, err := st.ListPasskeys(background(), b)
	must(t, err, "ListPasskeys(mallory)", clause)
	if len(list) != 0 {
		t.Errorf("ListPasskeys(mallory) after a refused duplicate: got %d passkeys, want none (%s)", len(list), clause)
	}
	// Concurrent creations of one ID: exactly one wins.
	id := credID(8)
	errs := sfRace(20, func(i int) error {
		q := s.passkey(uniqueUser(fmt.Sprintf("racer%d", i)), 8, s.now)
		q.CredentialID = id
		return st.CreatePasskey(background(), q)
	})
	if ok := raceWins(t, errs, loginkit.ErrDuplicate, "CreatePasskey", "concurrent CreatePasskey of one credential ID", clause); ok != 1 {
		t.Errorf("20 concurrent CreatePasskey of one credential ID: want exactly 1 success, got %d (%s)", ok, clause)
	}
}

func (s *passkeySuite) idsExact(t suiteT, st loginkit.PasskeyStore) {
	const clause = "credential IDs are compared byte for byte"
	u := uniqueUser("ids")
	base := s.passkey(u, 9, s.now)
	s.create(t, st, base)
	variants := [][]byte{
		append(slices.Clone(base.CredentialID), 0),                            // a trailing NUL
		base.CredentialID[:len(base.CredentialID)-1],                          // a prefix
		append([]byte{base.CredentialID[0] ^ 0x20}, base.CredentialID[1:]...), // one byte (a letter case bit) flipped
	}
	for i, id := range variants {
		_, err := st.GetPasskey(background(), id)
		wantErr(t, err, loginkit.ErrNotFound, fmt.Sprintf("GetPasskey of variant %d of a stored ID", i), clause)
	}
	for i, id := range variants {
		q := s.passkey(u, byte(10+i), s.now.Add(time.Duration(i+1)*time.Second))
		q.CredentialID = id
		must(t, st.CreatePasskey(background(), q.Clone()), fmt.Sprintf("CreatePasskey of variant %d of a stored ID", i), clause+": a different ID is no duplicate")
		s.want(t, s.get(t, st, id, "GetPasskey of the variant"), q, fmt.Sprintf("GetPasskey of variant %d", i), clause)
	}
	s.want(t, s.get(t, st, base.CredentialID, "GetPasskey of the original"), base, "GetPasskey of the original after its variants", clause)
	// IDs as long as allowed (1023 bytes) are kept whole: two that differ
	// only in their last byte are two passkeys.
	long := s.passkey(u, 30, s.now.Add(time.Minute))
	long.CredentialID = append(credID(30), bytes.Repeat([]byte{0xA5, 0x5A, 0x00}, 341)...)[:1023]
	long2 := s.passkey(u, 31, s.now.Add(2*time.Minute))
	long2.CredentialID = slices.Clone(long.CredentialID)
	long2.CredentialID[1022] ^= 1
	must(t, st.CreatePasskey(background(), long.Clone()), "CreatePasskey with a 1023-byte ID", clause)
	must(t, st.CreatePasskey(background(), long2.Clone()), "CreatePasskey with a 1023-byte ID differing from another in its last byte", clause+", the whole ID (up to 1023 bytes): a different ID is no duplicate")
	s.want(t, s.get(t, st, long.CredentialID, "GetPasskey of a 1023-byte ID"), long, "GetPasskey of a 1023-byte ID", clause+", the whole ID (up to 1023 bytes)")
	s.want(t, s.get(t, st, long2.CredentialID, "GetPasskey of a 1023-byte ID"), long2, "GetPasskey of a 1023-byte ID differing from another in its last byte", clause+", the whole ID (up to 1023 bytes)")
}

func (s *passkeySuite) listPerUser(t suiteT, st loginkit.PasskeyStore) {
	const clause = "ListPasskeys returns the user's passkeys, only theirs, oldest first"
	a, b := uniqueUser("alice"), uniqueUser("bob")
	// Created out of order; a prefix user ID shares no passkey.
	ps := []*loginkit.Passkey{
		s.passkey(a, 20, s.now.Add(-time.Minute)),
		s.passkey(a, 21, s.now.Add(-3*time.Minute)),
		s.passkey(a, 22, s.now.Add(-2*time.Minute)),
	}
	for _, p := range ps {
		s.create(t, st, p)
	}
	s.create(t, st, s.passkey(b, 23, s.now.Add(-4*time.Minute)))
	s.create(t, st, s.passkey(a+"x", 24, s.now.Add(-5*time.Minute)))
	s.create(t, st, s.passkey(a[:len(a)-1], 25, s.now.Add(-5*time.Minute)))
	list, err := st.ListPasskeys(background(), a)
	must(t, err, "ListPasskeys", clause)
	want := []*loginkit.Passkey{ps[1], ps[2], ps[0]}
	if len(list) != len(want) {
		t.Fatalf("ListPasskeys(alice): got %d passkeys, want %d (%s)", len(list), len(want), clause)
	}
	for i := range want {
		s.want(t, list[i], want[i], fmt.Sprintf("ListPasskeys(alice)[%d]", i), clause)
	}
	// Passkeys created at the same instant are listed each (in any order
	// among themselves): an index keyed by time would merge them.
	c := uniqueUser("carol")
	for tag := byte(26); tag < 29; tag++ {
		s.create(t, st, s.passkey(c, tag, s.now.Add(-time.Minute)))
	}
	if ties, err := st.ListPasskeys(background(), c); err == nil && len(ties) != 3 {
		t.Errorf("ListPasskeys of 3 passkeys created at the same instant: got %d, want 3 (%s, those created at the same instant included)", len(ties), clause)
	}
}

func (s *passkeySuite) rename(t suiteT, st loginkit.PasskeyStore) {
	const clause = "RenamePasskey renames the user's own passkey only"
	a, b := uniqueUser("alice"), uniqueUser("bob")
	p, q := s.passkey(a, 30, s.now), s.passkey(b, 31, s.now)
	s.create(t, st, p)
	s.create(t, st, q)
	must(t, st.RenamePasskey(background(), a, p.CredentialID, "Laptop — Zoë's"), "RenamePasskey", clause)
	p.Name = "Laptop — Zoë's"
	s.want(t, s.get(t, st, p.CredentialID, "GetPasskey after RenamePasskey"), p, "GetPasskey after RenamePasskey", clause+": only the name changes")
	wantErr(t, st.RenamePasskey(background(), a, q.CredentialID, "stolen"), loginkit.ErrNotFound, "RenamePasskey of another user's passkey", clause)
	s.want(t, s.get(t, st, q.CredentialID, "GetPasskey(bob's) after alice tried to rename it"), q, "GetPasskey of bob's passkey", clause+": another user's passkey is untouched")
	wantErr(t, st.RenamePasskey(background(), a, credID(32), "x"), loginkit.ErrNotFound, "RenamePasskey of an unknown credential ID", clause)
	must(t, st.RenamePasskey(background(), a, p.CredentialID, ""), "RenamePasskey to an empty name", "a name may be empty")
	if got := s.get(t, st, p.CredentialID, "GetPasskey").Name; got != "" {
		t.Errorf("GetPasskey after renaming to \"\": Name = %q, want empty", got)
	}
}

func (s *passkeySuite) delete(t suiteT, st loginkit.PasskeyStore) {
	const clause = "DeletePasskey removes the user's own passkey only"
	a, b := uniqueUser("alice"), uniqueUser("bob")
	p, p2, q := s.passkey(a, 40, s.now), s.passkey(a, 41, s.now.Add(time.Second)), s.passkey(b, 42, s.now)
	s.create(t, st, p)
	s.create(t, st, p2)
	s.create(t, st, q)
	wantErr(t, st.DeletePasskey(background(), a, q.CredentialID), loginkit.ErrNotFound, "DeletePasskey of another user's passkey", clause)
	s.want(t, s.get(t, st, q.CredentialID, "GetPasskey(bob's) after alice tried to delete it"), q, "GetPasskey of bob's passkey", clause+": another user's passkey stays")
	must(t, st.DeletePasskey(background(), a, p.CredentialID), "DeletePasskey", clause)
	_, err := st.GetPasskey(background(), p.CredentialID)
	wantErr(t, err, loginkit.ErrNotFound, "GetPasskey after DeletePasskey", clause)
	wantErr(t, st.DeletePasskey(background(), a, p.CredentialID), loginkit.ErrNotFound, "DeletePasskey of a deleted passkey", clause)
	wantErr(t, st.UpdateSignCount(background(), p.CredentialID, p.SignCount, p.SignCount+1, false, s.now), loginkit.ErrNotFound, "UpdateSignCount of a deleted passkey", clause)
	list, err := st.ListPasskeys(background(), a)
	must(t, err, "ListPasskeys after DeletePasskey", clause)
	if len(list) != 1 || !bytes.Equal(list[0].CredentialID, p2.CredentialID) {
		t.Errorf("ListPasskeys after deleting one of two passkeys: got %d passkeys, want only the other one (%s)", len(list), clause)
	}
	// The ID can be registered again.
	s.create(t, st, p)
}

func (s *passkeySuite) deleteUser(t suiteT, st loginkit.PasskeyStore) {
	const clause = "DeleteUserPasskeys removes every passkey of the user, and only theirs"
	a, b := uniqueUser("alice"), uniqueUser("bob")
	var mine []*loginkit.Passkey
	for i := range 4 {
		p := s.passkey(a, byte(50+i), s.now.Add(time.Duration(i)*time.Second))
		mine = append(mine, p)
		s.create(t, st, p)
	}
	q := s.passkey(b, 60, s.now)
	s.create(t, st, q)
	s.create(t, st, s.passkey(a+"x", 61, s.now))
	n, err := st.DeleteUserPasskeys(background(), a)
	must(t, err, "DeleteUserPasskeys", clause)
	if n != len(mine) {
		t.Errorf("DeleteUserPasskeys: removed %d, want %d (%s)", n, len(mine), clause)
	}
	for i, p := range mine {
		_, err := st.GetPasskey(background(), p.CredentialID)
		wantErr(t, err, loginkit.ErrNotFound, fmt.Sprintf("GetPasskey of the user's passkey %d after DeleteUserPasskeys", i), clause)
	}
	list, err := st.ListPasskeys(background(), a)
	must(t, err, "ListPasskeys after DeleteUserPasskeys", clause)
	if len(list) != 0 {
		t.Errorf("ListPasskeys after DeleteUserPasskeys: got %d passkeys, want none (%s)", len(list), clause)
	}
	s.want(t, s.get(t, st, q.CredentialID, "GetPasskey(bob's)"), q, "GetPasskey of another user's passkey after DeleteUserPasskeys", clause)
	if list, err := st.ListPasskeys(background(), a+"x"); err != nil || len(list) != 1 {
		t.Errorf("ListPasskeys of a user whose ID extends the deleted one: got %d passkeys, %v; want 1 (%s)", len(list), err, clause)
	}
	n, err = st.DeleteUserPasskeys(background(), a)
	must(t, err, "DeleteUserPasskeys again", "a user without passkeys is no error")
	if n != 0 {
		t.Errorf("DeleteUserPasskeys of a user without passkeys: removed %d, want 0", n)
	}
	s.create(t, st, mine[0])
}

func (s *passkeySuite) signCount(t suiteT, st loginkit.PasskeyStore) {
	const clause = "UpdateSignCount is a compare-and-set on the stored count"
	p := s.passkey(uniqueUser("count"), 70, s.now.Add(-time.Hour))
	p.SignCount, p.BackedUp, p.LastUsedAt = 10, false, time.Time{}
	s.create(t, st, p)
	used := s.now.Add(-time.Minute)
	must(t, st.UpdateSignCount(background(), p.CredentialID, 10, 11, true, used), "UpdateSignCount(10 → 11)", clause)
	p.SignCount, p.BackedUp, p.LastUsedAt = 11, true, used
	s.want(t, s.get(t, st, p.CredentialID, "GetPasskey after UpdateSignCount"), p, "GetPasskey after UpdateSignCount", clause+": the count, BackedUp and LastUsedAt change, nothing else")
	wantErr(t, st.UpdateSignCount(background(), p.CredentialID, 10, 12, false, s.now), loginkit.ErrReplayed, "UpdateSignCount(10 → 12) when the count is 11", clause+": a stale old count is ErrReplayed")
	wantErr(t, st.UpdateSignCount(background(), p.CredentialID, 12, 13, false, s.now), loginkit.ErrReplayed, "UpdateSignCount(12 → 13) when the count is 11", clause)
	s.want(t, s.get(t, st, p.CredentialID, "GetPasskey after refused updates"), p, "GetPasskey after refused updates", clause+": a refused update changes nothing")
	// Counters may be 0 for good (synced passkeys), and reach the top of
	// the uint32 range.
	must(t, st.UpdateSignCount(background(), p.CredentialID, 11, 1<<32-1, true, s.now), "UpdateSignCount(11 → 2³²-1)", clause)
	must(t, st.UpdateSignCount(background(), p.CredentialID, 1<<32-1, 0, true, s.now), "UpdateSignCount(2³²-1 → 0)", clause)
	must(t, st.UpdateSignCount(background(), p.CredentialID, 0, 0, false, s.now), "UpdateSignCount(0 → 0)", clause)
	if got := s.get(t, st, p.CredentialID, "GetPasskey"); got.SignCount != 0 || got.BackedUp {
		t.Errorf("GetPasskey after UpdateSignCount(0 → 0, backedUp false): SignCount, BackedUp = %d, %v; want 0, false", got.SignCount, got.BackedUp)
	}
	// A stored count of 0 (a passkey without a counter) is compared like
	// any other.
	wantErr(t, st.UpdateSignCount(background(), p.CredentialID, 5, 6, true, s.now), loginkit.ErrReplayed, "UpdateSignCount(5 → 6) when the count is 0", clause+": a stale old count is ErrReplayed, also when the stored count is 0")
	if got := s.get(t, st, p.CredentialID, "GetPasskey"); got.SignCount != 0 || got.BackedUp {
		t.Errorf("GetPasskey after a refused UpdateSignCount(5 → 6) when the count is 0: SignCount, BackedUp = %d, %v; want 0, false (%s: a refused update changes nothing)", got.SignCount, got.BackedUp, clause)
	}
	wantErr(t, st.UpdateSignCount(background(), credID(71), 0, 1, false, s.now), loginkit.ErrNotFound, "UpdateSignCount of an unknown credential ID", "an unknown credential ID is ErrNotFound")
}

// renameRacingSignCount races renames of a passkey with sign-ins that
// move its counter, round after round for raceBudget through a yielding
// context: a RenamePasskey that writes back the whole record it read
// first puts an older count back (a cloned authenticator's replay would
// then pass), and is caught in every run
// (TestPasskeyWholeRecordRacesCaughtEveryTime).
func (s *passkeySuite) renameRacingSignCount(t suiteT, st loginkit.PasskeyStore) {
	const clause = "RenamePasskey changes only the name, also while the passkey signs in: the sign count never goes back"
	const steps = 8
	u := uniqueUser("rename-race")
	p := s.passkey(u, 80, s.now)
	p.SignCount = 1000
	s.create(t, st, p)
	count := p.SignCount
	repeatRace(func(r int) bool {
		errs := make([]error, 2*steps)
		raceSteps(2, steps, func(g, k int) {
			if g == 0 {
				errs[k] = st.UpdateSignCount(raceContext(), p.CredentialID, count+uint32(k), count+uint32(k)+1, true, s.now)
				return
			}
			errs[steps+k] = st.RenamePasskey(raceContext(), u, p.CredentialID, fmt.Sprintf("renamed %d.%d", r, k))
		})
		wantRaceResults(t, errs, "UpdateSignCount or RenamePasskey", fmt.Sprintf("UpdateSignCount racing RenamePasskey (round %d)", r+1), clause, nil)
		count += steps
		if got := s.get(t, st, p.CredentialID, "GetPasskey after the race"); got.SignCount != count {
			t.Errorf("GetPasskey after RenamePasskey raced UpdateSignCount (round %d): SignCount = %d, want %d (%s)", r+1, got.SignCount, count, clause)
		}
		return !t.Failed()
	})
}

// signCountRacingDelete races deletions of passkeys with sign-ins,
// round after round for raceBudget through a yielding context: an
// UpdateSignCount that writes with an upsert brings a passkey deleted in
// between back, and is caught in every run
// (TestPasskeyWholeRecordRacesCaughtEveryTime).
func (s *passkeySuite) signCountRacingDelete(t suiteT, st loginkit.PasskeyStore) {
	const clause = "UpdateSignCount changes an existing passkey only: a passkey deleted while it signs in stays deleted"
	const pairs = 8
	u := uniqueUser("delete-race")
	repeatRace(func(r int) bool {
		ps := make([]*loginkit.Passkey, pairs)
		for i := range ps {
			ps[i] = s.passkey(u, byte(100+i), s.now)
			s.create(t, st, ps[i])
		}
		errs := make([]error, 2*pairs)
		raceSteps(2*pairs, 1, func(g, _ int) {
			p := ps[g/2]
			if g%2 == 0 {
				errs[g] = st.DeletePasskey(raceContext(), u, p.CredentialID)
				return
			}
			errs[g] = st.UpdateSignCount(raceContext(), p.CredentialID, p.SignCount, p.SignCount+1, true, s.now)
			// A sign-in losing to the deletion fails either way: a store
			// that finds no row to compare-and-set may call it a replay.
			if errors.Is(errs[g], loginkit.ErrNotFound) || errors.Is(errs[g], loginkit.ErrReplayed) {
				errs[g] = nil
			}
		})
		wantRaceResults(t, errs, "UpdateSignCount or DeletePasskey", fmt.Sprintf("UpdateSignCount racing DeletePasskey (round %d)", r+1), clause, nil)
		for _, p := range ps {
			got, err := st.GetPasskey(background(), p.CredentialID)
			if !errors.Is(err, loginkit.ErrNotFound) {
				t.Errorf("GetPasskey after DeletePasskey raced UpdateSignCount (round %d): want ErrNotFound (%s), got %v, error %v", r+1, clause, got != nil, err)
			}
		}
		if list, err := st.ListPasskeys(background(), u); err == nil && len(list) != 0 {
			t.Errorf("ListPasskeys after DeletePasskey raced UpdateSignCount (round %d): %d passkeys, want none (%s)", r+1, len(list), clause)
		}
		return !t.Failed()
	})
}

func (s *passkeySuite) signCountConcurrent(t suiteT, st loginkit.PasskeyStore) {
	const clause = "UpdateSignCount is an atomic compare-and-set"
	const callers, rounds = 20, 5
	p := s.passkey(uniqueUser("count-race"), 72, s.now)
	p.SignCount = 100
	s.create(t, st, p)
	other := s.passkey(uniqueUser("bystander"), 73, s.now)
	s.create(t, st, other)
	for r := range rounds {
		old := uint32(100 + r)
		errs := sfRace(callers, func(i int) error {
			return st.UpdateSignCount(background(), p.CredentialID, old, old+1, i%2 == 0, s.now)
		})
		if ok := raceWins(t, errs, loginkit.ErrReplayed, "UpdateSignCount", fmt.Sprintf("concurrent UpdateSignCount(%d → %d)", old, old+1), clause); ok != 1 {
			t.Fatalf("%d concurrent UpdateSignCount(%d → %d): want exactly 1 success, got %d (%s: one assertion, one use)", callers, old, old+1, ok, clause)
		}
	}
	if got := s.get(t, st, p.CredentialID, "GetPasskey after the races"); got.SignCount != 100+rounds {
		t.Errorf("GetPasskey after %d rounds: SignCount = %d, want %d (%s)", rounds, got.SignCount, 100+rounds, clause)
	}
	s.want(t, s.get(t, st, other.CredentialID, "GetPasskey(bystander)"), other, "GetPasskey of another passkey after the races", clause+": only the passkey named changes")
}

func (s *passkeySuite) isolation(t suiteT, st loginkit.PasskeyStore) {
	const clause = "values passed in and returned are not shared with the store"
	p := s.passkey(uniqueUser("alias"), 80, s.now)
	want := p.Clone()
	must(t, st.CreatePasskey(background(), p), "CreatePasskey", clause)
	p.CredentialID[len(p.CredentialID)-1] ^= 0xff
	p.PublicKey[3] ^= 0xff
	p.Transports[0] = "changed by the caller"
	p.Name = "changed"
	got := s.get(t, st, want.CredentialID, "GetPasskey after the caller changed what it passed")
	s.want(t, got, want, "GetPasskey after the caller changed what it passed", clause+": CreatePasskey stores a copy")
	got.PublicKey[5] ^= 0xff
	got.Transports[1] = "changed by the reader"
	got.SignCount = 1
	s.want(t, s.get(t, st, want.CredentialID, "GetPasskey again"), want, "GetPasskey after the caller changed a returned value", clause+": GetPasskey returns a copy")
	list, err := st.ListPasskeys(background(), want.UserID)
	must(t, err, "ListPasskeys", clause)
	if len(list) == 1 {
		list[0].PublicKey[0] ^= 0xff
		list[0].Transports[0] = "changed by the lister"
	}
	s.want(t, s.get(t, st, want.CredentialID, "GetPasskey after changing a listed value"), want, "GetPasskey after the caller changed a listed value", clause+": ListPasskeys returns copies")
}

func (s *passkeySuite) contextCancelled(t suiteT, st loginkit.PasskeyStore) {
	const clause = "PasskeyStore: every method honours ctx"
	p := s.passkey(uniqueUser("ctx"), 90, s.now)
	s.create(t, st, p)
	ctx := cancelled()
	wantCanceled(t, st.CreatePasskey(ctx, s.passkey(p.UserID, 91, s.now)), "CreatePasskey with a cancelled context", clause)
	_, err := st.GetPasskey(ctx, p.CredentialID)
	wantCanceled(t, err, "GetPasskey with a cancelled context", clause)
	_, err = st.ListPasskeys(ctx, p.UserID)
	wantCanceled(t, err, "ListPasskeys with a cancelled context", clause)
	wantCanceled(t, st.RenamePasskey(ctx, p.UserID, p.CredentialID, "x"), "RenamePasskey with a cancelled context", clause)
	wantCanceled(t, st.UpdateSignCount(ctx, p.CredentialID, p.SignCount, p.SignCount+1, false, s.now), "UpdateSignCount with a cancelled context", clause)
	wantCanceled(t, st.DeletePasskey(ctx, p.UserID, p.CredentialID), "DeletePasskey with a cancelled context", clause)
	_, err = st.DeleteUserPasskeys(ctx, p.UserID)
	wantCanceled(t, err, "DeleteUserPasskeys with a cancelled context", clause)
	s.want(t, s.get(t, st, p.CredentialID, "GetPasskey after cancelled calls"), p, "GetPasskey after cancelled calls", clause+": a cancelled call changes nothing")
	list, err := st.ListPasskeys(background(), p.UserID)
	must(t, err, "ListPasskeys after cancelled calls", clause)
	if len(list) != 1 {
		t.Errorf("ListPasskeys after cancelled calls: got %d passkeys, want 1 (%s: a cancelled call changes nothing)", len(list), clause)
	}
}
