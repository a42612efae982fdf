package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loginkit/loginkit"
)

// TestUsers checks a loginkit.UserStore against its contract: IDs
// assigned on Create, round trips of the whole embedding struct (the
// application's own fields included), lookups by normalised email and
// username, uniqueness on Create and Update (case, width and surrounding
// space variants included), idempotent deletes, paging, isolation of
// returned values, cancelled contexts and concurrent creates of the same
// email. For a store implementing loginkit.UserUpdater it also checks
// the manager's lockout bound that rests on it: 60 concurrent wrong
// guesses against policies.Lockout(5, ...) cost at most 5 password
// checks. Each case runs as a subtest with a fresh store from h.New.
func TestUsers[U loginkit.AccountUser](t *testing.T, h UserHarness[U]) {
	t.Helper()
	runUsers(wrapT(t), h)
}

// userSuite holds what the user cases share.
type userSuite[U loginkit.AccountUser] struct {
	h UserHarness[U]
	timing
}

func runUsers[U loginkit.AccountUser](t suiteT, h UserHarness[U]) {
	t.Helper()
	s := &userSuite[U]{h: h, timing: newTiming(h.TimePrecision)}
	if h.New != nil && h.NewUser == nil {
		if _, ok := s.allocator(); !ok {
			t.Fatalf("conformance: UserHarness.NewUser is nil and %s is not a pointer to a struct", reflect.TypeFor[U]())
		}
	}
	runSuite(t, "UserHarness", "UserStore", methodsOf[loginkit.UserStore[U]]("UpdateUser"), h.New, []suiteCase[loginkit.UserStore[U]]{
		{"CreateAssignsID", s.createAssignsID},
		{"CreateKeepsGivenID", s.createKeepsID},
		{"CreateDuplicateID", s.createDuplicateID},
		{"RoundTrip", s.roundTrip},
		{"LoadUserMissing", s.loadMissing},
		{"FindByLogin", s.findByLogin},
		{"LoginKeysRecomputed", s.keysRecomputed},
		{"DuplicateEmailOnCreate", s.duplicateEmailOnCreate},
		{"DuplicateUsernameOnCreate", s.duplicateUsernameOnCreate},
		{"DuplicateOnUpdate", s.duplicateOnUpdate},
		{"UpdateOwnLoginNames", s.updateOwnLoginNames},
		{"EmptyUsernamesCoexist", s.emptyUsernames},
		{"UsernameWithAtRefused", s.usernameWithAt},
		{"EmailWithoutAtRefused", s.emailWithoutAt},
		{"HostileLoginNamesRefused", s.hostileNames},
		{"UpdateUserAtomic", s.updateUserAtomic},
		{"LockoutBoundUnderConcurrency", s.lockoutBound},
		{"UpdateUserObeysUpdateRules", s.updateUserRules},
		{"UpdateUserKeepsID", s.updateUserKeepsID},
		{"UpdateUserRacingUpdate", s.updateUserRacingUpdate},
		{"BlankLoginNamesCoexist", s.blankLoginNames},
		{"IDPrefixes", s.idPrefixes},
		{"EmptyEmailsCoexist", s.emptyEmails},
		{"UpdateMissing", s.updateMissing},
		{"UpdateReplacesEveryField", s.updateReplaces},
		{"UpdateFreesOldLoginNames", s.updateFrees},
		{"Delete", s.delete},
		{"List", s.list},
		{"ListDefaultLimit", s.listDefaultLimit},
		{"ListLimits", s.listLimits},
		{"ReturnedValuesIsolated", s.isolation},
		{"ConcurrentCreateSameLogin", s.concurrentCreate},
		{"ConcurrentUpdateSameLogin", s.concurrentUpdate},
		{"ConcurrentReadWrite", s.concurrentReadWrite},
		{"ContextCancelled", s.contextCancelled},
	})
}

// updater returns st as a loginkit.UserUpdater. When st is not one, it
// fails the case if the harness declared one or st has a near-miss
// UpdateUser method, and skips it otherwise.
func (s *userSuite[U]) updater(t suiteT, st loginkit.UserStore[U]) loginkit.UserUpdater[U] {
	t.Helper()
	up, ok := st.(loginkit.UserUpdater[U])
	want := fmt.Sprintf("UpdateUser(context.Context, string, func(%s) error) (%[1]s, error)", reflect.TypeFor[U]())
	if !optionalIface(t, st, ok, s.h.Updater, "loginkit.UserUpdater", "UpdateUser", want) {
		t.FailNow()
	}
	if !ok {
		t.Skip("the store does not implement loginkit.UserUpdater; the manager falls back to reload and Update")
	}
	return up
}

// allocator returns a function making a new zero U when U is a pointer to
// a struct.
func (s *userSuite[U]) allocator() (func() U, bool) {
	typ := reflect.TypeFor[U]()
	if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	return func() U { return reflect.New(typ.Elem()).Interface().(U) }, true
}

func (s *userSuite[U]) newUser() U {
	if s.h.NewUser != nil {
		return s.h.NewUser()
	}
	alloc, _ := s.allocator()
	return alloc()
}

func (s *userSuite[U]) fill(u U, seed int) {
	if s.h.Fill != nil {
		s.h.Fill(u, seed)
	}
}

// user returns a user with the given ID, email and username, zero
// Account fields otherwise, and application fields filled from seed.
func (s *userSuite[U]) user(id, email, username string, seed int) U {
	u := s.newUser()
	a := u.LoginAccount()
	a.ID, a.Email, a.Username = id, email, username
	s.fill(u, seed)
	return u
}

// full returns a user with every Account field set (variant picks one of
// two sets of values) and application fields filled from seed. Times
// carry sub-millisecond parts.
func (s *userSuite[U]) full(id, email, username string, seed, variant int) U {
	u := s.user(id, email, username, seed)
	a := u.LoginAccount()
	base := s.now.Add(-48*time.Hour + 123456789)
	if variant == 0 {
		a.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"
		a.Disabled = true
		a.SessionVersion = 1<<35 + 3
		a.CreatedAt = base
		a.UpdatedAt = base.Add(time.Hour + 1)
		a.LastLoginAt = base.Add(2 * time.Hour)
		a.FailedLogins = 3
		a.LastFailedLoginAt = base.Add(3*time.Hour + 999999)
		a.LockedUntil = s.now.Add(15 * time.Minute)
		a.ConfirmedEmail = "confirmed.address@example.com"
		a.EmailConfirmedAt = base.Add(4*time.Hour + 777777)
	} else {
		a.PasswordHash = "$2a$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV01234"
		a.Disabled = false
		a.SessionVersion = 9
		a.CreatedAt = base.Add(-time.Hour)
		a.UpdatedAt = s.now.Add(-time.Minute + 456789)
		a.LastLoginAt = s.now.Add(-time.Minute)
		a.FailedLogins = 0
		a.LastFailedLoginAt = time.Time{}
		a.LockedUntil = time.Time{}
		a.ConfirmedEmail = ""
		a.EmailConfirmedAt = time.Time{}
	}
	return u
}

func isNil(v any) bool {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return true
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return rv.IsNil()
	}
	return false
}

func (s *userSuite[U]) create(t suiteT, st loginkit.UserStore[U], us ...U) {
	t.Helper()
	for _, u := range us {
		a := u.LoginAccount()
		must(t, st.Create(background(), u), fmt.Sprintf("Create(email %q, username %q)", a.Email, a.Username), "UserStore.Create contract")
	}
}

// wantEqual fails unless got equals want (whose login keys it sets).
func (s *userSuite[U]) wantEqual(t suiteT, want, got U, op, clause string) {
	t.Helper()
	if isNil(got) {
		t.Errorf("%s: want user %q (%s), got nil", op, want.LoginAccount().ID, clause)
		return
	}
	want.LoginAccount().NormalizeKeys()
	if d := diff(want, got, s.prec); len(d) > 0 {
		t.Errorf("%s: user %q differs (%s):\n\t%s", op, want.LoginAccount().ID, clause, strings.Join(d, "\n\t"))
	}
}

// wantUser fails unless LoadUser returns a user equal to want.
func (s *userSuite[U]) wantUser(t suiteT, st loginkit.UserStore[U], want U, op, clause string) {
	t.Helper()
	id := want.LoginAccount().ID
	got, err := st.LoadUser(background(), id)
	if err != nil {
		skipUnsupported(t, "LoadUser", err)
		t.Errorf("%s: LoadUser(%q): want the user (%s), got %v", op, id, clause, err)
		return
	}
	s.wantEqual(t, want, got, op, clause)
}

// wantMissing fails unless LoadUser(id) is ErrNotFound.
func (s *userSuite[U]) wantMissing(t suiteT, st loginkit.UserStore[U], id, op, clause string) {
	t.Helper()
	got, err := st.LoadUser(background(), id)
	if errors.Is(err, loginkit.ErrNotFound) {
		return
	}
	skipUnsupported(t, "LoadUser", err)
	t.Errorf("%s: LoadUser(%q): want ErrNotFound (%s), got %s, error %v", op, id, clause, describeUser(got), err)
}

// wantLogin fails unless FindByLogin(login) returns the user with ID id.
func (s *userSuite[U]) wantLogin(t suiteT, st loginkit.UserStore[U], login, id, op, clause string) {
	t.Helper()
	got, err := st.FindByLogin(background(), login)
	if err != nil {
		skipUnsupported(t, "FindByLogin", err)
		t.Errorf("%s: FindByLogin(%q): want user %q (%s), got %v", op, login, id, clause, err)
		return
	}
	if isNil(got) || got.LoginAccount().ID != id {
		t.Errorf("%s: FindByLogin(%q): want user %q (%s), got %s", op, login, id, clause, describeUser(got))
	}
}

// wantNoLogin fails unless FindByLogin(login) is ErrNotFound.
func (s *userSuite[U]) wantNoLogin(t suiteT, st loginkit.UserStore[U], login, op, clause string) {
	t.Helper()
	got, err := st.FindByLogin(background(), login)
	if errors.Is(err, loginkit.ErrNotFound) {
		return
	}
	skipUnsupported(t, "FindByLogin", err)
	t.Errorf("%s: FindByLogin(%q): want ErrNotFound (%s), got %s, error %v", op, login, clause, describeUser(got), err)
}

func describeUser[U loginkit.AccountUser](u U) string {
	if isNil(u) {
		return "<nil>"
	}
	a := u.LoginAccount()
	return fmt.Sprintf("user {ID:%q Email:%q Username:%q}", a.ID, a.Email, a.Username)
}

func (s *userSuite[U]) total(t suiteT, st loginkit.UserStore[U]) int {
	t.Helper()
	_, n, err := st.List(background(), loginkit.ListOptions{Limit: 1})
	must(t, err, "List", "UserStore.List contract")
	return n
}

func (s *userSuite[U]) createAssignsID(t suiteT, st loginkit.UserStore[U]) {
	a := s.user("", "ann@example.com", "", 1)
	s.create(t, st, a)
	id := a.LoginAccount().ID
	if id == "" {
		t.Fatalf("Create with an empty ID: want the new ID written back into the user (UserStore.Create contract), got an empty ID")
	}
	b := s.user("", "bob@example.com", "", 2)
	s.create(t, st, b)
	if b.LoginAccount().ID == "" || b.LoginAccount().ID == id {
		t.Errorf("Create of a second user with an empty ID: want a new, different ID (UserStore.Create: an empty ID is replaced by NewID()), got %q and %q", id, b.LoginAccount().ID)
	}
	want := s.user(id, "ann@example.com", "", 1)
	s.wantUser(t, st, want, "LoadUser with the ID Create assigned", "UserStore.Create writes the assigned ID back into u")
}

func (s *userSuite[U]) createKeepsID(t suiteT, st loginkit.UserStore[U]) {
	u := s.user("given-id-1", "ann@example.com", "ann", 1)
	s.create(t, st, u)
	if id := u.LoginAccount().ID; id != "given-id-1" {
		t.Errorf("Create with an ID: want the ID kept (UserStore.Create replaces only an empty ID), got %q", id)
	}
	s.wantUser(t, st, s.user("given-id-1", "ann@example.com", "ann", 1), "LoadUser after Create with a given ID", "UserStore.Create contract")
}

func (s *userSuite[U]) createDuplicateID(t suiteT, st loginkit.UserStore[U]) {
	s.create(t, st, s.user("same-id", "ann@example.com", "ann", 1))
	err := st.Create(background(), s.user("same-id", "bob@example.com", "bob", 2))
	wantErr(t, err, loginkit.ErrDuplicate, "Create with an ID already stored", "UserStore.Create: a user with the same ID already stored is ErrDuplicate")
	s.wantUser(t, st, s.user("same-id", "ann@example.com", "ann", 1), "LoadUser after a refused Create", "UserStore.Create: a refused Create changes nothing")
	s.wantNoLogin(t, st, "bob@example.com", "FindByLogin after a refused Create", "UserStore.Create: a refused Create changes nothing")
	s.wantNoLogin(t, st, "bob", "FindByLogin after a refused Create", "UserStore.Create: a refused Create changes nothing")
	// IDs are exact: one differing from a stored ID only in case is
	// another user's.
	const exact = "UserStore: user IDs are exact and case-sensitive: an ID differing from a stored one only in case is no duplicate"
	other := s.user("SAME-ID", "carl@example.com", "carl", 3)
	if err := st.Create(background(), other); err != nil {
		skipUnsupported(t, "Create", err)
		t.Fatalf("Create with an ID differing from a stored one only in case: want no error (%s), got %v", exact, err)
	}
	s.wantUser(t, st, s.user("SAME-ID", "carl@example.com", "carl", 3), "LoadUser of an ID differing from another only in case", exact)
	s.wantUser(t, st, s.user("same-id", "ann@example.com", "ann", 1), "LoadUser of an ID differing from another only in case", exact)
}

func (s *userSuite[U]) roundTrip(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore persists the whole user struct, the application's own fields, zero values and times included"
	cases := []struct {
		name  string
		build func(id string) U
	}{
		{"every field set", func(id string) U { return s.full(id, "Ann.Lee@Example.com", "Ann_Lee", 3, 0) }},
		{"zero values", func(id string) U { return s.user(id, "zero@example.com", "", 0) }},
		{"other values", func(id string) U { return s.full(id, "", "just-a-name", 4, 1) }},
		{"unicode", func(id string) U { return s.full(id, "Zoë.Ångström@Exämple.org", "Ünïcødé名前", 5, 0) }},
	}
	for _, c := range cases {
		in := c.build("")
		s.create(t, st, in)
		id := in.LoginAccount().ID
		want := c.build(id)
		s.wantUser(t, st, want, "LoadUser after Create ("+c.name+")", clause)
		a := want.LoginAccount()
		login := a.Email
		if login == "" {
			login = a.Username
		}
		got, err := st.FindByLogin(background(), login)
		if err != nil {
			skipUnsupported(t, "FindByLogin", err)
			t.Errorf("FindByLogin(%q) after Create (%s): want the user (UserStore.FindByLogin contract), got %v", login, c.name, err)
			continue
		}
		s.wantEqual(t, want, got, "FindByLogin after Create ("+c.name+")", clause)
	}
	page, _, err := st.List(background(), loginkit.ListOptions{Limit: 100})
	must(t, err, "List", "UserStore.List contract")
	if len(page) != len(cases) {
		t.Fatalf("List after %d Creates: want %d users, got %d", len(cases), len(cases), len(page))
	}
	for _, got := range page {
		if isNil(got) {
			t.Errorf("List: want users, got a nil element")
			continue
		}
		for _, c := range cases {
			want := c.build(got.LoginAccount().ID)
			if want.LoginAccount().Email == got.LoginAccount().Email && want.LoginAccount().Username == got.LoginAccount().Username {
				s.wantEqual(t, want, got, "List after Create ("+c.name+")", clause)
			}
		}
	}
}

func (s *userSuite[U]) loadMissing(t suiteT, st loginkit.UserStore[U]) {
	s.create(t, st, s.user("", "ann@example.com", "", 1))
	s.wantMissing(t, st, "no-such-user", "LoadUser of a missing ID", "UserStore: a missing user is ErrNotFound")
	s.wantMissing(t, st, "", `LoadUser("")`, "UserStore: a missing user is ErrNotFound")
	s.wantMissing(t, st, loginkit.NewID(), "LoadUser of an unused NewID()", "UserStore: a missing user is ErrNotFound")
	// IDs and login names are apart: LoadUser matches the ID only, and
	// FindByLogin the login names only, even where an ID looks like a
	// login name.
	const apart = "UserLoader.LoadUser matches the ID only, FindByLogin the email and username only"
	carol := s.user("lookup-carol", "carol@example.com", "carol", 2)
	dave := s.user("carol", "", "dave", 3)
	s.create(t, st, carol, dave)
	for _, login := range []string{"carol@example.com", "Carol@Example.com", "dave"} {
		s.wantMissing(t, st, login, "LoadUser of a login name that is no user's ID", apart)
	}
	s.wantUser(t, st, dave, "LoadUser of an ID that is another user's username", apart)
	s.wantNoLogin(t, st, "lookup-carol", "FindByLogin of a user's ID", apart)
	s.wantLogin(t, st, "carol", "lookup-carol", "FindByLogin of a username that is another user's ID", apart)
	// IDs are exact: another case is another ID.
	for _, id := range []string{"LOOKUP-CAROL", "Lookup-Carol", "CAROL"} {
		s.wantMissing(t, st, id, "LoadUser of a stored ID in another case", "UserStore: user IDs are exact and case-sensitive")
	}
}

// sameLogin checks that variant really normalises like original, so that
// a mistake in the suite's own tables cannot pass as a store's.
func sameLogin(t suiteT, original, variant string) {
	t.Helper()
	if loginkit.NormalizeLogin(original) != loginkit.NormalizeLogin(variant) {
		t.Fatalf("conformance: internal error: %q and %q do not normalise alike", original, variant)
	}
}

var (
	annEmailVariants = []string{"ann@example.com", "ANN@example.com", "Ann@Example.COM", "  ann@example.com\t", "ＡＮＮ＠ｅｘａｍｐｌｅ．ｃｏｍ"}
	annNameVariants  = []string{"ann", "ANN", " Ann ", "ａｎｎ", "ＡＮＮ"}
)

func (s *userSuite[U]) findByLogin(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore.FindByLogin matches the email or username after NormalizeLogin"
	ann := s.user("", "Ann@Example.com", "Ann", 1)
	strasse := s.user("", "", "Straße", 2)
	other := s.user("", "other@example.com", "other", 3)
	s.create(t, st, ann, strasse, other)
	annID := ann.LoginAccount().ID
	for _, v := range annEmailVariants {
		sameLogin(t, "Ann@Example.com", v)
		s.wantLogin(t, st, v, annID, "FindByLogin by email", clause)
	}
	for _, v := range annNameVariants {
		sameLogin(t, "Ann", v)
		s.wantLogin(t, st, v, annID, "FindByLogin by username", clause)
	}
	for _, v := range []string{"Straße", "strasse", "STRASSE", "STRAẞE"} {
		sameLogin(t, "Straße", v)
		s.wantLogin(t, st, v, strasse.LoginAccount().ID, "FindByLogin by username with case folding", clause)
	}
	for _, v := range []string{"nobody@example.com", "an", "ann@example", "", "   ", "example.com"} {
		s.wantNoLogin(t, st, v, "FindByLogin of a login nobody has", "UserStore.FindByLogin: no user has it, ErrNotFound")
	}
	got, err := st.FindByLogin(background(), "ann")
	if err == nil {
		s.wantEqual(t, s.user(annID, "Ann@Example.com", "Ann", 1), got, "FindByLogin", "UserStore.FindByLogin returns the whole user")
	}
}

func (s *userSuite[U]) keysRecomputed(t suiteT, st loginkit.UserStore[U]) {
	const clause = "stores set EmailKey and UsernameKey from Email and Username on every write (Account.NormalizeKeys)"
	u := s.user("", "Ann@Example.com", "Ann", 1)
	u.LoginAccount().EmailKey, u.LoginAccount().UsernameKey = "stale-email", "stale-name"
	s.create(t, st, u)
	id := u.LoginAccount().ID
	s.wantLogin(t, st, "ann@example.com", id, "FindByLogin after Create with stale keys", clause)
	s.wantLogin(t, st, "ann", id, "FindByLogin after Create with stale keys", clause)
	s.wantNoLogin(t, st, "stale-email", "FindByLogin of the stale email key given to Create", clause)
	s.wantNoLogin(t, st, "stale-name", "FindByLogin of the stale username key given to Create", clause)

	got, err := st.LoadUser(background(), id)
	must(t, err, "LoadUser", "UserStore contract")
	// Change the names but leave the keys as they were.
	got.LoginAccount().Email, got.LoginAccount().Username = "New@Example.com", "Newname"
	must(t, st.Update(background(), got), "Update", "UserStore.Update contract")
	s.wantLogin(t, st, "new@example.com", id, "FindByLogin after Update changed the email (keys left stale)", clause)
	s.wantLogin(t, st, "newname", id, "FindByLogin after Update changed the username (keys left stale)", clause)
	s.wantNoLogin(t, st, "ann@example.com", "FindByLogin of the old email after Update (keys left stale)", clause)
	s.wantNoLogin(t, st, "ann", "FindByLogin of the old username after Update (keys left stale)", clause)
	s.create(t, st, s.user("", "ann@example.com", "ann", 2))
}

func (s *userSuite[U]) duplicateEmailOnCreate(t suiteT, st loginkit.UserStore[U]) {
	s.create(t, st, s.user("", "ann@example.com", "", 1))
	for i, v := range annEmailVariants {
		sameLogin(t, "ann@example.com", v)
		id := fmt.Sprintf("dup-email-%d", i)
		err := st.Create(background(), s.user(id, v, fmt.Sprintf("name%d", i), 2))
		wantErr(t, err, loginkit.ErrDuplicate, fmt.Sprintf("Create with email %q when %q exists", v, "ann@example.com"), "UserStore: emails are unique after NormalizeLogin")
		s.wantMissing(t, st, id, "LoadUser after a refused Create", "UserStore: a Create that returns ErrDuplicate changes nothing")
		s.wantNoLogin(t, st, fmt.Sprintf("name%d", i), "FindByLogin after a refused Create", "UserStore: a Create that returns ErrDuplicate changes nothing")
	}
	if n := s.total(t, st); n != 1 {
		t.Errorf("List total after refused Creates: want 1 (a Create that returns ErrDuplicate changes nothing), got %d", n)
	}
}

func (s *userSuite[U]) duplicateUsernameOnCreate(t suiteT, st loginkit.UserStore[U]) {
	s.create(t, st, s.user("", "", "Ann", 1), s.user("", "", "STRASSE", 1))
	variants := append(slices.Clone(annNameVariants), "Straße", "strasse")
	for i, v := range variants {
		orig := "Ann"
		if strings.Contains(strings.ToLower(v), "stra") {
			orig = "STRASSE"
		}
		sameLogin(t, orig, v)
		id := fmt.Sprintf("dup-name-%d", i)
		err := st.Create(background(), s.user(id, fmt.Sprintf("user%d@example.com", i), v, 2))
		wantErr(t, err, loginkit.ErrDuplicate, fmt.Sprintf("Create with username %q when %q exists", v, orig), "UserStore: usernames are unique after NormalizeLogin")
		s.wantMissing(t, st, id, "LoadUser after a refused Create", "UserStore: a Create that returns ErrDuplicate changes nothing")
		s.wantNoLogin(t, st, fmt.Sprintf("user%d@example.com", i), "FindByLogin after a refused Create", "UserStore: a Create that returns ErrDuplicate changes nothing")
	}
	if n := s.total(t, st); n != 2 {
		t.Errorf("List total after refused Creates: want 2 (a Create that returns ErrDuplicate changes nothing), got %d", n)
	}
}

func (s *userSuite[U]) duplicateOnUpdate(t suiteT, st loginkit.UserStore[U]) {
	ann := s.user("", "ann@example.com", "ann", 1)
	bob := s.user("", "bob@example.com", "bob", 2)
	s.create(t, st, ann, bob)
	bobID := bob.LoginAccount().ID
	for _, change := range []struct {
		field, email, username string
	}{
		{"email", " ANN@Example.com", "bob"},
		{"username", "bob@example.com", "ANN "},
		{"email and username", "Ann@example.com", "Ann"},
	} {
		u := s.user(bobID, change.email, change.username, 3)
		err := st.Update(background(), u)
		wantErr(t, err, loginkit.ErrDuplicate, fmt.Sprintf("Update giving a user another user's %s", change.field), "UserStore: Update that would duplicate an email or username is ErrDuplicate")
		s.wantUser(t, st, s.user(bobID, "bob@example.com", "bob", 2), "LoadUser after a refused Update", "UserStore: an Update that returns ErrDuplicate changes nothing")
	}
	s.wantLogin(t, st, "ann@example.com", ann.LoginAccount().ID, "FindByLogin after refused Updates", "UserStore: an Update that returns ErrDuplicate changes nothing")
	s.wantLogin(t, st, "ann", ann.LoginAccount().ID, "FindByLogin after refused Updates", "UserStore: an Update that returns ErrDuplicate changes nothing")
	s.wantLogin(t, st, "bob@example.com", bobID, "FindByLogin after refused Updates", "UserStore: an Update that returns ErrDuplicate changes nothing")
	s.wantLogin(t, st, "bob", bobID, "FindByLogin after refused Updates", "UserStore: an Update that returns ErrDuplicate changes nothing")
}

func (s *userSuite[U]) updateOwnLoginNames(t suiteT, st loginkit.UserStore[U]) {
	ann := s.user("", "ann@example.com", "ann", 1)
	s.create(t, st, ann)
	id := ann.LoginAccount().ID
	u := s.user(id, "ANN@Example.COM", "Ann", 2)
	must(t, st.Update(background(), u), "Update changing only the case of the user's own email and username", "UserStore: a user does not collide with itself")
	s.wantUser(t, st, s.user(id, "ANN@Example.COM", "Ann", 2), "LoadUser after Update", "UserStore keeps the email and username as entered")
	s.wantLogin(t, st, "ann@example.com", id, "FindByLogin after Update", "UserStore.FindByLogin contract")
	must(t, st.Update(background(), s.user(id, "ANN@Example.COM", "Ann", 3)), "Update keeping the email and username", "UserStore: a user does not collide with itself")
}

func (s *userSuite[U]) emptyUsernames(t suiteT, st loginkit.UserStore[U]) {
	s.emptyNamesCoexist(t, st, "a username", func(i int) U { return s.user("", fmt.Sprintf("user%d@example.com", i), "", i+1) })
}

// emptyNamesCoexist creates and updates 3 users made by user, each
// without one login name (what names it, with its article: "a
// username"), and checks that they coexist and that FindByLogin("")
// matches none of them.
func (s *userSuite[U]) emptyNamesCoexist(t suiteT, st loginkit.UserStore[U], what string, user func(i int) U) {
	name := what[strings.Index(what, " ")+1:]
	for i := range 3 {
		u := user(i)
		must(t, st.Create(background(), u), "Create of a user without "+what, "UserStore: "+name+"s are unique only when non-empty")
		must(t, st.Update(background(), u), "Update of a user without "+what, "UserStore: "+name+"s are unique only when non-empty")
	}
	if n := s.total(t, st); n != 3 {
		t.Errorf("List total after creating 3 users without %ss: want 3, got %d", name, n)
	}
	s.wantNoLogin(t, st, "", `FindByLogin("") with users without `+name+"s", "UserStore.FindByLogin: an empty "+name+" matches nobody")
}

func (s *userSuite[U]) usernameWithAt(t suiteT, st loginkit.UserStore[U]) {
	clause := "UserStore: a username that is not loginkit.ValidUsername is ErrInvalid and nothing is stored"
	for i, name := range []string{"ann@example.com", "ann\uff20example.com"} {
		err := st.Create(background(), s.user("", fmt.Sprintf("own%d@example.com", i), name, i+1))
		wantErr(t, err, loginkit.ErrInvalid, fmt.Sprintf("Create with username %q", name), clause)
		s.wantNoLogin(t, st, fmt.Sprintf("own%d@example.com", i), fmt.Sprintf("FindByLogin after Create with username %q", name), clause)
	}
	u := s.user("", "bob@example.com", "bob", 3)
	s.create(t, st, u)
	id := u.LoginAccount().ID
	bad := s.full(id, "bob@example.com", "bob\uff20example.com", 4, 0)
	err := st.Update(background(), bad)
	wantErr(t, err, loginkit.ErrInvalid, "Update to a username with a full-width @", clause)
	s.wantLogin(t, st, "bob", id, "FindByLogin of the old username after a refused Update", clause)
	s.wantUser(t, st, s.user(id, "bob@example.com", "bob", 3), "LoadUser after an Update refused as invalid", "UserStore: an Update refused with ErrInvalid stores nothing, on any field")
	if n := s.total(t, st); n != 1 {
		t.Errorf("List total after Creates refused as invalid: want 1 (%s), got %d", clause, n)
	}
}

func (s *userSuite[U]) emailWithoutAt(t suiteT, st loginkit.UserStore[U]) {
	clause := "UserStore: an email that is not loginkit.ValidEmail is ErrInvalid and nothing is stored"
	bob := s.user("", "bob@example.com", "bob", 1)
	s.create(t, st, bob)
	// "BOB" as an email would capture the username "bob" in FindByLogin.
	err := st.Create(background(), s.user("", "BOB", "mallory", 2))
	wantErr(t, err, loginkit.ErrInvalid, `Create with email "BOB"`, clause)
	s.wantNoLogin(t, st, "mallory", `FindByLogin after Create with email "BOB"`, clause)
	s.wantLogin(t, st, "bob", bob.LoginAccount().ID, `FindByLogin("bob") after a refused email "BOB"`, clause)
	bad := s.full(bob.LoginAccount().ID, "bob", "bob", 5, 1)
	err = st.Update(background(), bad)
	wantErr(t, err, loginkit.ErrInvalid, `Update to email "bob"`, clause)
	s.wantLogin(t, st, "bob@example.com", bob.LoginAccount().ID, "FindByLogin of the old email after a refused Update", clause)
	s.wantUser(t, st, s.user(bob.LoginAccount().ID, "bob@example.com", "bob", 1), "LoadUser after an Update refused as invalid", "UserStore: an Update refused with ErrInvalid stores nothing, on any field")
	if n := s.total(t, st); n != 1 {
		t.Errorf("List total after a Create refused as invalid: want 1 (%s), got %d", clause, n)
	}
}

// updateUserAtomic checks loginkit.UserUpdater, for stores that implement
// it.
func (s *userSuite[U]) updateUserAtomic(t suiteT, st loginkit.UserStore[U]) {
	up := s.updater(t, st)
	clause := "UserUpdater.UpdateUser: one user's changes are applied atomically, none lost"
	ann := s.user("", "ann@example.com", "ann", 1)
	bob := s.user("", "bob@example.com", "bob", 2)
	s.create(t, st, ann, bob)
	id := ann.LoginAccount().ID

	// The increments repeat for raceBudget, so that an UpdateUser made of
	// a LoadUser, the change and an Update with no pause between them is
	// caught every time: TestRaceMutantsCaughtEveryTime runs this case 10
	// times against such a store (loadChangeUpdateUsers) and requires a
	// failure in each.
	const racers, perRound = 20, 2
	total := 0
	repeatRace(func(r int) bool {
		errs := make([]error, racers)
		raceSteps(racers, perRound, func(i, _ int) {
			if _, err := up.UpdateUser(raceContext(), id, func(u U) error {
				u.LoginAccount().FailedLogins++
				return nil
			}); err != nil && errs[i] == nil {
				errs[i] = err
			}
		})
		for i, err := range errs {
			if err != nil {
				skipUnsupported(t, "UpdateUser", err)
				t.Errorf("concurrent UpdateUser %d: %v (%s)", i, err, clause)
				return false
			}
		}
		total += racers * perRound
		got, err := st.LoadUser(background(), id)
		must(t, err, "LoadUser after concurrent UpdateUser", clause)
		if n := got.LoginAccount().FailedLogins; n != total {
			t.Errorf("%d concurrent UpdateUser increments of FailedLogins (round %d): want %d in all, got %d (%s)", racers*perRound, r+1, total, n, clause)
			return false
		}
		if got.LoginAccount().Email != "ann@example.com" {
			t.Errorf("UpdateUser changed a field change did not touch: email %q (%s)", got.LoginAccount().Email, clause)
			return false
		}
		return true
	})
	if t.Failed() {
		return
	}

	refuse := errors.New("conformance: change refuses")
	_, err := up.UpdateUser(background(), id, func(u U) error {
		u.LoginAccount().SessionVersion = 99
		return refuse
	})
	wantErr(t, err, refuse, "UpdateUser whose change returns an error", "UserUpdater.UpdateUser returns change's error")
	got, err := st.LoadUser(background(), id)
	must(t, err, "LoadUser after a refused change", clause)
	if v := got.LoginAccount().SessionVersion; v == 99 {
		t.Errorf("UpdateUser stored a change that returned an error (UserUpdater.UpdateUser: nothing is stored)")
	}

	res, err := up.UpdateUser(background(), id, func(u U) error {
		u.LoginAccount().SessionVersion = 7
		return nil
	})
	must(t, err, "UpdateUser", clause)
	if any(res) == nil || res.LoginAccount().SessionVersion != 7 {
		t.Errorf("UpdateUser's result does not carry the change (UserUpdater.UpdateUser returns the user as stored)")
	}

	_, err = up.UpdateUser(background(), "no-such-user", func(u U) error { return nil })
	wantErr(t, err, loginkit.ErrNotFound, "UpdateUser of a missing user", "UserUpdater.UpdateUser: a missing user is ErrNotFound")

	_, err = up.UpdateUser(background(), id, func(u U) error {
		u.LoginAccount().Email = "BOB@example.com"
		return nil
	})
	wantErr(t, err, loginkit.ErrDuplicate, "UpdateUser to another user's email", "UserUpdater.UpdateUser obeys Update's uniqueness rules")
	s.wantLogin(t, st, "bob@example.com", bob.LoginAccount().ID, "FindByLogin after a refused UpdateUser", clause)
}

func (s *userSuite[U]) emptyEmails(t suiteT, st loginkit.UserStore[U]) {
	s.emptyNamesCoexist(t, st, "an email", func(i int) U { return s.user("", "", fmt.Sprintf("user%d", i), i+1) })
}

func (s *userSuite[U]) updateMissing(t suiteT, st loginkit.UserStore[U]) {
	s.create(t, st, s.user("", "ann@example.com", "", 1))
	err := st.Update(background(), s.user("missing-id", "ghost@example.com", "ghost", 2))
	wantErr(t, err, loginkit.ErrNotFound, "Update of a missing user", "UserStore: a missing user is ErrNotFound")
	s.wantMissing(t, st, "missing-id", "LoadUser after Update of a missing user", "UserStore.Update does not create")
	s.wantNoLogin(t, st, "ghost@example.com", "FindByLogin after Update of a missing user", "UserStore.Update does not create")
	err = st.Update(background(), s.user("", "nobody@example.com", "", 3))
	wantErr(t, err, loginkit.ErrNotFound, "Update of a user with an empty ID", "UserStore: a missing user is ErrNotFound; Update does not create")
	s.wantNoLogin(t, st, "nobody@example.com", "FindByLogin after Update of a user with an empty ID", "UserStore.Update does not create")
	if up, ok := st.(loginkit.UserUpdater[U]); ok {
		_, err = up.UpdateUser(background(), "", func(U) error { return nil })
		wantErr(t, err, loginkit.ErrNotFound, `UpdateUser("")`, "UserUpdater.UpdateUser: a missing user is ErrNotFound")
	}
}

func (s *userSuite[U]) updateReplaces(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore.Update replaces every field of the stored user, the application's own included"
	u := s.full("", "ann@example.com", "ann", 1, 0)
	s.create(t, st, u)
	id := u.LoginAccount().ID
	steps := []struct {
		name  string
		build func() U
	}{
		{"other values", func() U { return s.full(id, "anna@example.org", "anna", 2, 1) }},
		{"zero values", func() U { return s.user(id, "zero@example.com", "", 0) }},
		{"every field set again", func() U { return s.full(id, "Ann@Example.com", "Ann", 6, 0) }},
	}
	for _, step := range steps {
		must(t, st.Update(background(), step.build()), "Update ("+step.name+")", clause)
		s.wantUser(t, st, step.build(), "LoadUser after Update ("+step.name+")", clause)
	}
}

func (s *userSuite[U]) updateFrees(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore: an email or username given up by Update is free for others"
	ann := s.user("", "ann@example.com", "ann", 1)
	s.create(t, st, ann)
	annID := ann.LoginAccount().ID
	must(t, st.Update(background(), s.user(annID, "anne@example.com", "", 1)), "Update changing the email and clearing the username", "UserStore.Update contract")
	s.wantNoLogin(t, st, "ann@example.com", "FindByLogin of the old email after Update", clause)
	s.wantNoLogin(t, st, "ann", "FindByLogin of the cleared username after Update", clause)
	s.wantLogin(t, st, "anne@example.com", annID, "FindByLogin of the new email after Update", "UserStore.FindByLogin contract")
	other := s.user("", "ANN@example.com", "Ann", 2)
	must(t, st.Create(background(), other), "Create with the email and username another user gave up", clause)
	s.wantLogin(t, st, "ann@example.com", other.LoginAccount().ID, "FindByLogin of a reused email", clause)
	s.wantLogin(t, st, "ann", other.LoginAccount().ID, "FindByLogin of a reused username", clause)
}

func (s *userSuite[U]) delete(t suiteT, st loginkit.UserStore[U]) {
	ann := s.user("", "ann@example.com", "ann", 1)
	bob := s.user("", "bob@example.com", "bob", 2)
	s.create(t, st, ann, bob)
	annID := ann.LoginAccount().ID
	must(t, st.Delete(background(), annID), "Delete", "UserStore.Delete contract")
	s.wantMissing(t, st, annID, "LoadUser after Delete", "UserStore.Delete removes the user")
	s.wantNoLogin(t, st, "ann@example.com", "FindByLogin by email after Delete", "UserStore.Delete removes the user")
	s.wantNoLogin(t, st, "ann", "FindByLogin by username after Delete", "UserStore.Delete removes the user")
	must(t, st.Delete(background(), annID), "Delete of an already deleted user", "UserStore.Delete: deleting a missing user is not an error")
	must(t, st.Delete(background(), "never-existed"), "Delete of a missing user", "UserStore.Delete: deleting a missing user is not an error")
	s.wantUser(t, st, s.user(bob.LoginAccount().ID, "bob@example.com", "bob", 2), "LoadUser of another user after Delete", "UserStore.Delete removes one user")
	if n := s.total(t, st); n != 1 {
		t.Errorf("List total after Delete: want 1 (UserStore.Delete removes the user), got %d", n)
	}
	err := st.Update(background(), s.user(annID, "ann@example.com", "ann", 3))
	wantErr(t, err, loginkit.ErrNotFound, "Update after Delete", "UserStore: a missing user is ErrNotFound")
	again := s.user("", "Ann@Example.com", "ANN", 3)
	must(t, st.Create(background(), again), "Create with a deleted user's email and username", "UserStore.Delete frees the email and username")
	s.wantLogin(t, st, "ann@example.com", again.LoginAccount().ID, "FindByLogin after reusing a deleted user's email", "UserStore.Delete frees the email")
}

func userIDs[U loginkit.AccountUser](us []U) []string {
	out := make([]string, len(us))
	for i, u := range us {
		if isNil(u) {
			out[i] = "<nil>"
			continue
		}
		out[i] = u.LoginAccount().ID
	}
	return out
}

func (s *userSuite[U]) list(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore.List: ordered by CreatedAt, then ID, both ascending"
	empty, total, err := st.List(background(), loginkit.ListOptions{})
	must(t, err, "List of an empty store", "UserStore.List contract")
	if len(empty) != 0 || total != 0 {
		t.Errorf("List of an empty store: want no users and total 0, got %d users and total %d", len(empty), total)
	}
	base := s.now.Add(-24 * time.Hour).Truncate(time.Second)
	seed := []struct {
		id    string
		hours int
	}{{"list-c", 0}, {"list-a", 2}, {"list-b", 2}, {"list-e", 4}, {"list-d", 1}, {"list-g", 3}, {"list-f", 3}}
	for i, x := range seed {
		u := s.user(x.id, x.id+"@example.com", "", i+1)
		u.LoginAccount().CreatedAt = base.Add(time.Duration(x.hours) * time.Hour)
		// UpdatedAt falls as CreatedAt rises: only CreatedAt gives the order.
		u.LoginAccount().UpdatedAt = s.now.Add(-time.Duration(x.hours) * time.Minute)
		s.create(t, st, u)
	}
	want := []string{"list-c", "list-d", "list-a", "list-b", "list-f", "list-g", "list-e"}
	var got []string
	for off := 0; off < len(want); off += 3 {
		page, total, err := st.List(background(), loginkit.ListOptions{Offset: off, Limit: 3})
		must(t, err, "List", "UserStore.List contract")
		if total != len(want) {
			t.Errorf("List{Offset:%d, Limit:3}: want total %d (UserStore.List reports the total number of users), got %d", off, len(want), total)
		}
		if wantLen := min(3, len(want)-off); len(page) != wantLen {
			t.Errorf("List{Offset:%d, Limit:3}: want %d users (UserStore.List returns at most Limit users from Offset), got %d", off, wantLen, len(page))
		}
		got = append(got, userIDs(page)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("List pages of 3: want %v (%s), got %v", want, clause, got)
	}
	all, _, err := st.List(background(), loginkit.ListOptions{Limit: 100})
	must(t, err, "List", "UserStore.List contract")
	if ids := userIDs(all); !slices.Equal(ids, want) {
		t.Errorf("List{Limit:100}: want %v (%s), got %v", want, clause, ids)
	}
	past, total, err := st.List(background(), loginkit.ListOptions{Offset: len(want), Limit: 3})
	must(t, err, "List past the end", "UserStore.List contract")
	if len(past) != 0 || total != len(want) {
		t.Errorf("List{Offset:%d}: want no users and total %d, got %d users and total %d", len(want), len(want), len(past), total)
	}
}

func (s *userSuite[U]) listDefaultLimit(t suiteT, st loginkit.UserStore[U]) {
	const n = 51
	base := s.now.Add(-time.Hour).Truncate(time.Second)
	for i := range n {
		u := s.user(fmt.Sprintf("many-%02d", i), fmt.Sprintf("many%02d@example.com", i), "", 0)
		u.LoginAccount().CreatedAt = base.Add(time.Duration(i) * time.Second)
		s.create(t, st, u)
	}
	page, total, err := st.List(background(), loginkit.ListOptions{})
	must(t, err, "List", "UserStore.List contract")
	if len(page) != 50 || total != n {
		t.Errorf("List{} with %d users: want 50 users (ListOptions: Limit 0 means a default of 50) and total %d, got %d users and total %d", n, n, len(page), total)
	}
	rest, _, err := st.List(background(), loginkit.ListOptions{Offset: 50})
	must(t, err, "List", "UserStore.List contract")
	if ids := userIDs(rest); !slices.Equal(ids, []string{"many-50"}) {
		t.Errorf("List{Offset:50}: want [many-50] (UserStore.List: ordered by CreatedAt), got %v", ids)
	}
}

func (s *userSuite[U]) isolation(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore: returned values are never shared with the store"
	in := s.full("", "ann@example.com", "ann", 2, 0)
	s.create(t, st, in)
	id := in.LoginAccount().ID
	want := func() U { return s.full(id, "ann@example.com", "ann", 2, 0) }
	mutate := func(u U) {
		a := u.LoginAccount()
		a.Email, a.Username, a.PasswordHash = "changed@example.com", "changed", "changed"
		a.Disabled = !a.Disabled
		a.SessionVersion++
		a.LockedUntil = time.Time{}
		s.fill(u, 9)
	}
	mutate(in)
	s.wantUser(t, st, want(), "LoadUser after the caller modified the user it created", "UserStore.Create stores a copy: a caller's later changes do not reach the store")
	s.wantNoLogin(t, st, "changed@example.com", "FindByLogin after the caller modified the user it created", "UserStore.Create stores a copy")

	got, err := st.LoadUser(background(), id)
	must(t, err, "LoadUser", "UserStore contract")
	mutate(got)
	s.wantUser(t, st, want(), "LoadUser after the caller modified a user LoadUser returned", clause)

	got, err = st.FindByLogin(background(), "ann")
	must(t, err, "FindByLogin", "UserStore.FindByLogin contract")
	mutate(got)
	s.wantUser(t, st, want(), "LoadUser after the caller modified a user FindByLogin returned", clause)

	page, _, err := st.List(background(), loginkit.ListOptions{})
	must(t, err, "List", "UserStore.List contract")
	for _, u := range page {
		mutate(u)
	}
	s.wantUser(t, st, want(), "LoadUser after the caller modified users List returned", clause)

	up := want()
	must(t, st.Update(background(), up), "Update", "UserStore.Update contract")
	mutate(up)
	s.wantUser(t, st, want(), "LoadUser after the caller modified the user it updated", "UserStore.Update stores a copy: a caller's later changes do not reach the store")

	if updater, ok := st.(loginkit.UserUpdater[U]); ok {
		var arg U
		res, err := updater.UpdateUser(background(), id, func(u U) error {
			arg = u
			return nil
		})
		must(t, err, "UpdateUser", "UserUpdater.UpdateUser contract")
		if !isNil(res) {
			mutate(res)
		}
		s.wantUser(t, st, want(), "LoadUser after the caller modified the user UpdateUser returned", "UserUpdater.UpdateUser returns a copy of the user as stored: a caller's later changes do not reach the store")
		if !isNil(arg) {
			mutate(arg)
		}
		s.wantUser(t, st, want(), "LoadUser after the caller modified the user UpdateUser passed to change", "UserUpdater.UpdateUser stores a copy: a change function's later writes do not reach the store")
	}
}

// concurrentCreate races 20 creators of one email, one username and one
// ID, round after round for raceBudget, so that a store that checks for a
// taken name and then writes, with no pause between, is caught every
// time: TestRaceMutantsCaughtEveryTime runs this case 10 times against
// such a store (mapUsers with racy set) and requires a failure in each.
func (s *userSuite[U]) concurrentCreate(t suiteT, st loginkit.UserStore[U]) {
	// Each race has a few names per round; every racer goes through them
	// in the same order, all starting on each name together.
	const racers, perRound = 20, 3
	winners := 0
	race := func(r int, what string, user func(k, i int) U) bool {
		t.Helper()
		errs := make([][perRound]error, racers)
		raceSteps(racers, perRound, func(i, k int) {
			errs[i][k] = st.Create(raceContext(), user(k, i))
		})
		for k := range perRound {
			wins := 0
			for i := range racers {
				switch err := errs[i][k]; {
				case err == nil:
					wins++
				case errors.Is(err, loginkit.ErrDuplicate):
				default:
					skipUnsupported(t, "Create", err)
					t.Errorf("concurrent Create with the same %s: want nil or ErrDuplicate (UserStore.Create contract), got %v", what, err)
					return false
				}
			}
			winners += wins
			if wins != 1 {
				t.Errorf("%d concurrent Creates with the same %s (round %d): want exactly 1 success (UserStore: uniqueness holds under concurrent creates), got %d", racers, what, r+1, wins)
				return false
			}
		}
		return true
	}
	repeatRace(func(r int) bool {
		return race(r, "email", func(k, i int) U {
			email := fmt.Sprintf("race%d-%d@example.com", r, k)
			if i%2 == 1 {
				email = fmt.Sprintf("RACE%d-%d@Example.com", r, k)
			}
			return s.user("", email, fmt.Sprintf("racer%d-%d-%d", r, k, i), 1)
		}) && race(r, "username", func(k, i int) U {
			name := fmt.Sprintf("racer%d-%d", r, k)
			if i%2 == 1 {
				name = fmt.Sprintf(" RACER%d-%d", r, k)
			}
			return s.user("", fmt.Sprintf("racer%d-%d-%d@example.com", r, k, i), name, 1)
		}) && race(r, "ID", func(k, i int) U {
			return s.user(fmt.Sprintf("race-id-%d-%d", r, k), fmt.Sprintf("id-racer%d-%d-%d@example.com", r, k, i), "", 1)
		})
	})
	if t.Failed() {
		return
	}
	if n := s.total(t, st); n != winners {
		t.Errorf("List total after the races: want %d users (one winner each), got %d", winners, n)
	}
}

func (s *userSuite[U]) concurrentReadWrite(t suiteT, st loginkit.UserStore[U]) {
	const workers, rounds = 6, 15
	ids := make([]string, workers)
	for w := range workers {
		u := s.user("", fmt.Sprintf("worker%d@example.com", w), fmt.Sprintf("worker%d", w), w+1)
		s.create(t, st, u)
		ids[w] = u.LoginAccount().ID
	}
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ctx := background()
			other := ids[(w+1)%workers]
			for i := range rounds {
				u := s.user(ids[w], fmt.Sprintf("worker%d@example.com", w), fmt.Sprintf("worker%d", w), 1+(w+i)%5)
				u.LoginAccount().SessionVersion = int64(i)
				if err := st.Update(ctx, u); err != nil {
					report("Update(%q): %v", ids[w], err)
				}
				got, err := st.LoadUser(ctx, other)
				if err != nil || isNil(got) || got.LoginAccount().ID != other {
					report("LoadUser(%q): %s, %v", other, describeUser(got), err)
				}
				login := fmt.Sprintf("WORKER%d", (w+2)%workers)
				if got, err := st.FindByLogin(ctx, login); err != nil || isNil(got) || got.LoginAccount().ID != ids[(w+2)%workers] {
					report("FindByLogin(%q): %s, %v", login, describeUser(got), err)
				}
				if _, _, err := st.List(ctx, loginkit.ListOptions{}); err != nil {
					report("List: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for _, p := range problems {
		t.Errorf("concurrent Update/LoadUser/FindByLogin/List: %s (UserStore: safe for concurrent use)", p)
	}
}

func (s *userSuite[U]) contextCancelled(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore honours ctx"
	keep := s.user("", "ann@example.com", "ann", 1)
	s.create(t, st, keep)
	id := keep.LoginAccount().ID
	ctx := cancelled()
	err := st.Create(ctx, s.user("ctx-new", "new@example.com", "", 2))
	wantCanceled(t, err, "Create with a cancelled context", clause)
	s.wantMissing(t, st, "ctx-new", "LoadUser after Create with a cancelled context", clause+": a cancelled Create stores nothing")
	_, err = st.LoadUser(ctx, id)
	wantCanceled(t, err, "LoadUser with a cancelled context", clause)
	_, err = st.FindByLogin(ctx, "ann")
	wantCanceled(t, err, "FindByLogin with a cancelled context", clause)
	err = st.Update(ctx, s.user(id, "changed@example.com", "changed", 3))
	wantCanceled(t, err, "Update with a cancelled context", clause)
	err = st.Delete(ctx, id)
	wantCanceled(t, err, "Delete with a cancelled context", clause)
	_, _, err = st.List(ctx, loginkit.ListOptions{})
	wantCanceled(t, err, "List with a cancelled context", clause)
	if up, ok := st.(loginkit.UserUpdater[U]); ok {
		_, err = up.UpdateUser(ctx, id, func(u U) error {
			u.LoginAccount().Email = "changed@example.com"
			s.fill(u, 9)
			return nil
		})
		wantCanceled(t, err, "UpdateUser with a cancelled context", clause)
	}
	s.wantUser(t, st, s.user(id, "ann@example.com", "ann", 1), "LoadUser after Update, Delete and UpdateUser with a cancelled context", clause+": a cancelled call changes nothing")
}

// updateUserRules checks that UpdateUser obeys every rule Update obeys,
// and that a refused change writes nothing, on any field.
func (s *userSuite[U]) updateUserRules(t suiteT, st loginkit.UserStore[U]) {
	up := s.updater(t, st)
	ann := s.full("", "ann@example.com", "ann", 1, 0)
	bob := s.user("", "bob@example.com", "bob", 2)
	s.create(t, st, ann, bob)
	id := ann.LoginAccount().ID
	stored := func() U { return s.full(id, "ann@example.com", "ann", 1, 0) }
	// Every refused change also changes every other field it can reach.
	other := func(u U) {
		a := u.LoginAccount()
		a.PasswordHash, a.Disabled, a.SessionVersion, a.FailedLogins = "changed", !a.Disabled, a.SessionVersion+1, a.FailedLogins+5
		a.LastLoginAt, a.LockedUntil = time.Time{}, s.now.Add(time.Hour)
		s.fill(u, 7)
	}
	refuse := errors.New("conformance: change refuses")
	for _, c := range []struct {
		name   string
		change func(a *loginkit.Account)
		err    error
		target error
		clause string
	}{
		{"a username with '@'", func(a *loginkit.Account) { a.Username = "ann@example.org" }, nil, loginkit.ErrInvalid, "UserUpdater.UpdateUser obeys Update's rules: a username that is not ValidUsername is ErrInvalid"},
		{"a username with a full-width @", func(a *loginkit.Account) { a.Username = "ann\uff20x" }, nil, loginkit.ErrInvalid, "UserUpdater.UpdateUser obeys Update's rules: a username that is not ValidUsername is ErrInvalid"},
		{"an email without '@'", func(a *loginkit.Account) { a.Email = "BOB" }, nil, loginkit.ErrInvalid, "UserUpdater.UpdateUser obeys Update's rules: an email that is not ValidEmail is ErrInvalid"},
		{"another user's email", func(a *loginkit.Account) { a.Email = " BOB@Example.com" }, nil, loginkit.ErrDuplicate, "UserUpdater.UpdateUser obeys Update's rules: another user's email is ErrDuplicate"},
		{"another user's username", func(a *loginkit.Account) { a.Username = "ＢＯＢ" }, nil, loginkit.ErrDuplicate, "UserUpdater.UpdateUser obeys Update's rules: another user's username is ErrDuplicate"},
		{"an error from change", func(a *loginkit.Account) { a.Email = "ann2@example.com" }, refuse, refuse, "UserUpdater.UpdateUser returns change's error"},
	} {
		_, err := up.UpdateUser(background(), id, func(u U) error {
			c.change(u.LoginAccount())
			other(u)
			return c.err
		})
		wantErr(t, err, c.target, "UpdateUser giving "+c.name, c.clause)
		s.wantUser(t, st, stored(), "LoadUser after UpdateUser giving "+c.name+" was refused", "UserUpdater.UpdateUser: a refused change stores nothing, on any field")
	}
	s.wantLogin(t, st, "bob", bob.LoginAccount().ID, "FindByLogin after refused UpdateUsers", "UserUpdater.UpdateUser: a refused change stores nothing")
	s.wantNoLogin(t, st, "ann2@example.com", "FindByLogin after refused UpdateUsers", "UserUpdater.UpdateUser: a refused change stores nothing")
	s.wantNoLogin(t, st, "ann@example.org", "FindByLogin after refused UpdateUsers", "UserUpdater.UpdateUser: a refused change stores nothing")
	// A change to the user's own names in another case is no duplicate.
	res, err := up.UpdateUser(background(), id, func(u U) error {
		u.LoginAccount().Email, u.LoginAccount().Username = "ANN@example.com", "Ann"
		return nil
	})
	must(t, err, "UpdateUser changing the case of the user's own names", "UserUpdater.UpdateUser: a user does not collide with itself")
	if !isNil(res) && (res.LoginAccount().Email != "ANN@example.com" || res.LoginAccount().EmailKey != "ann@example.com") {
		t.Errorf("UpdateUser's result: want Email %q with EmailKey %q (UserUpdater.UpdateUser returns the user as stored, keys recomputed), got %q and %q", "ANN@example.com", "ann@example.com", res.LoginAccount().Email, res.LoginAccount().EmailKey)
	}
	// A change of names moves them: the new ones find the user, the old
	// ones are free for others.
	_, err = up.UpdateUser(background(), id, func(u U) error {
		u.LoginAccount().Email, u.LoginAccount().Username = "Ann.New@example.com", ""
		return nil
	})
	must(t, err, "UpdateUser changing the email and clearing the username", "UserUpdater.UpdateUser contract")
	const moved = "UserUpdater.UpdateUser: names it changes are moved as by Update"
	s.wantLogin(t, st, "ann.new@example.com", id, "FindByLogin of the email UpdateUser gave", moved)
	s.wantNoLogin(t, st, "ann@example.com", "FindByLogin of the email UpdateUser replaced", moved)
	s.wantNoLogin(t, st, "ann", "FindByLogin of the username UpdateUser cleared", moved)
	again := s.user("", "ann@example.com", "Ann", 4)
	must(t, st.Create(background(), again), "Create with the names UpdateUser freed", moved)
}

// updateUserRacingUpdate races UpdateUser increments against a sequence
// of plain Updates of the same user, each setting SessionVersion one
// higher: UpdateUser writes nothing in between its load and its store, so
// the last Update's SessionVersion must survive. A store whose UpdateUser
// is atomic only against other UpdateUser calls (a lock Update ignores)
// writes back a stale SessionVersion; TestRaceMutantsCaughtEveryTime runs
// this case 10 times against such a store (privateLockUsers) and requires
// a failure in each.
func (s *userSuite[U]) updateUserRacingUpdate(t suiteT, st loginkit.UserStore[U]) {
	up := s.updater(t, st)
	const clause = "UserUpdater.UpdateUser: no other write to the user comes between its load and its store, a plain Update included"
	ann := s.user("", "ann@example.com", "ann", 1)
	s.create(t, st, ann)
	id := ann.LoginAccount().ID
	// One Update per round, checked at the end of the round: a stale
	// write after the round's Update shows.
	const updaters, steps = 6, 1
	version := int64(0)
	repeatRace(func(r int) bool {
		var mu sync.Mutex
		var problems []string
		raceSteps(updaters+1, steps, func(g, k int) {
			var err error
			if g == 0 {
				v := version + int64(k) + 1
				u := s.user(id, "ann@example.com", "ann", 1)
				u.LoginAccount().SessionVersion = v
				err = st.Update(raceContext(), u)
			} else {
				_, err = up.UpdateUser(raceContext(), id, func(u U) error {
					u.LoginAccount().FailedLogins++
					return nil
				})
			}
			if err != nil {
				mu.Lock()
				problems = append(problems, err.Error())
				mu.Unlock()
			}
		})
		version += steps
		for _, p := range problems[:min(len(problems), 3)] {
			skipUnsupported(t, "UpdateUser", errors.New(p))
			t.Errorf("Update or UpdateUser racing each other: want no error (%s), got %s", clause, p)
		}
		got, err := st.LoadUser(background(), id)
		must(t, err, "LoadUser", "UserStore contract")
		if v := got.LoginAccount().SessionVersion; v != version {
			t.Errorf("SessionVersion after UpdateUser raced %d Updates (round %d): want %d, the last Update's, got %d (%s)", steps, r+1, version, v, clause)
			return false
		}
		return len(problems) == 0
	})
}

// updateUserKeepsID checks that a change altering the user's ID is
// ErrInvalid and stores nothing: neither the user under its ID nor a
// user under the new one.
func (s *userSuite[U]) updateUserKeepsID(t suiteT, st loginkit.UserStore[U]) {
	up := s.updater(t, st)
	const clause = "UserUpdater.UpdateUser: a change that alters the user's ID is ErrInvalid and stores nothing"
	ann := s.user("", "ann@example.com", "ann", 1)
	s.create(t, st, ann)
	id := ann.LoginAccount().ID
	for _, newID := range []string{id + "-moved", ""} {
		_, err := up.UpdateUser(background(), id, func(u U) error {
			u.LoginAccount().ID = newID
			u.LoginAccount().Email = "moved@example.com"
			s.fill(u, 5)
			return nil
		})
		wantErr(t, err, loginkit.ErrInvalid, fmt.Sprintf("UpdateUser whose change sets the ID to %q", newID), clause)
		s.wantUser(t, st, s.user(id, "ann@example.com", "ann", 1), "LoadUser after UpdateUser tried to change the ID", clause)
		if newID != "" {
			s.wantMissing(t, st, newID, "LoadUser of the ID a refused change gave", clause)
		}
		s.wantNoLogin(t, st, "moved@example.com", "FindByLogin after UpdateUser tried to change the ID", clause)
	}
	if n := s.total(t, st); n != 1 {
		t.Errorf("List total after refused ID changes: want 1 (%s), got %d", clause, n)
	}
}

// concurrentUpdate races Updates that give 20 users one free email (and
// then one free username): exactly one may get it. The rounds repeat for
// raceBudget, so that a store that checks for a taken name and then
// writes, with no pause between, is caught every time:
// TestRaceMutantsCaughtEveryTime runs this case 10 times against such a
// store (mapUsers with racy set) and requires a failure in each.
func (s *userSuite[U]) concurrentUpdate(t suiteT, st loginkit.UserStore[U]) {
	// Racer i owns one user per step k; at step k of a round every racer
	// gives its user the same free name, all racers starting each step
	// together. No user is written twice in a round, so no name is
	// freed again within it: each must have exactly one winner.
	const racers, steps = 20, 2
	ids := make([][racers]string, steps)
	for k := range steps {
		for i := range racers {
			u := s.user("", fmt.Sprintf("updater%d-%d@example.com", k, i), fmt.Sprintf("updater%d-%d", k, i), i+1)
			s.create(t, st, u)
			ids[k][i] = u.LoginAccount().ID
		}
	}
	race := func(r int, what string, user func(k, i int) U, login func(k int) string) bool {
		errs := make([][steps]error, racers)
		raceSteps(racers, steps, func(i, k int) {
			errs[i][k] = st.Update(raceContext(), user(k, i))
		})
		for k := range steps {
			wins, winner := 0, ""
			for i := range racers {
				switch err := errs[i][k]; {
				case err == nil:
					wins++
					winner = ids[k][i]
				case errors.Is(err, loginkit.ErrDuplicate):
				default:
					skipUnsupported(t, "Update", err)
					t.Errorf("concurrent Update to the same free %s: want nil or ErrDuplicate (UserStore.Update contract), got %v", what, err)
					return false
				}
			}
			if wins != 1 {
				t.Errorf("%d concurrent Updates to the same free %s %q (round %d): want exactly 1 success (UserStore: uniqueness holds under concurrent updates), got %d", racers, what, login(k), r+1, wins)
				return false
			}
			got, err := st.FindByLogin(background(), login(k))
			if err != nil || isNil(got) || got.LoginAccount().ID != winner {
				skipUnsupported(t, "FindByLogin", err)
				t.Errorf("FindByLogin(%q) after concurrent Updates: want the winner %q (UserStore: a refused Update changes nothing), got %s, %v", login(k), winner, describeUser(got), err)
				return false
			}
		}
		return true
	}
	repeatRace(func(r int) bool {
		email := func(k int) string { return fmt.Sprintf("free%d-%d@example.com", r, k) }
		name := func(k int) string { return fmt.Sprintf("free%d-%d", r, k) }
		return race(r, "email", func(k, i int) U {
			return s.user(ids[k][i], email(k), fmt.Sprintf("updater%d-%d-%d", r, k, i), i+1)
		}, email) && race(r, "username", func(k, i int) U {
			return s.user(ids[k][i], fmt.Sprintf("updater%d-%d-%d@example.com", r, k, i), name(k), i+1)
		}, name)
	})
}

// blankLoginNames checks that login names made only of white space count
// as absent: any number of users may have them, and no login finds them.
func (s *userSuite[U]) blankLoginNames(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore: a login name that normalises to empty is no name: unique only when non-empty after NormalizeLogin"
	var ids []string
	for i, name := range []string{" ", "\t", "  \u3000 "} {
		u := s.user("", fmt.Sprintf("blank%d@example.com", i), name, i+1)
		must(t, st.Create(background(), u), fmt.Sprintf("Create with username %q", name), clause)
		ids = append(ids, u.LoginAccount().ID)
	}
	for i, email := range []string{" ", "\t\n"} {
		u := s.user("", email, fmt.Sprintf("blankmail%d", i), i+1)
		must(t, st.Create(background(), u), fmt.Sprintf("Create with email %q", email), clause)
		must(t, st.Update(background(), u), fmt.Sprintf("Update keeping email %q", email), clause)
		ids = append(ids, u.LoginAccount().ID)
	}
	for _, login := range []string{"", " ", "\t", "\u3000"} {
		s.wantNoLogin(t, st, login, "FindByLogin of a blank login", clause)
	}
	if n := s.total(t, st); n != len(ids) {
		t.Errorf("List total after creating %d users with blank names: want %d (%s), got %d", len(ids), len(ids), clause, n)
	}
}

// idPrefixes checks that users whose IDs and names begin with another's
// are told apart.
func (s *userSuite[U]) idPrefixes(t suiteT, st loginkit.UserStore[U]) {
	const clause = "UserStore: users are matched by exact ID and login name, not by prefix"
	one := s.user("user-1", "ann@example.com", "ann", 1)
	ten := s.user("user-10", "ann@example.co", "anna", 2)
	hundred := s.user("user-100", "nn@example.com", "an", 3)
	s.create(t, st, one, ten, hundred)
	s.wantUser(t, st, s.user("user-10", "ann@example.co", "anna", 2), "LoadUser(user-10) beside user-1", clause)
	s.wantLogin(t, st, "ann", "user-1", "FindByLogin(ann) beside anna and an", clause)
	s.wantLogin(t, st, "an", "user-100", "FindByLogin(an) beside ann and anna", clause)
	s.wantLogin(t, st, "ann@example.co", "user-10", "FindByLogin(ann@example.co) beside ann@example.com", clause)
	s.wantLogin(t, st, "nn@example.com", "user-100", "FindByLogin(nn@example.com) beside ann@example.com", clause)
	s.wantNoLogin(t, st, "a", "FindByLogin of a prefix of every name", clause)
	must(t, st.Delete(background(), "user-1"), "Delete", "UserStore.Delete contract")
	s.wantUser(t, st, s.user("user-10", "ann@example.co", "anna", 2), "LoadUser(user-10) after Delete(user-1)", clause)
	s.wantUser(t, st, s.user("user-100", "nn@example.com", "an", 3), "LoadUser(user-100) after Delete(user-1)", clause)
	s.wantMissing(t, st, "user-1", "LoadUser(user-1) after Delete(user-1)", clause)
	err := st.Update(background(), s.user("user-1", "ann@example.com", "ann", 4))
	wantErr(t, err, loginkit.ErrNotFound, "Update(user-1) after its Delete, beside user-10", clause)
}

// listLimits checks that every Limit up to the documented cap of 1000 is
// honoured exactly.
func (s *userSuite[U]) listLimits(t suiteT, st loginkit.UserStore[U]) {
	const n = 1001
	const clause = "ListOptions: Limit values up to 1000 are honoured exactly"
	base := s.now.Add(-2 * time.Hour).Truncate(time.Second)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				u := s.user(fmt.Sprintf("lim-%04d", i), fmt.Sprintf("lim%04d@example.com", i), "", 0)
				u.LoginAccount().CreatedAt = base.Add(time.Duration(i) * time.Second)
				if err := st.Create(background(), u); err != nil && errs[w] == nil {
					errs[w] = err
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err, "Create", "UserStore.Create contract")
	}
	for _, c := range []struct{ offset, limit, want int }{
		{0, 1000, 1000}, {0, 999, 999}, {0, 51, 51}, {0, 1, 1}, {1, 1000, 1000}, {1000, 1000, 1}, {500, 700, 501}, {0, 200, 200},
	} {
		page, total, err := st.List(background(), loginkit.ListOptions{Offset: c.offset, Limit: c.limit})
		must(t, err, "List", "UserStore.List contract")
		if len(page) != c.want || total != n {
			t.Errorf("List{Offset:%d, Limit:%d} of %d users: want %d users and total %d (%s), got %d users and total %d", c.offset, c.limit, n, c.want, n, clause, len(page), total)
			continue
		}
		if first := fmt.Sprintf("lim-%04d", c.offset); userIDs(page)[0] != first {
			t.Errorf("List{Offset:%d, Limit:%d}: want the page to begin with %s (UserStore.List: ordered by CreatedAt), got %s", c.offset, c.limit, first, userIDs(page)[0])
		}
	}
}
