package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/loginkit/loginkit"
	"github.com/loginkit/loginkit/internal/storekit"
)

// Users is an in-memory loginkit.UserStore[PT] for an application's user
// type T, of which PT is the pointer type (*T, which must be a
// loginkit.AccountUser: T embeds loginkit.Account). Create it with
// NewUsers; the zero value is not usable.
//
// Users are copied on the way in and on the way out. The copy is a plain
// struct copy, which is a full copy for Account and for application fields
// of value types (strings, numbers, bools, times, arrays, nested structs
// of those). Application fields holding pointers, maps or slices would be
// shared between the copies; a user type with such fields should have a
// method Clone() PT returning a deep copy, which Users then uses instead.
//
// LoadUser and FindByLogin cost one or two map accesses and the copy.
// List sorts all users on each call, which suits admin pages.
type Users[T any, PT interface {
	*T
	loginkit.AccountUser
}] struct {
	mu      sync.RWMutex
	byID    map[string]PT
	byEmail map[string]string // EmailKey → ID
	byName  map[string]string // UsernameKey → ID
	// deep records that PT implements cloner, decided once: a type
	// assertion in generic code looks the method table up on every call,
	// and clone runs on every user load (bench's BenchmarkAuthenticatedGET).
	deep bool
}

// cloner is implemented by user types that copy themselves deeply.
type cloner[PT any] interface {
	Clone() PT
}

// NewUsers returns an empty user store for the user type T:
//
//	users := memstore.NewUsers[MyUser]() // a loginkit.UserStore[*MyUser]
//
// The options are accepted for symmetry with NewSessions and NewTokens;
// users have no expiry, so the clock is not used.
func NewUsers[T any, PT interface {
	*T
	loginkit.AccountUser
}](opts ...Option) *Users[T, PT] {
	_ = newConfig(opts)
	var zero PT
	_, deep := any(zero).(cloner[PT])
	return &Users[T, PT]{
		byID:    make(map[string]PT),
		byEmail: make(map[string]string),
		byName:  make(map[string]string),
		deep:    deep,
	}
}

// clone copies u (see Users).
func (s *Users[T, PT]) clone(u PT) PT {
	if s.deep {
		return any(u).(cloner[PT]).Clone()
	}
	c := new(T)
	*c = *u
	return c
}

// errs makes the package's errors.
const errs = storekit.Errs("memstore")

// prepare copies u for storing and sets its login keys.
func (s *Users[T, PT]) prepare(op string, u PT) (PT, *loginkit.Account, error) {
	if u == nil {
		return nil, nil, fmt.Errorf("memstore: %s user: nil user: %w", op, loginkit.ErrInvalid)
	}
	c := s.clone(u)
	a := c.LoginAccount()
	if err := errs.CheckAccount(op+" user", a); err != nil {
		return nil, nil, err
	}
	return c, a, nil
}

// taken reports which login key of a is held by a user other than a.
func (s *Users[T, PT]) taken(a *loginkit.Account) string {
	if id, ok := s.byEmail[a.EmailKey]; ok && a.EmailKey != "" && id != a.ID {
		return "email"
	}
	if id, ok := s.byName[a.UsernameKey]; ok && a.UsernameKey != "" && id != a.ID {
		return "username"
	}
	return ""
}

func (s *Users[T, PT]) index(a *loginkit.Account) {
	if a.EmailKey != "" {
		s.byEmail[a.EmailKey] = a.ID
	}
	if a.UsernameKey != "" {
		s.byName[a.UsernameKey] = a.ID
	}
}

func (s *Users[T, PT]) unindex(a *loginkit.Account) {
	if a.EmailKey != "" {
		delete(s.byEmail, a.EmailKey)
	}
	if a.UsernameKey != "" {
		delete(s.byName, a.UsernameKey)
	}
}

// LoadUser implements loginkit.UserLoader. A missing user is
// loginkit.ErrNotFound.
func (s *Users[T, PT]) LoadUser(ctx context.Context, id string) (PT, error) {
	if err := errs.Ready(ctx, "load user", nil); err != nil {
		return nil, err
	}
	s.mu.RLock()
	u, ok := s.byID[id]
	if ok {
		u = s.clone(u)
	}
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("memstore: user %q: %w", id, loginkit.ErrNotFound)
	}
	return u, nil
}

// FindByLogin implements loginkit.UserStore: the user whose normalised
// email, or else username, equals loginkit.NormalizeLogin(login).
func (s *Users[T, PT]) FindByLogin(ctx context.Context, login string) (PT, error) {
	if err := errs.Ready(ctx, "find user", nil); err != nil {
		return nil, err
	}
	key := loginkit.NormalizeLogin(login)
	if key != "" {
		s.mu.RLock()
		id, ok := s.byEmail[key]
		if !ok {
			id, ok = s.byName[key]
		}
		var u PT
		if ok {
			u = s.clone(s.byID[id])
		}
		s.mu.RUnlock()
		if ok {
			return u, nil
		}
	}
	return nil, fmt.Errorf("memstore: user with login %q: %w", login, loginkit.ErrNotFound)
}

// Create implements loginkit.UserStore: it stores a copy of u, first
// giving u a new ID from loginkit.NewID when its ID is empty. An ID,
// email or username already taken is loginkit.ErrDuplicate; a username
// containing '@' is loginkit.ErrInvalid.
func (s *Users[T, PT]) Create(ctx context.Context, u PT) error {
	return s.write(ctx, "create", u, func(c PT, a *loginkit.Account) error {
		if a.ID == "" {
			for a.ID == "" || s.byID[a.ID] != nil {
				a.ID = loginkit.NewID()
			}
		} else if _, ok := s.byID[a.ID]; ok {
			return fmt.Errorf("memstore: create user %q: ID in use: %w", a.ID, loginkit.ErrDuplicate)
		}
		if what := s.taken(a); what != "" {
			return fmt.Errorf("memstore: create user: %s in use: %w", what, loginkit.ErrDuplicate)
		}
		s.byID[a.ID] = c
		s.index(a)
		u.LoginAccount().ID = a.ID
		return nil
	})
}

// Update implements loginkit.UserStore: it replaces every field of the
// stored user with a copy of u's. A missing user is loginkit.ErrNotFound;
// an email or username another user has is loginkit.ErrDuplicate.
func (s *Users[T, PT]) Update(ctx context.Context, u PT) error {
	return s.write(ctx, "update", u, func(c PT, a *loginkit.Account) error {
		return s.replace("update", c, a)
	})
}

// write is the body of Create and Update (op): it stores c, a copy of u
// whose account is a, with store, under the write lock.
func (s *Users[T, PT]) write(ctx context.Context, op string, u PT, store func(c PT, a *loginkit.Account) error) error {
	if err := errs.Ready(ctx, op+" user", nil); err != nil {
		return err
	}
	c, a, err := s.prepare(op, u)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return store(c, a)
}

// replace stores c over the user with a.ID; the caller holds the write
// lock.
func (s *Users[T, PT]) replace(op string, c PT, a *loginkit.Account) error {
	old, ok := s.byID[a.ID]
	if !ok {
		return fmt.Errorf("memstore: %s user %q: %w", op, a.ID, loginkit.ErrNotFound)
	}
	if what := s.taken(a); what != "" {
		return fmt.Errorf("memstore: %s user %q: %s in use: %w", op, a.ID, what, loginkit.ErrDuplicate)
	}
	s.unindex(old.LoginAccount())
	s.byID[a.ID] = c
	s.index(a)
	return nil
}

// UpdateUser implements loginkit.UserUpdater: it calls change on a copy
// of the stored user and stores the result, holding the store's write
// lock throughout, so no other write can come in between. change runs
// exactly once; when it returns an error nothing is stored.
func (s *Users[T, PT]) UpdateUser(ctx context.Context, id string, change func(u PT) error) (PT, error) {
	if err := errs.Ready(ctx, "update user", nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("memstore: update user %q: %w", id, loginkit.ErrNotFound)
	}
	u := s.clone(cur)
	if err := change(u); err != nil {
		return nil, err
	}
	if u == nil || u.LoginAccount().ID != id {
		return nil, fmt.Errorf("memstore: update user %q: change may not alter the ID: %w", id, loginkit.ErrInvalid)
	}
	c, a, err := s.prepare("update", u)
	if err != nil {
		return nil, err
	}
	if err := s.replace("update", c, a); err != nil {
		return nil, err
	}
	return s.clone(c), nil
}

// Delete implements loginkit.UserStore. Deleting a missing user is not an
// error.
func (s *Users[T, PT]) Delete(ctx context.Context, id string) error {
	if err := errs.Ready(ctx, "delete user", nil); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byID[id]; ok {
		s.unindex(old.LoginAccount())
		delete(s.byID, id)
	}
	return nil
}

// List implements loginkit.UserStore: one page of users ordered by
// CreatedAt, then ID, and the total number of users. A Limit of 0 means
// 50; larger limits are capped at 1000; a negative Offset counts as 0.
func (s *Users[T, PT]) List(ctx context.Context, opts loginkit.ListOptions) ([]PT, int, error) {
	offset, limit, err := errs.ReadyPage(ctx, "list users", nil, opts)
	if err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	all := make([]PT, 0, len(s.byID))
	for _, u := range s.byID {
		all = append(all, u)
	}
	slices.SortFunc(all, func(a, b PT) int {
		x, y := a.LoginAccount(), b.LoginAccount()
		return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(x.ID, y.ID))
	})
	start := min(offset, len(all))
	end := min(start+limit, len(all))
	page := make([]PT, 0, end-start)
	for _, u := range all[start:end] {
		page = append(page, s.clone(u))
	}
	return page, len(all), nil
}
